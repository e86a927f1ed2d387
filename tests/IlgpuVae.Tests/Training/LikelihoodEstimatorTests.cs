using IlgpuVae.Compute;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Training;

public sealed class LikelihoodEstimatorTests(TrainedModelFixture fixture, ITestOutputHelper output) : IClassFixture<TrainedModelFixture>
{
    [MnistFact]
    public void Estimate_MoreSamples_RisesAboveTheElbo()
    {
        using var test = new DeviceDataset(fixture.Device!, fixture.Data!.Test);
        using var evaluator = new Evaluator(fixture.Model!.Network, test);
        using var estimator = new LikelihoodEstimator(fixture.Model.Network, test);
        double elbo = -evaluator.Evaluate(7, 0).Loss;
        double k1 = estimator.Estimate(1, 7);
        double k5 = estimator.Estimate(5, 7);
        double k50 = estimator.Estimate(50, 7);
        output.WriteLine($"ELBO {elbo:F3}, log p(x) estimates: K=1 {k1:F3}, K=5 {k5:F3}, K=50 {k50:F3}");
        // Burda et al.: E[L_K] is non-decreasing in K and L_1 is the ELBO. Averaged over 1000 images, each step up
        // in K gains about a nat or more here (measured: K=1 -168.8, K=5 -166.7, K=50 -165.8), far beyond the
        // estimates' noise (a few hundredths of a nat).
        Assert.True(k5 > k1 + 0.5, $"K=5 ({k5}) did not rise above K=1 ({k1})");
        Assert.True(k50 > k5 + 0.5, $"K=50 ({k50}) did not rise above K=5 ({k5})");
        Assert.True(k50 > elbo + 1, $"K=50 ({k50}) is not above the ELBO ({elbo})");
    }

    [MnistFact]
    public void Estimate_OneSample_EqualsTheElboInExpectation()
    {
        using var test = new DeviceDataset(fixture.Device!, fixture.Data!.Test);
        using var evaluator = new Evaluator(fixture.Model!.Network, test);
        using var estimator = new LikelihoodEstimator(fixture.Model.Network, test);
        // K = 1 is the ELBO with the KL sampled instead of taken in closed form: the same expectation, more variance.
        // Sample 0 uses the evaluator's noise, so the reconstruction terms are identical and only the KL estimates
        // differ: E[1/2 sum_j (eps_j^2 - z_j^2 + logvar_j)] = -KL. The mean difference over 32 seeds must lie within
        // four standard errors of 0 (measured here: a per-seed spread of about 0.06 nats on 1000 images).
        const int seeds = 32;
        var differences = Enumerable.Range(1, seeds)
            .Select(seed => estimator.Estimate(1, (ulong)seed) + evaluator.Evaluate((ulong)seed, 0).Loss)
            .ToArray();
        double mean = differences.Average();
        double spread = Math.Sqrt(differences.Sum(d => (d - mean) * (d - mean)) / (seeds - 1));
        output.WriteLine($"K=1 estimate minus ELBO per seed: {string.Join(", ", differences.Select(d => d.ToString("F4")))}; mean {mean:F4}, sd {spread:F4}");
        Assert.InRange(spread, 1e-3, 0.5);
        Assert.InRange(mean, -4 * spread / Math.Sqrt(seeds), 4 * spread / Math.Sqrt(seeds));
    }

    [MnistTheory]
    [InlineData("kernels")]
    [OpenClData]
    public void Estimate_KernelOps_MatchVectorizedOps(string impl)
    {
        // The whole estimate through the ILGPU kernels (as on a GPU) on 100 images, against the vectorised ops: on the
        // CPU accelerator and on OpenCL. A device of its own: this class does not share the harness's devices' turns.
        using var kernelDevice = impl == "opencl"
            ? ComputeDevice.Open(DeviceChoice.OpenCL)
            : ComputeDevice.Open(DeviceChoice.Cpu, cpuKernels: true);
        var subset = fixture.Data!.Test.Take(100);
        string path = Path.Combine(Directory.CreateTempSubdirectory("ilgpu-vae-test-").FullName, "model.safetensors");
        fixture.Model!.Save(path);
        using var kernelModel = VaeModel.Load(kernelDevice, path, fixture.Model.Network.Capacity);
        using var vectorSet = new DeviceDataset(fixture.Device!, subset);
        using var kernelSet = new DeviceDataset(kernelDevice, subset);
        using var vectorEstimator = new LikelihoodEstimator(fixture.Model.Network, vectorSet);
        using var kernelEstimator = new LikelihoodEstimator(kernelModel.Network, kernelSet);
        var expected = vectorEstimator.Estimate(5, 11);
        var actual = kernelEstimator.Estimate(5, 11);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        // Same capacity, so the same batches and noise streams: only float rounding differs.
        Assert.Equal(expected, actual, 1e-4 * Math.Abs(expected));
    }

    [MnistFact]
    public void Estimate_NonsenseSampleCount_Throws()
    {
        using var test = new DeviceDataset(fixture.Device!, fixture.Data!.Test.Take(10));
        using var estimator = new LikelihoodEstimator(fixture.Model!.Network, test);
        Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Estimate(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Estimate(LikelihoodEstimator.MaxSamples + 1, 1));
    }
}
