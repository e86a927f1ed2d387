using IlgpuVae.Compute;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Compute;

/// <summary>The benchmarks' profiler: a proxy that times every op by name (shapes where they matter) and changes no
/// result.</summary>
public sealed class ProfilingOpsTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Profiler_TimesEveryOpByName_AndChangesNoResult(bool cpuKernels)
    {
        var data = SyntheticIdx.InMemory(64, 16);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 16, Model = new VaeConfig(data.Train.PixelsPerImage, [8], 2) };

        List<EpochMetrics> Run(bool profiled, out IReadOnlyList<(string Op, double Seconds, long Calls)> table)
        {
            using var device = ComputeDevice.Open(DeviceChoice.Cpu, cpuKernels);
            var profiler = profiled ? device.EnableProfiling() : null;
            using var trainer = new VaeTrainer(device, data, options);
            var epochs = trainer.Train().Epochs.ToList();
            table = profiler?.Table ?? [];
            return epochs;
        }

        var plain = Run(false, out _);
        var timed = Run(true, out var table);

        Assert.Equal(plain.Select(e => (e.TrainLoss, e.TestLoss)), timed.Select(e => (e.TrainLoss, e.TestLoss)));
        var ops = table.ToDictionary(r => r.Op, r => r.Calls);
        // Four training steps of 16 images: one Adam step each; the first linear layer's shape names its row.
        Assert.Equal(4, ops["Adam"]);
        Assert.Contains(ops.Keys, k => k.StartsWith($"LinearForward 16x8x{data.Train.PixelsPerImage}", StringComparison.Ordinal));
        Assert.DoesNotContain(ops.Keys, k => k.StartsWith("Synchronize", StringComparison.Ordinal));
        Assert.All(table, r => Assert.True(r.Seconds >= 0 && r.Calls > 0, r.Op));
    }
}
