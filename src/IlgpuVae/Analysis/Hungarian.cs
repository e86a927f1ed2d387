namespace IlgpuVae.Analysis;

/// <summary>
/// The Hungarian (Kuhn-Munkres) algorithm for the rectangular linear assignment problem, O(r^2 c) with
/// row/column potentials and shortest augmenting paths.
/// </summary>
internal static class Hungarian
{
    /// <summary>
    /// Finds a one-to-one assignment of rows to columns with minimum total cost. With more rows than columns,
    /// only as many rows as there are columns are assigned.
    /// </summary>
    /// <param name="cost">Cost matrix (rows x columns); entries must be finite.</param>
    /// <returns>For each row, its assigned column, or -1 if the row is unassigned (only when rows exceed columns).</returns>
    public static int[] Solve(double[,] cost)
    {
        ArgumentNullException.ThrowIfNull(cost);
        int rows = cost.GetLength(0);
        int cols = cost.GetLength(1);
        foreach (double c in cost)
        {
            if (!double.IsFinite(c))
            {
                throw new ArgumentException("Costs must be finite.", nameof(cost));
            }
        }

        if (rows <= cols)
        {
            return SolveWide(rows, cols, (r, c) => cost[r, c]);
        }

        int[] colToRow = SolveWide(cols, rows, (r, c) => cost[c, r]);
        var rowToCol = new int[rows];
        rowToCol.AsSpan().Fill(-1);
        for (int c = 0; c < cols; c++)
        {
            rowToCol[colToRow[c]] = c;
        }

        return rowToCol;
    }

    /// <summary>Minimum total cost of the assignment returned by <see cref="Solve"/>.</summary>
    /// <param name="cost">Cost matrix.</param>
    /// <param name="assignment">Row-to-column assignment, -1 for unassigned rows.</param>
    /// <returns>The summed cost of the assigned cells.</returns>
    public static double TotalCost(double[,] cost, int[] assignment)
    {
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(assignment);
        double total = 0;
        for (int r = 0; r < assignment.Length; r++)
        {
            if (assignment[r] >= 0)
            {
                total += cost[r, assignment[r]];
            }
        }

        return total;
    }

    /// <summary>rows &lt;= cols. Classic 1-indexed formulation; column 0 is the virtual start.</summary>
    private static int[] SolveWide(int rows, int cols, Func<int, int, double> cost)
    {
        var u = new double[rows + 1];
        var v = new double[cols + 1];
        var match = new int[cols + 1]; // match[j] = row (1-based) assigned to column j, 0 if none.
        var way = new int[cols + 1];
        var minv = new double[cols + 1];
        var used = new bool[cols + 1];
        for (int i = 1; i <= rows; i++)
        {
            match[0] = i;
            int j0 = 0;
            Array.Fill(minv, double.PositiveInfinity);
            Array.Clear(used);
            do
            {
                used[j0] = true;
                int i0 = match[j0];
                double delta = double.PositiveInfinity;
                int j1 = 0;
                for (int j = 1; j <= cols; j++)
                {
                    if (used[j])
                    {
                        continue;
                    }

                    double cur = cost(i0 - 1, j - 1) - u[i0] - v[j];
                    if (cur < minv[j])
                    {
                        minv[j] = cur;
                        way[j] = j0;
                    }

                    if (minv[j] < delta)
                    {
                        delta = minv[j];
                        j1 = j;
                    }
                }

                for (int j = 0; j <= cols; j++)
                {
                    if (used[j])
                    {
                        u[match[j]] += delta;
                        v[j] -= delta;
                    }
                    else
                    {
                        minv[j] -= delta;
                    }
                }

                j0 = j1;
            }
            while (match[j0] != 0);

            do
            {
                int j1 = way[j0];
                match[j0] = match[j1];
                j0 = j1;
            }
            while (j0 != 0);
        }

        var result = new int[rows];
        for (int j = 1; j <= cols; j++)
        {
            if (match[j] != 0)
            {
                result[match[j] - 1] = j - 1;
            }
        }

        return result;
    }
}
