using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>
/// The host twin of <see cref="RandomKernels.NormalPair"/>: the same hash and Box-Muller with the BCL's MathF,
/// so the vectorised ops draw the kernels' numbers (equal up to the last bits of log, sqrt and cos).
/// </summary>
internal static class HostRandom
{
    /// <summary>Two N(0, 1) numbers for pair <paramref name="pair"/> of the stream <paramref name="key"/>.</summary>
    /// <param name="key">The stream key from <see cref="RandomKernels.StreamKey"/>.</param>
    /// <param name="pair">The pair's index.</param>
    /// <param name="first">The cosine branch.</param>
    /// <param name="second">The sine branch.</param>
    public static void NormalPair(ulong key, ulong pair, out float first, out float second)
    {
        ulong h = RandomKernels.Mix(key ^ (pair * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL));
        float u1 = ((h >> 40) + 1UL) * (1f / 16777216f);
        float u2 = ((h >> 16) & 0xFFFFFFUL) * (1f / 16777216f);
        float radius = MathF.Sqrt(-2f * MathF.Log(u1));
        float angle = 6.28318530717958647692f * u2;
        first = radius * MathF.Cos(angle);
        second = radius * MathF.Sin(angle);
    }
}
