namespace IlgpuVae.Analysis;

/// <summary>Argument checks shared by the analysis routines.</summary>
internal static class AnalysisInput
{
    /// <summary>Checks a row-major point matrix and returns its row count.</summary>
    /// <param name="points">Row-major n x <paramref name="dims"/> values; all must be finite.</param>
    /// <param name="dims">Values per row, at least 1.</param>
    /// <param name="name">Parameter name for exceptions.</param>
    /// <returns>The number of rows.</returns>
    public static int Rows(float[] points, int dims, string name)
    {
        ArgumentNullException.ThrowIfNull(points, name);
        ArgumentOutOfRangeException.ThrowIfLessThan(dims, 1, nameof(dims));
        if (points.Length % dims != 0)
        {
            throw new ArgumentException(
                $"Length {points.Length} is not a multiple of dims = {dims}.", name);
        }

        for (int i = 0; i < points.Length; i++)
        {
            if (!float.IsFinite(points[i]))
            {
                throw new ArgumentException(
                    $"Value at index {i} (row {i / dims}, column {i % dims}) is {points[i]}; points must be finite.", name);
            }
        }

        return points.Length / dims;
    }

    /// <summary>Checks that <paramref name="labels"/> has exactly <paramref name="rows"/> entries.</summary>
    /// <param name="labels">Labels, one per row.</param>
    /// <param name="rows">Expected count.</param>
    /// <param name="name">Parameter name for exceptions.</param>
    public static void Labels(int[] labels, int rows, string name)
    {
        ArgumentNullException.ThrowIfNull(labels, name);
        if (labels.Length != rows)
        {
            throw new ArgumentException($"Expected {rows} labels (one per point) but got {labels.Length}.", name);
        }
    }
}
