using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Training;
using IlgpuVae.Tests.Compute;
using Xunit;

namespace IlgpuVae.Tests.Training;

/// <summary>
/// Kernel launches per training step, counted on the kernels a GPU runs (tiled GEMMs, grouped reductions) on a CPU
/// accelerator: the launch count does not depend on the sizes, so a small model on 4 x 4 images stands for the
/// default one. The target for a VAE is at most 16.
/// </summary>
[Collection(Compute.SharedDevices.Name)]
public sealed class LaunchCountTests
{
    private static readonly Lazy<ComputeDevice> Device = new(ComputeDevice.OpenGpuShapedCpu);
    private static readonly object Gate = new();

    // The budgets, on the GPU-shaped CPU accelerator and, where present, on OpenCL (a real runtime's launches).
    public static TheoryData<string, string, int> Cases()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var row in Budgets())
            data.Add("gpu-shaped", (string)row[0], (int)row[1]);
        return data;
    }

    public static TheoryData<string, int> Budgets() => new()
    {
        // The default architecture's shape: one hidden layer each side. Was 33 before the fused ops.
        { "vae", 16 },
        // A CVAE adds the label gather and a one-hot concatenation before the encoder and the decoder. Was 36.
        { "cvae", 19 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    [OpenClData(nameof(Budgets), Prepend = true)]
    public void TrainingStep_LaunchesExactlyTheBudget(string implementation, string model, int budget)
    {
        lock (Gate)
        {
            var device = implementation == "opencl" ? Compute.OpsHarness.Device("opencl") : Device.Value;
            var ops = (KernelOps)device.Ops;
            const int side = 4, count = 48, batch = 16;
            var random = new Random(3);
            ImageSet Set(int n)
            {
                var images = new byte[n * side * side];
                random.NextBytes(images);
                return new ImageSet(images, Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray(), side, side);
            }
            var data = new ImageData(Set(count), Set(batch));
            var config = model == "vae" ? new VaeConfig(side * side, [8], 2) : new VaeConfig(side * side, [8], 2, Classes: 10);
            var options = new TrainingOptions { Epochs = 1, BatchSize = batch, Model = config, ReportEverySteps = 1000, Seed = 1 };
            using var trainer = new VaeTrainer(device, data, options);
            var marks = new List<long>();
            trainer.Train(new SyncProgress<WorkProgress>(p =>
            {
                if (p.Part == "training" && p.Completed is null)
                    marks.Add(ops.Launches);
            }));
            // Between two step reports lies exactly one step; the first also holds the epoch's start.
            var perStep = marks.Zip(marks.Skip(1), (a, b) => b - a).ToList();
            Assert.Equal(count / batch - 1, perStep.Count);
            Assert.All(perStep, n => Assert.Equal(perStep[0], n));
            // Exact, so that a change either way is noticed (and the figure in docs/benchmarks.md updated).
            Assert.True(perStep[0] == budget, $"{model}: {perStep[0]} launches per step, expected {budget}");
        }
    }

    [Fact]
    public void TrainingEpoch_GpuKernels_MatchVectorisedLosses()
    {
        // The whole step as a GPU runs it (fused GEMM epilogues, one-launch sample and BCE with their sums) against
        // the vectorised ops' plain sequence, on the same data: equal up to float rounding.
        const int side = 4, count = 48, batch = 16;
        var random = new Random(4);
        ImageSet Set(int n)
        {
            var images = new byte[n * side * side];
            random.NextBytes(images);
            return new ImageSet(images, Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray(), side, side);
        }
        var data = new ImageData(Set(count), Set(batch));
        var options = new TrainingOptions { Epochs = 1, BatchSize = batch, Model = new VaeConfig(side * side, [8], 2), Seed = 2 };
        TrainingResult gpu, vectorized;
        lock (Gate)
        {
            using var trainer = new VaeTrainer(Device.Value, data, options);
            gpu = trainer.Train();
        }
        using (var trainer = new VaeTrainer(Compute.OpsHarness.Device("vectorized"), data, options))
            vectorized = trainer.Train();
        for (int e = 0; e < 1; e++)
        {
            Assert.Equal(vectorized.Epochs[e].TrainLoss, gpu.Epochs[e].TrainLoss, 1e-3 * vectorized.Epochs[e].TrainLoss);
            Assert.Equal(vectorized.Epochs[e].TestLoss, gpu.Epochs[e].TestLoss, 1e-3 * vectorized.Epochs[e].TestLoss);
        }
    }
}
