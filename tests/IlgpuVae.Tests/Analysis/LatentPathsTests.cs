using IlgpuVae.Analysis;
using Xunit;

namespace IlgpuVae.Tests.Analysis;

public sealed class LatentPathsTests
{
    private static double Norm(ReadOnlySpan<float> v)
    {
        double sum = 0;
        foreach (float x in v)
            sum += (double)x * x;
        return Math.Sqrt(sum);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LineAndSlerp_EndAtTheEndpoints(bool slerp)
    {
        float[] a = [1f, -2f, 0.5f], b = [-0.5f, 3f, 2f];
        var path = slerp ? LatentPaths.Slerp(a, b, 7) : LatentPaths.Line(a, b, 7);
        Assert.Equal(21, path.Length);
        for (int j = 0; j < 3; j++)
        {
            Assert.Equal(a[j], path[j], 5);
            Assert.Equal(b[j], path[18 + j], 5);
        }
    }

    [Fact]
    public void Line_IsEvenlySpaced()
    {
        var path = LatentPaths.Line([0f, 0f], [3f, -6f], 4);
        Assert.Equal([0f, 0f, 1f, -2f, 2f, -4f, 3f, -6f], path);
    }

    [Fact]
    public void Slerp_BetweenOrthogonalUnitVectors_StaysOnTheCircle()
    {
        // Quarter circle: at t the point is (cos(t pi/2), sin(t pi/2)), always of norm 1, where the line dips to 0.71.
        var path = LatentPaths.Slerp([1f, 0f], [0f, 1f], 5);
        for (int i = 0; i < 5; i++)
        {
            double angle = i / 4.0 * Math.PI / 2;
            Assert.Equal(Math.Cos(angle), path[2 * i], 6);
            Assert.Equal(Math.Sin(angle), path[2 * i + 1], 6);
        }
        var line = LatentPaths.Line([1f, 0f], [0f, 1f], 5);
        Assert.Equal(Math.Sqrt(0.5), Norm(line.AsSpan(4, 2)), 6);
    }

    [Fact]
    public void Slerp_WithEqualNorms_KeepsTheNorm()
    {
        var random = new Random(4);
        var a = Enumerable.Range(0, 20).Select(_ => (float)AnalysisData.Gaussian(random)).ToArray();
        var b = Enumerable.Range(0, 20).Select(_ => (float)AnalysisData.Gaussian(random)).ToArray();
        double scale = Norm(a) / Norm(b);
        for (int j = 0; j < 20; j++)
            b[j] = (float)(b[j] * scale);
        var path = LatentPaths.Slerp(a, b, 9);
        for (int i = 0; i < 9; i++)
            Assert.Equal(Norm(a), Norm(path.AsSpan(i * 20, 20)), 4);
    }

    [Fact]
    public void Slerp_Degenerate_FallsBackToTheLine()
    {
        // Parallel endpoints and a zero endpoint have no angle to walk along.
        Assert.Equal(LatentPaths.Line([1f, 1f], [2f, 2f], 3), LatentPaths.Slerp([1f, 1f], [2f, 2f], 3));
        Assert.Equal(LatentPaths.Line([0f, 0f], [2f, 1f], 3), LatentPaths.Slerp([0f, 0f], [2f, 1f], 3));
        Assert.All(LatentPaths.Slerp([1f, 0f], [-1f, 0f], 5), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void LineAndSlerp_BadArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => LatentPaths.Line([1f], [1f, 2f], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatentPaths.Line([1f], [2f], 1));
        Assert.Throws<ArgumentException>(() => LatentPaths.Slerp([], [], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatentPaths.Slerp([1f], [2f], 1));
    }

    [Fact]
    public void ClassMeans_AveragePerClass_AndCountEmptyOnes()
    {
        float[] codes = [1, 2, 3, 4, 10, 10, -1, 0];
        var (means, counts) = LatentPaths.ClassMeans(codes, [0, 0, 2, 2], 2, 3);
        Assert.Equal([2f, 3f, 0f, 0f, 4.5f, 5f], means);
        Assert.Equal([2, 0, 2], counts);
        Assert.Throws<ArgumentOutOfRangeException>(() => LatentPaths.ClassMeans(codes, [0, 0, 3, 2], 2, 3));
    }

    [Fact]
    public void Plane_RowsTopDownColumnsLeftRight_OtherComponentsZero()
    {
        double[] coordinates = [-1, 0.5, 2];
        var codes = LatentPaths.Plane(coordinates, LatentPaths.Axis(4, 1), LatentPaths.Axis(4, 3));
        Assert.Equal(9 * 4, codes.Length);
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++)
            {
                var code = codes.AsSpan((r * 3 + c) * 4, 4);
                Assert.Equal([0f, (float)coordinates[c], 0f, (float)coordinates[2 - r]], code.ToArray());
            }
        Assert.Throws<ArgumentOutOfRangeException>(() => LatentPaths.Axis(4, 4));
    }
}
