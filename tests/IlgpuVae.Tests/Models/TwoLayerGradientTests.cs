using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;

namespace IlgpuVae.Tests.Models;

/// <summary>
/// Two stochastic layers (Burda et al. 2016): the device's gradient of the whole loss (the one-sample ELBO, the K-sample
/// ELBO, the importance-weighted bound) against central finite differences of a double-precision reference written from
/// the log densities, and the forward's reported terms against the same reference.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class TwoLayerGradientTests
{
    /// <summary>
    /// The loss summed over images, in double. Per sample row r = k B + b: z1 = mu1 + sigma1 eps1[r],
    /// z2 = mu2(z1) + sigma2(z1) eps2[r], <c>log w = log p(x|z1) + log N(z1; pmu(z2), psigma(z2)^2) + log N(z2; 0, I)
    /// - log N(z1; mu1, sigma1^2) - log N(z2; mu2, sigma2^2)</c>, every density written out. The importance-weighted
    /// bound is <c>log K - logsumexp_k log w</c>; the ELBO <c>mean_k BCE_k - beta mean_k (log w_k + BCE_k)</c>.
    /// </summary>
    public static double Loss(VaeConfig config, double[] p, float[] x, float[] eps1, float[] eps2, int samples,
        TrainingObjective objective, double beta)
    {
        var layout = VaeNetwork.LayoutOf(config);
        int d = config.InputSize, z1n = config.Latent, z2n = config.Latent2, rows = x.Length / d;
        double total = 0;
        for (int b = 0; b < rows; b++)
        {
            var h = new double[d];
            for (int i = 0; i < d; i++) h[i] = x[b * d + i];
            for (int i = 0; i < config.Hidden.Count; i++)
                h = Tanh(ReferenceVae.Linear(layout, p, $"encoder.{i}", h, relu: false));
            var mu1 = ReferenceVae.Linear(layout, p, "mu", h, relu: false);
            var lv1 = ReferenceVae.Linear(layout, p, "logvar", h, relu: false);
            var logWeights = new double[samples];
            double meanBce = 0;
            for (int k = 0; k < samples; k++)
            {
                int row = k * rows + b;
                var z1 = Draw(mu1, lv1, eps1, row);
                var u = z1;
                for (int i = 0; i < config.Hidden2.Count; i++)
                    u = Tanh(ReferenceVae.Linear(layout, p, $"encoder2.{i}", u, relu: false));
                var mu2 = ReferenceVae.Linear(layout, p, "mu2", u, relu: false);
                var lv2 = ReferenceVae.Linear(layout, p, "logvar2", u, relu: false);
                var z2 = Draw(mu2, lv2, eps2, row);
                var v = z2;
                for (int i = 0; i < config.Hidden2.Count; i++)
                    v = Tanh(ReferenceVae.Linear(layout, p, $"decoder2.{i}", v, relu: false));
                var pmu = ReferenceVae.Linear(layout, p, "prior_mu", v, relu: false);
                var plv = ReferenceVae.Linear(layout, p, "prior_logvar", v, relu: false);
                var g = z1;
                for (int i = 0; i <= config.Hidden.Count; i++)
                {
                    var linear = ReferenceVae.Linear(layout, p, i < config.Hidden.Count ? $"decoder.{i}" : "out", g, relu: false);
                    g = i < config.Hidden.Count ? Tanh(linear) : linear;
                }
                double bce = ReferenceVae.NegativeLogDensity(config, layout, p, g, x.AsSpan(b * d, d));
                meanBce += bce / samples;
                logWeights[k] = -bce + LogNormal(z1, pmu, plv) + LogNormal(z2, new double[z2n], new double[z2n])
                    - LogNormal(z1, mu1, lv1) - LogNormal(z2, mu2, lv2);
            }
            if (objective == TrainingObjective.ImportanceWeighted)
            {
                double max = logWeights.Max();
                total += Math.Log(samples) - (max + Math.Log(logWeights.Sum(w => Math.Exp(w - max))));
            }
            else
            {
                total += meanBce - beta * (logWeights.Average() + meanBce);
            }
        }
        return total;
    }

    private static double[] Draw(double[] mu, double[] logvar, float[] eps, int row) =>
        mu.Select((m, j) => m + eps[row * mu.Length + j] * Math.Exp(logvar[j] / 2)).ToArray();

    private static double LogNormal(double[] z, double[] mu, double[] logvar) =>
        z.Select((v, j) => -0.5 * Math.Log(2 * Math.PI) - 0.5 * logvar[j] - 0.5 * (v - mu[j]) * (v - mu[j]) / Math.Exp(logvar[j])).Sum();

    private static double[] Tanh(double[] v) => v.Select(Math.Tanh).ToArray();

    public static TheoryData<string, TrainingObjective, int> Cases() => new()
    {
        { "vectorized", TrainingObjective.Elbo, 1 },
        { "kernels", TrainingObjective.Elbo, 1 },
        { "vectorized", TrainingObjective.Elbo, 3 },
        { "kernels", TrainingObjective.Elbo, 2 },
        { "vectorized", TrainingObjective.ImportanceWeighted, 1 },
        { "vectorized", TrainingObjective.ImportanceWeighted, 3 },
        { "kernels", TrainingObjective.ImportanceWeighted, 3 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    [OpenClData(nameof(Cases))]
    public void TwoLayerLoss_DeviceBackward_MatchesFiniteDifferences(string impl, TrainingObjective objective, int samples) =>
        Check(impl, objective, samples, new VaeConfig(6, [5, 4], 3) { Activation = HiddenActivation.Tanh, Hidden2 = [4, 3], Latent2 = 2 });

    // No hidden layer between the stochastic layers: q(z2|z1)'s heads read z1 and add to its gradient themselves.
    [Theory]
    [InlineData("vectorized", TrainingObjective.ImportanceWeighted)]
    [InlineData("kernels", TrainingObjective.Elbo)]
    public void TwoLayerLoss_NoHiddenBetweenLayers_MatchesFiniteDifferences(string impl, TrainingObjective objective) =>
        Check(impl, objective, 2, new VaeConfig(5, [4], 3) { Activation = HiddenActivation.Tanh, Latent2 = 2 });

    private static void Check(string impl, TrainingObjective objective, int samples, VaeConfig config)
    {
        const int rows = 3;
        float beta = objective == TrainingObjective.Elbo ? 0.7f : 1f;
        var x = Random(rows * config.InputSize, 21, 0, 1);
        var eps1 = Random(samples * rows * config.Latent, 22, -1.5f, 1.5f);
        var eps2 = Random(samples * rows * config.Latent2, 23, -1.5f, 1.5f);
        With(impl, (acc, ops) =>
        {
            using var network = new VaeNetwork(Device(impl), config, capacity: 4, seed: 5, maxSamples: 3);
            var parameters = GradientCheckTests.Prepare(network, x, eps1);
            network.Noise2.SubView(0, eps2.Length).CopyFromCPU(eps2);
            network.ZeroGradients();
            network.Forward(rows, 0, 0, beta, NoiseSource.Keep, samples, objective);
            network.Backward();
            ops.Synchronize();
            var gradient = new float[parameters.Length];
            network.Gradients.SubView(0, gradient.Length).CopyToCPU(gradient);
            var p = parameters.Select(v => (double)v).ToArray();
            var expected = ReferenceVae.FiniteDifferences(p, q => Loss(config, q, x, eps1, eps2, samples, objective, beta));
            Close(expected, gradient, 1e-3, 1e-2, $"dLoss/dtheta ({objective}, K = {samples})");

            // The per-image terms add up to the loss: reconstruction + beta x the sampled KL term, or the bound's parts.
            var recon = new float[rows];
            var rest = new float[rows];
            network.Reconstruction.SubView(0, rows).CopyToCPU(recon);
            network.Kl.SubView(0, rows).CopyToCPU(rest);
            double loss = recon.Zip(rest, (r, k) => r + (double)beta * k).Sum();
            Close([Loss(config, p, x, eps1, eps2, samples, objective, beta)], [(float)loss], 1e-5, 1, "loss");
        });
    }
}
