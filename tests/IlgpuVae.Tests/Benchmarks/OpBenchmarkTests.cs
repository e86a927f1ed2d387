using IlgpuVae.Benchmarks;
using IlgpuVae.Compute;
using IlgpuVae.Models;
using Xunit;

namespace IlgpuVae.Tests.Benchmarks;

public sealed class OpBenchmarkTests
{
    [Fact]
    public void Run_SmallModel_OneTimedRowPerOpAtTheModelsShapes()
    {
        var config = new VaeConfig(36, [8], 3);
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var streamed = new List<OpTiming>();
        var rows = Benchmark.Ops(device, config, batch: 5, repeats: 2, streamed.Add);
        Assert.Equal(rows, streamed);
        Assert.Equal(9, rows.Count);
        Assert.All(rows, r => Assert.True(r.Seconds > 0 && double.IsFinite(r.Rate), r.Label));
        Assert.Equal("gemm NT 5x8x36 (forward)", rows[0].Label);
        Assert.Equal(2.0 * 5 * 8 * 36, rows[0].Work);
        // Adam moves 28 bytes per parameter of this model, not of some other one.
        var adam = rows.Single(r => r.Op == "adam");
        Assert.Equal(28.0 * VaeNetwork.LayoutOf(config).Count, adam.Work);
    }
}
