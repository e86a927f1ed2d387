using ILGPU;
using ILGPU.Algorithms;

namespace IlgpuVae.Kernels;

/// <summary>
/// A counter-based N(0, 1) generator: element i of the draw for (seed, step) is a pure function of
/// (seed, step, i), so every device and every resumed run produces the same noise without carrying state.
/// </summary>
public static class RandomKernels
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
        // u1 in (0, 1] keeps log finite; u2 in [0, 1).
        float u1 = ((h >> 40) + 1UL) * (1f / 16777216f);
        float u2 = ((h >> 16) & 0xFFFFFFUL) * (1f / 16777216f);
        float radius = XMath.Sqrt(-2f * XMath.Log(u1));
        float angle = 6.28318530717958647692f * u2;
        first = radius * XMath.Cos(angle);
        second = radius * XMath.Sin(angle);
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
