using System.Runtime.Intrinsics;
using IlgpuVae.Compute;
using Xunit;

namespace IlgpuVae.Tests.Compute;

public sealed class VectorMathTests
{
    [Fact]
    public void ExpNonPositive_AcrossRange_MatchesDoubleWithinFewUlps()
    {
        if (!Vector512.IsHardwareAccelerated)
            return;
        var x = new float[16];
        for (double start = -100; start <= 0; start += 0.37)
        {
            for (int i = 0; i < 16; i++)
                x[i] = (float)Math.Min(0, start + i * 0.0231);
            var y = VectorMath.ExpNonPositive(Vector512.Create(x));
            for (int i = 0; i < 16; i++)
            {
                double expected = Math.Exp(x[i]);
                // Below -87.3 (exp = 1.2e-38, near the smallest normal float) the result is flushed to zero.
                if (x[i] < -87.3f)
                    Assert.Equal(0f, y[i]);
                else
                    Assert.True(Math.Abs(y[i] - expected) <= 4e-7 * expected, $"exp({x[i]}): {y[i]} vs {expected}");
            }
        }
    }

    [Fact]
    public void Exp_PositiveRangeOverflowAndNaN_MatchDouble()
    {
        if (!Vector512.IsHardwareAccelerated)
            return;
        var x = new float[16];
        for (double start = 0; start <= 100; start += 0.37)
        {
            for (int i = 0; i < 16; i++)
                x[i] = (float)(start + i * 0.0231);
            var y = VectorMath.Exp(Vector512.Create(x));
            for (int i = 0; i < 16; i++)
            {
                if (x[i] > 88f)
                    Assert.Equal(float.PositiveInfinity, y[i]);
                else
                    Assert.True(Math.Abs(y[i] - Math.Exp(x[i])) <= 4e-7 * Math.Exp(x[i]), $"exp({x[i]}): {y[i]} vs {Math.Exp(x[i])}");
            }
        }
        Assert.True(float.IsNaN(VectorMath.Exp(Vector512.Create(float.NaN))[3]));
    }

    [Fact]
    public void LogOneToTwo_AcrossRange_MatchesDoubleWithinFewUlps()
    {
        if (!Vector512.IsHardwareAccelerated)
            return;
        var y = new float[16];
        for (int block = 0; block < 200; block++)
        {
            for (int i = 0; i < 16; i++)
                y[i] = 1f + Math.Min(1f, (block * 16 + i) / 3199f);
            y[0] = block == 0 ? 1f + 1e-7f : y[0];
            var result = VectorMath.LogOneToTwo(Vector512.Create(y));
            for (int i = 0; i < 16; i++)
            {
                double expected = Math.Log(y[i]);
                Assert.True(Math.Abs(result[i] - expected) <= 2e-7 * Math.Max(expected, 1e-6) + 1e-12,
                    $"log({y[i]}): {result[i]} vs {expected}");
            }
        }
    }
}
