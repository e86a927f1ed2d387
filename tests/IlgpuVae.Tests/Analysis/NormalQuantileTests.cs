using IlgpuVae.Analysis;
using Xunit;

namespace IlgpuVae.Tests.Analysis;

public sealed class NormalQuantileTests
{
    // Phi(x) by Simpson's rule on the density from 0 to x: independent of the algorithm under test.
    private static double Cdf(double x)
    {
        const int intervals = 20000;
        double h = x / intervals, sum = 0;
        for (int i = 0; i <= intervals; i++)
        {
            double t = i * h, weight = i == 0 || i == intervals ? 1 : i % 2 == 1 ? 4 : 2;
            sum += weight * Math.Exp(-t * t / 2);
        }
        return 0.5 + sum * h / 3 / Math.Sqrt(2 * Math.PI);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.6)]
    [InlineData(0.9)]
    [InlineData(0.975)]
    [InlineData(0.025)]
    [InlineData(0.0005)]
    [InlineData(0.9999)]
    [InlineData(1e-6)]
    public void InverseCdf_ThroughIntegratedDensity_GivesBackP(double p)
    {
        double x = NormalQuantile.InverseCdf(p);
        Assert.Equal(p, Cdf(x), 1e-12);
    }

    [Fact]
    public void InverseCdf_KnownQuantiles()
    {
        Assert.Equal(0.0, NormalQuantile.InverseCdf(0.5), 15);
        Assert.Equal(1.959963984540054, NormalQuantile.InverseCdf(0.975), 12);
        Assert.Equal(-1.2815515655446004, NormalQuantile.InverseCdf(0.1), 12);
        // The far tail (r > 5 branch): Phi(-7) = 1.279812543885835e-12.
        Assert.Equal(-7.0, NormalQuantile.InverseCdf(1.279812543885835e-12), 9);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void InverseCdf_OutsideOpenInterval_Throws(double p) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => NormalQuantile.InverseCdf(p));

    [Fact]
    public void Grid_EqualProbabilityCells_AscendingAndSymmetric()
    {
        var grid = NormalQuantile.Grid(20);
        Assert.Equal(20, grid.Length);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(-grid[19 - i], grid[i], 12);
            Assert.Equal((i + 0.5) / 20, Cdf(grid[i]), 10);
            if (i > 0)
                Assert.True(grid[i] > grid[i - 1]);
        }
        Assert.Equal(0.0, NormalQuantile.Grid(1)[0], 15);
    }
}
