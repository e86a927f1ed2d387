using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>
/// The host twin of <see cref="RandomKernels.NormalPair"/>: the same hash and the same two uniforms, sent through
/// Box-Muller with the BCL's MathF. It stays as the vectorised ops first drew their noise, so their runs remain
/// bit-identical to earlier versions; like the kernels it is within 4e-6 of the exact Box-Muller value of the two
/// uniforms (tests check every u1 and every u2), so host and device draws agree to 8e-6.
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
        BoxMuller((uint)(h >> 40) + 1u, (uint)((h >> 16) & 0xFFFFFFUL), out first, out second);
    }

    /// <summary>Box-Muller for u1 = radiusCount / 2^24 in (0, 1] and u2 = angleCount / 2^24 in [0, 1).</summary>
    /// <param name="radiusCount">u1 times 2^24.</param>
    /// <param name="angleCount">u2 times 2^24.</param>
    /// <param name="first">The cosine branch.</param>
    /// <param name="second">The sine branch.</param>
    internal static void BoxMuller(uint radiusCount, uint angleCount, out float first, out float second)
    {
        float u1 = radiusCount * (1f / 16777216f);
        float u2 = angleCount * (1f / 16777216f);
        float radius = MathF.Sqrt(-2f * MathF.Log(u1));
        float angle = 6.28318530717958647692f * u2;
        first = radius * MathF.Cos(angle);
        second = radius * MathF.Sin(angle);
    }
}
