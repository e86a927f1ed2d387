using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;

namespace IlgpuVae.Tests.Compute;

/// <summary>
/// The counter-based N(0, 1) generator gives the same numbers on every device to within a stated tolerance: the
/// kernels' Box-Muller (no device log, sin or cos) and the host's (MathF) are each within
/// <see cref="Tolerance"/> of the exact value of the same two uniforms, checked over every u1 and every u2.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class NoiseTests
{
    /// <summary>The bound RandomKernels' documentation states, per draw, against the exact Box-Muller value.</summary>
    private const double Tolerance = 4e-6;
    private const uint Counts = 1u << 24;

    private static (double First, double Second) Exact(uint radiusCount, uint angleCount)
    {
        double radius = Math.Sqrt(-2 * Math.Log(radiusCount / (double)Counts));
        double angle = 2 * Math.PI * (angleCount / (double)Counts);
        return (radius * Math.Cos(angle), radius * Math.Sin(angle));
    }

    private delegate void BoxMuller(uint radiusCount, uint angleCount, out float first, out float second);

    public static TheoryData<string> Generators => new() { "kernel", "host" };

    private static BoxMuller Generator(string name) => name == "kernel" ? RandomKernels.BoxMuller : HostRandom.BoxMuller;

    [Theory]
    [MemberData(nameof(Generators))]
    public void BoxMuller_EveryAngleAtTheLargestRadius_WithinTolerance(string generator)
    {
        // radiusCount 1 gives the largest radius (5.77), where an angle error costs the most.
        var boxMuller = Generator(generator);
        double worst = 0;
        for (uint n = 0; n < Counts; n++)
        {
            boxMuller(1, n, out float first, out float second);
            var (c, s) = Exact(1, n);
            worst = Math.Max(worst, Math.Max(Math.Abs(first - c), Math.Abs(second - s)));
        }
        Assert.True(worst <= Tolerance, $"{generator}: worst error {worst:G3}");
    }

    [Theory]
    [MemberData(nameof(Generators))]
    public void BoxMuller_EveryRadius_WithinTolerance(string generator)
    {
        // Angle 0 gives (radius, 0); angle 2^22 (pi / 2) gives (0, radius) through the other branch.
        var boxMuller = Generator(generator);
        double worst = 0;
        for (uint count = 1; count <= Counts; count++)
        {
            uint angle = (count & 1) == 0 ? 0u : 1u << 22;
            boxMuller(count, angle, out float first, out float second);
            var (c, s) = Exact(count, angle);
            worst = Math.Max(worst, Math.Max(Math.Abs(first - c), Math.Abs(second - s)));
        }
        Assert.True(worst <= Tolerance, $"{generator}: worst error {worst:G3}");
    }

    [Fact]
    public void BoxMuller_EdgesOfTheRange_AreExactWhereTheyShouldBe()
    {
        // u1 = 1: radius 0, both numbers zero (no NaN from a log rounding above 0).
        RandomKernels.BoxMuller(Counts, 12345, out float first, out float second);
        Assert.Equal(0f, first);
        Assert.Equal(0f, second);
        // The quadrant boundaries: cos(0) = 1, cos(pi / 2) = 0, cos(pi) = -1, cos(3 pi / 2) = 0, exactly.
        float radius = (float)Math.Sqrt(-2 * Math.Log(0.5));
        for (uint q = 0; q < 4; q++)
        {
            RandomKernels.BoxMuller(Counts / 2, q << 22, out first, out second);
            var (c, s) = Exact(Counts / 2, q << 22);
            Assert.Equal(c, first, 1e-6 * radius);
            Assert.Equal(s, second, 1e-6 * radius);
        }
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void Normal_EveryImplementation_WithinToleranceOfExact(string impl)
    {
        const int length = 20_001;
        ulong key = RandomKernels.StreamKey(3, 11);
        With(impl, (acc, ops) =>
        {
            using var output = acc.Poisoned(length);
            ops.Normal(output.V(length), 3, 11);
            var values = output.Read(ops, length);
            for (int i = 0; i < length; i++)
            {
                var (radiusCount, angleCount) = Uniforms(key, (ulong)(i / 2));
                var (c, s) = Exact(radiusCount, angleCount);
                double exact = i % 2 == 0 ? c : s;
                Assert.True(Math.Abs(values[i] - exact) <= Tolerance, $"{impl}[{i}]: {values[i]:R} vs exact {exact:R}");
            }
        });
    }

    [CudaFact]
    public void Normal_Cuda_WithinToleranceOfExact()
    {
        const int length = 1 << 20;
        ulong key = RandomKernels.StreamKey(3, 11);
        With("cuda", (acc, ops) =>
        {
            using var output = acc.Poisoned(length);
            ops.Normal(output.V(length), 3, 11);
            var values = output.Read(ops, length);
            for (int i = 0; i < length; i++)
            {
                var (radiusCount, angleCount) = Uniforms(key, (ulong)(i / 2));
                var (c, s) = Exact(radiusCount, angleCount);
                double exact = i % 2 == 0 ? c : s;
                Assert.True(Math.Abs(values[i] - exact) <= Tolerance, $"cuda[{i}]: {values[i]:R} vs exact {exact:R}");
            }
        });
    }

    // The same hash as RandomKernels.NormalPair, written out here so the test does not trust the code it checks.
    private static (uint RadiusCount, uint AngleCount) Uniforms(ulong key, ulong pair)
    {
        ulong h = RandomKernels.Mix(key ^ (pair * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL));
        return ((uint)(h >> 40) + 1u, (uint)((h >> 16) & 0xFFFFFFUL));
    }
}
