using IlgpuVae.Benchmarks;
using IlgpuVae.Compute;
using IlgpuVae.Models;
using Xunit;

namespace IlgpuVae.Tests.Benchmarks;

public sealed class TrainBenchmarkTests
{
    [Fact]
    public void FlopsPerImage_ConvVae_SixPerForwardMultiplyAddOfEveryConvolutionAndDenseLayer()
    {
        var config = VaeConfig.Convolutional();
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var network = new VaeNetwork(device, config, capacity: 2, seed: 1);
        // 1x28x28 -(4x4, stride 2)-> 32x14x14 -> 64x7x7 -> 400 -> [mu | logvar] 40; 20 -> 400 -> 3136, mirrored back.
        long conv0 = 14L * 14 * 32 * 1 * 16, conv1 = 7L * 7 * 64 * 32 * 16, dense = 3136L * 400;
        long forward = conv0 + conv1 + dense + 400 * 40 + 20 * 400 + dense + conv1 + conv0;
        Assert.Equal(6.0 * forward, Benchmark.FlopsPerImage(network.Graph.Layers, samples: 1));
    }

    [Fact]
    public void FlopsPerImage_Samples_CountTheDecoderOncePerSample()
    {
        var config = VaeConfig.Default;
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var network = new VaeNetwork(device, config, capacity: 10, seed: 1, maxSamples: 5);
        double encoder = 784 * 400 + 400 * 40, decoder = 20 * 400 + 400 * 784;
        Assert.Equal(6 * (encoder + 5 * decoder), Benchmark.FlopsPerImage(network.Graph.Layers, samples: 5));
    }

    [Fact]
    public void PeakGflops_OneThread_IsAPositiveRateOnTheThreadsAsked()
    {
        double one = Benchmark.PeakGflops(1, out int used);
        Assert.Equal(1, used);
        // Any CPU that runs .NET does more than a billion multiply-adds' worth of vector FLOPs a second on one core.
        Assert.True(double.IsFinite(one) && one > 1, $"{one} GFLOP/s");
        Assert.Throws<ArgumentOutOfRangeException>(() => Benchmark.PeakGflops(0, out _));
    }
}
