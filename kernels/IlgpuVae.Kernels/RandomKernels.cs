using ILGPU;
using ILGPU.Algorithms;

namespace IlgpuVae.Kernels;

/// <summary>
/// A counter-based N(0, 1) generator: element i of the draw for (seed, step) is a pure function of
/// (seed, step, i), so every resumed run produces the same noise without carrying state, and every device the same
/// numbers to within 4e-6 of the exact Box-Muller value of the same two uniforms (so any two devices agree to 8e-6;
/// the values lie within +-5.8). Only integer hashing, + - * /, sqrt and the float/int bit casts run here:
/// no device log, sin or cos, whose CUDA forms (<c>lg2.approx</c>, <c>sin.approx</c>, <c>cos.approx</c>) lose
/// accuracy near log(1) and outside [-pi, pi]. What still differs between devices is rounding: CUDA's contraction
/// of a * b + c into one FMA, and its square root.
/// </summary>
internal static class RandomKernels
{
    /// <summary>
    /// Fills <c>output</c> with N(0, 1) numbers: pair p = (2p, 2p + 1) comes from one 64-bit hash of
    /// (seed, step, p) split into two 24-bit uniforms and sent through Box-Muller.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="output">The output vector.</param>
    /// <param name="key">The stream key from <see cref="StreamKey"/>.</param>
    public static void NormalKernel(Index1D index, int stride, ArrayView<float> output, ulong key)
    {
        int pairs = (output.IntLength + 1) / 2;
        for (int p = index; p < pairs; p += stride)
        {
            NormalPair(key, (ulong)p, out float first, out float second);
            output[2 * p] = first;
            if (2 * p + 1 < output.IntLength)
                output[2 * p + 1] = second;
        }
    }

    /// <summary>The key of the stream for one (seed, step).</summary>
    /// <param name="seed">The run's seed.</param>
    /// <param name="step">The draw's counter (a training step, or any other distinct number).</param>
    /// <returns>A 64-bit key.</returns>
    public static ulong StreamKey(ulong seed, ulong step) =>
        Mix(Mix(seed ^ 0x2545F4914F6CDD1DUL) + 0x9E3779B97F4A7C15UL * (step + 1));

    /// <summary>Two N(0, 1) numbers for pair <paramref name="pair"/> of the stream <paramref name="key"/>.</summary>
    /// <param name="key">The stream key.</param>
    /// <param name="pair">The pair's index.</param>
    /// <param name="first">The cosine branch of Box-Muller.</param>
    /// <param name="second">The sine branch.</param>
    public static void NormalPair(ulong key, ulong pair, out float first, out float second)
    {
        ulong h = Mix(key ^ (pair * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL));
        // u1 = (N + 1) / 2^24 in (0, 1] keeps log finite; u2 = n / 2^24 in [0, 1).
        BoxMuller((uint)(h >> 40) + 1u, (uint)((h >> 16) & 0xFFFFFFUL), out first, out second);
    }

    /// <summary>
    /// Box-Muller for u1 = <paramref name="radiusCount"/> / 2^24 and u2 = <paramref name="angleCount"/> / 2^24:
    /// <c>first = sqrt(-2 ln u1) cos(2 pi u2)</c>, <c>second = sqrt(-2 ln u1) sin(2 pi u2)</c>, within 4e-6 of the
    /// exact values (checked over every u1 and every u2 in the tests).
    /// </summary>
    /// <param name="radiusCount">u1 times 2^24, in [1, 2^24].</param>
    /// <param name="angleCount">u2 times 2^24, in [0, 2^24).</param>
    /// <param name="first">The cosine branch.</param>
    /// <param name="second">The sine branch.</param>
    public static void BoxMuller(uint radiusCount, uint angleCount, out float first, out float second)
    {
        float radius = XMath.Sqrt(-2f * LogCount(radiusCount));
        // The angle is reduced exactly on the integer: quadrant q (nearest multiple of pi / 2) and a remainder f
        // with |f| <= 2^21, so theta = f pi / 2^23 lies in [-pi / 4, pi / 4] with only rounding error.
        int q = (int)((angleCount + (1u << 21)) >> 22);
        int f = (int)angleCount - (q << 22);
        float theta = f * (3.14159265358979323846f / 8388608f);
        float t2 = theta * theta;
        // Taylor series; the first omitted terms are below 2e-9 for |theta| <= pi / 4.
        float sin = theta * (1f + t2 * (-1f / 6f + t2 * (1f / 120f + t2 * (-1f / 5040f + t2 * (1f / 362880f)))));
        float cos = 1f + t2 * (-0.5f + t2 * (1f / 24f + t2 * (-1f / 720f + t2 * (1f / 40320f + t2 * (-1f / 3628800f)))));
        // (cos, sin) of q pi / 2 + theta.
        int quadrant = q & 3;
        float c = quadrant == 0 ? cos : quadrant == 1 ? -sin : quadrant == 2 ? -cos : sin;
        float s = quadrant == 0 ? sin : quadrant == 1 ? cos : quadrant == 2 ? -sin : -cos;
        first = radius * c;
        second = radius * s;
    }

    /// <summary>
    /// ln(count / 2^24) for count in [1, 2^24], accurate relative to the result even next to u1 = 1, where a
    /// log of the float u1 would cancel: count = m 2^e with m in [sqrt(2) / 2, sqrt(2)), and
    /// ln m = 2 atanh((m - 1) / (m + 1)).
    /// </summary>
    /// <param name="count">The count.</param>
    /// <returns>The logarithm.</returns>
    private static float LogCount(uint count)
    {
        // count <= 2^24 converts to float exactly; its exponent field gives e, its mantissa bits m in [1, 2).
        uint bits = Interop.FloatAsInt((float)count);
        int exponent = (int)(bits >> 23) - 127;
        float m = Interop.IntAsFloat((bits & 0x7FFFFFu) | 0x3F800000u);
        if (m > 1.41421356f)
        {
            m *= 0.5f;
            exponent++;
        }
        float t = (m - 1f) / (m + 1f);
        float t2 = t * t;
        // |t| <= 0.172: the first omitted term, 2 t^11 / 11, is below 3e-9.
        float series = 1f + t2 * (1f / 3f + t2 * (1f / 5f + t2 * (1f / 7f + t2 * (1f / 9f))));
        return (exponent - 24) * 0.693147180559945309f + 2f * t * series;
    }

    /// <summary>The SplitMix64 finaliser, a bijective 64-bit mix.</summary>
    /// <param name="z">The input.</param>
    /// <returns>The mixed value.</returns>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
