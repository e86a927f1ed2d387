using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Layers;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Training;
using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;
using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Models;

/// <summary>
/// The multi-sample objectives of a dense VAE (K posterior samples per image, sample-major rows): the device's gradient
/// against central finite differences of a double-precision reference written from the bound's definition, and the
/// importance-weighted bound at K = 1 against the ELBO with a sampled KL.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class MultiSampleGradientTests
{
    /// <summary>
    /// The loss summed over images, in double: the importance-weighted bound
    /// <c>log K - logsumexp_k [log p(x|z_k) + log N(z_k; 0, I) - log N(z_k; mu, sigma^2)]</c> with every log density
    /// written out (2 pi terms included), or the K-sample ELBO <c>mean_k BCE_k + beta KL</c>. eps is (K B, Z),
    /// sample-major.
    /// </summary>
    public static double Loss(VaeConfig config, double[] p, float[] x, float[] eps, int samples, TrainingObjective objective, double beta)
    {
        var layout = VaeNetwork.LayoutOf(config);
        int d = config.InputSize, z = config.Latent, rows = x.Length / d;
        bool tanh = config.Activation == HiddenActivation.Tanh;
        double total = 0;
        for (int b = 0; b < rows; b++)
        {
            var h = new double[d];
            for (int i = 0; i < d; i++) h[i] = x[b * d + i];
            for (int i = 0; i < config.Hidden.Count; i++)
                h = Activate(ReferenceVae.Linear(layout, p, $"encoder.{i}", h, relu: false), tanh);
            var mu = ReferenceVae.Linear(layout, p, "mu", h, relu: false);
            var logvar = ReferenceVae.Linear(layout, p, "logvar", h, relu: false);
            var logWeights = new double[samples];
            double meanBce = 0;
            for (int k = 0; k < samples; k++)
            {
                int row = k * rows + b;
                var code = new double[z];
                double prior = 0, posterior = 0;
                for (int j = 0; j < z; j++)
                {
                    double sigma = Math.Exp(logvar[j] / 2);
                    code[j] = mu[j] + eps[row * z + j] * sigma;
                    prior += -0.5 * Math.Log(2 * Math.PI) - 0.5 * code[j] * code[j];
                    posterior += -0.5 * Math.Log(2 * Math.PI) - Math.Log(sigma) - 0.5 * Math.Pow((code[j] - mu[j]) / sigma, 2);
                }
                var g = code;
                for (int i = 0; i <= config.Hidden.Count; i++)
                {
                    var linear = ReferenceVae.Linear(layout, p, i < config.Hidden.Count ? $"decoder.{i}" : "out", g, relu: false);
                    g = i < config.Hidden.Count ? Activate(linear, tanh) : linear;
                }
                double bce = ReferenceVae.NegativeLogDensity(config, layout, p, g, x.AsSpan(b * d, d));
                meanBce += bce / samples;
                logWeights[k] = -bce + prior - posterior;
            }
            if (objective == TrainingObjective.ImportanceWeighted)
            {
                double max = logWeights.Max();
                total += Math.Log(samples) - (max + Math.Log(logWeights.Sum(w => Math.Exp(w - max))));
            }
            else
            {
                double kl = 0;
                for (int j = 0; j < z; j++)
                    kl += -0.5 * (1 + logvar[j] - mu[j] * mu[j] - Math.Exp(logvar[j]));
                total += meanBce + beta * kl;
            }
        }
        return total;
    }

    private static double[] Activate(double[] v, bool tanh) => v.Select(a => tanh ? Math.Tanh(a) : Math.Max(0, a)).ToArray();

    public static TheoryData<string, TrainingObjective, int, HiddenActivation> Cases() => new()
    {
        { "vectorized", TrainingObjective.ImportanceWeighted, 1, HiddenActivation.Tanh },
        { "vectorized", TrainingObjective.ImportanceWeighted, 3, HiddenActivation.Tanh },
        { "kernels", TrainingObjective.ImportanceWeighted, 3, HiddenActivation.Relu },
        { "kernels", TrainingObjective.ImportanceWeighted, 1, HiddenActivation.Relu },
        { "vectorized", TrainingObjective.Elbo, 3, HiddenActivation.Tanh },
        { "kernels", TrainingObjective.Elbo, 2, HiddenActivation.Tanh },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    [OpenClData(nameof(Cases))]
    public void MultiSampleLoss_DeviceBackward_MatchesFiniteDifferences(string impl, TrainingObjective objective, int samples,
        HiddenActivation activation) =>
        CheckMultiSample(impl, objective, samples, new VaeConfig(6, [5, 4], 3) { Activation = activation });

    public static TheoryData<string, TrainingObjective, DecoderLikelihood> LikelihoodCases()
    {
        var data = new TheoryData<string, TrainingObjective, DecoderLikelihood>();
        foreach (var impl in new[] { "vectorized", "kernels" })
            foreach (var objective in new[] { TrainingObjective.ImportanceWeighted, TrainingObjective.Elbo })
                foreach (var likelihood in new[] { DecoderLikelihood.ContinuousBernoulli, DecoderLikelihood.Gaussian })
                    data.Add(impl, objective, likelihood);
        return data;
    }

    // The Gaussian's per-element log-variance gradient is weighted per sample like the means' gradient.
    [Theory]
    [MemberData(nameof(LikelihoodCases))]
    [OpenClData(nameof(LikelihoodCases))]
    public void MultiSampleLoss_EveryLikelihood_MatchesFiniteDifferences(string impl, TrainingObjective objective, DecoderLikelihood likelihood) =>
        CheckMultiSample(impl, objective, 3, new VaeConfig(6, [5, 4], 3) { Likelihood = likelihood });

    private static void CheckMultiSample(string impl, TrainingObjective objective, int samples, VaeConfig config)
    {
        const int rows = 3;
        const float beta = 0.7f;
        float b = objective == TrainingObjective.Elbo ? beta : 1f;
        var x = Random(rows * config.InputSize, 11, 0, 1);
        var eps = Random(samples * rows * config.Latent, 12, -1.5f, 1.5f);
        With(impl, (acc, ops) =>
        {
            using var network = new VaeNetwork(Device(impl), config, capacity: 4, seed: 3, maxSamples: 3);
            var parameters = GradientCheckTests.Prepare(network, x, eps);
            network.ZeroGradients();
            network.Forward(rows, 0, 0, b, NoiseSource.Keep, samples, objective);
            network.Backward();
            ops.Synchronize();
            var gradient = new float[parameters.Length];
            network.Gradients.SubView(0, gradient.Length).CopyToCPU(gradient);
            var p = parameters.Select(v => (double)v).ToArray();
            var expected = ReferenceVae.FiniteDifferences(p, q => Loss(config, q, x, eps, samples, objective, b));
            Close(expected, gradient, 1e-3, 1e-2, "dLoss/dtheta");

            // The per-image terms add up to the bound (the ELBO: reconstruction + beta KL).
            var recon = new float[rows];
            var rest = new float[rows];
            network.Reconstruction.SubView(0, rows).CopyToCPU(recon);
            network.Kl.SubView(0, rows).CopyToCPU(rest);
            double loss = recon.Zip(rest, (r, k) => r + (objective == TrainingObjective.Elbo ? b : 1.0) * k).Sum();
            Close([Loss(config, p, x, eps, samples, objective, b)], [(float)loss], 1e-5, 1, "loss");
        });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void ImportanceWeighted_OneSample_IsTheElboWithTheKlSampled(string impl)
    {
        const int rows = 4;
        var config = VaeConfig.Burda with { InputSize = 12, ImageHeight = 3, ImageWidth = 4, Hidden = [7, 5], Latent = 3 };
        var x = Random(rows * config.InputSize, 5, 0, 1);
        var eps = Random(rows * config.Latent, 6, -2, 2);
        With(impl, (acc, ops) =>
        {
            using var network = new VaeNetwork(Device(impl), config, capacity: rows, seed: 9);
            network.Input.SubView(0, x.Length).CopyFromCPU(x);
            network.Noise.SubView(0, eps.Length).CopyFromCPU(eps);
            // The ELBO path: BCE of z = mu + sigma eps and the analytic KL.
            network.Forward(rows, 0, 0, 1f, NoiseSource.Keep);
            var bce = Read(network.Reconstruction, rows);
            var analytic = Read(network.Kl, rows);
            var stats = Read(network.PosteriorStats, rows * 2 * config.Latent);
            // The IWAE path with one sample, on the same noise.
            network.Forward(rows, 0, 0, 1f, NoiseSource.Keep, 1, TrainingObjective.ImportanceWeighted);
            var weighted = Read(network.Reconstruction, rows);
            var rest = Read(network.Kl, rows);
            // log q(z|x) - log p(z) of that very sample, in double: the KL's one-sample estimate.
            var sampledKl = LikelihoodReference.LogWeights(stats, eps, new float[rows], config.Latent).Select(w => -w).ToArray();
            Close(bce.Select(v => (double)v).ToArray(), weighted, 1e-6, 1, "reconstruction (weight 1)");
            Close(sampledKl, rest, 1e-5, 1e-2, "the bound's rest: the sampled KL");
            // And it is not the analytic KL (which is its expectation).
            Assert.True(sampledKl.Zip(analytic, (s, a) => Math.Abs(s - a)).Max() > 1e-3);
        });
    }

    private static float[] Read(ILGPU.ArrayView<float> view, int length)
    {
        var data = new float[length];
        view.SubView(0, length).CopyToCPU(data);
        return data;
    }
}
