using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace IlgpuVae.Compute;

/// <summary>
/// exp and log on 16 floats at a time, accurate to a few ulps over the ranges the losses use. The BCL's
/// Vector512.Exp/Log measured no faster than scalar MathF here, which made the fused BCE the slowest
/// non-GEMM op of a training step.
/// </summary>
internal static class VectorMath
{
    private const float Log2E = 1.44269504088896341f;
    // ln 2 split so that n * Ln2High is exact for |n| < 2^8.
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;

    /// <summary>exp(x) for x &lt;= 0; below -87.3 (exp = 1.2e-38, near the smallest normal float) it is 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpNonPositive(Vector512<float> x) => Exp(x);

    /// <summary>
    /// exp(x): below -87.3 (exp = 1.2e-38, near the smallest normal float) it is 0, above 88 (exp = 1.7e38) it is
    /// +infinity, and NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var nan = ~Vector512.Equals(x, x);
        var huge = Vector512.GreaterThan(x, Vector512.Create(88f));
        // Below -87.3 the result is under the smallest normal float: clamp, then zero it at the end.
        var tiny = Vector512.LessThan(x, Vector512.Create(-87.3f));
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(-87.3f)), Vector512.Create(88f));
        // x = n ln 2 + r with |r| <= ln 2 / 2, so exp(x) = 2^n exp(r).
        var n = Vector512.Round(x * Log2E);
        var r = x - n * Ln2High - n * Ln2Low;
        // Taylor series of exp(r) to r^7: the truncation error is below 2^-26 for |r| <= 0.347.
        var p = Vector512.Create(1f / 5040f);
        p = p * r + Vector512.Create(1f / 720f);
        p = p * r + Vector512.Create(1f / 120f);
        p = p * r + Vector512.Create(1f / 24f);
        p = p * r + Vector512.Create(1f / 6f);
        p = p * r + Vector512.Create(0.5f);
        p = p * r + Vector512<float>.One;
        p = p * r + Vector512<float>.One;
        // Scale by 2^n through the exponent bits.
        var scaled = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle() * p;
        scaled = Vector512.ConditionalSelect(tiny, Vector512<float>.Zero, scaled);
        scaled = Vector512.ConditionalSelect(huge, Vector512.Create(float.PositiveInfinity), scaled);
        return Vector512.ConditionalSelect(nan, Vector512.Create(float.NaN), scaled);
    }

    /// <summary>log(y) for y in [1, 2].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LogOneToTwo(Vector512<float> y)
    {
        // Halve y above sqrt(2) so that t = (y - 1) / (y + 1) stays within [-0.172, 0.172].
        var high = Vector512.GreaterThan(y, Vector512.Create(1.41421356f));
        var k = Vector512.ConditionalSelect(high, Vector512<float>.One, Vector512<float>.Zero);
        y = Vector512.ConditionalSelect(high, y * 0.5f, y);
        var t = (y - Vector512<float>.One) / (y + Vector512<float>.One);
        var t2 = t * t;
        // log(y) = 2 atanh(t) = 2 (t + t^3/3 + t^5/5 + t^7/7 + t^9/9); the next term is below 2^-28.
        var s = Vector512.Create(1f / 9f);
        s = s * t2 + Vector512.Create(1f / 7f);
        s = s * t2 + Vector512.Create(1f / 5f);
        s = s * t2 + Vector512.Create(1f / 3f);
        s = s * t2 + Vector512<float>.One;
        return k * 0.693147181f + 2f * t * s;
    }
}
