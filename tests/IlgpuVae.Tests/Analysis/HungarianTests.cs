using IlgpuVae.Analysis;
using Xunit;

namespace IlgpuVae.Tests.Analysis;

/// <summary>Hungarian algorithm against exhaustive search.</summary>
public sealed class HungarianTests
{
    /// <summary>Random square and rectangular matrices: the cost equals the brute-force optimum and the assignment is one-to-one.</summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 4)]
    [InlineData(6, 6)]
    [InlineData(3, 6)]
    [InlineData(6, 3)]
    public void MatchesBruteForce(int rows, int cols)
    {
        var rng = new Random((rows * 10) + cols);
        for (int trial = 0; trial < 20; trial++)
        {
            var cost = new double[rows, cols];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++)
                {
                    cost[r, c] = rng.Next(-20, 50) + (rng.NextDouble() < 0.3 ? 0.5 : 0);
                }
            }

            int[] match = Hungarian.Solve(cost);
            Assert.Equal(rows, match.Length);
            int[] used = match.Where(c => c >= 0).ToArray();
            Assert.Equal(Math.Min(rows, cols), used.Length);
            Assert.Equal(used.Length, used.Distinct().Count());
            Assert.Equal(BruteForce(cost), Hungarian.TotalCost(cost, match), 9);
        }
    }

    private static double BruteForce(double[,] cost)
    {
        int rows = cost.GetLength(0);
        int cols = cost.GetLength(1);
        double best = double.PositiveInfinity;
        var usedRows = new bool[rows];
        var usedCols = new bool[cols];

        // Assign min(rows, cols) pairs: iterate over the smaller side in order, choosing a partner on the larger side.
        void Search(int index, double sum)
        {
            if (index == Math.Min(rows, cols))
            {
                best = Math.Min(best, sum);
                return;
            }

            for (int other = 0; other < Math.Max(rows, cols); other++)
            {
                if (rows <= cols ? usedCols[other] : usedRows[other])
                {
                    continue;
                }

                if (rows <= cols)
                {
                    usedCols[other] = true;
                    Search(index + 1, sum + cost[index, other]);
                    usedCols[other] = false;
                }
                else
                {
                    usedRows[other] = true;
                    Search(index + 1, sum + cost[other, index]);
                    usedRows[other] = false;
                }
            }
        }

        Search(0, 0);
        return best;
    }
}
