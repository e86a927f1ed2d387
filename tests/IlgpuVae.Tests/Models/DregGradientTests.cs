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
/// The doubly reparameterised gradient (DReG, Tucker et al. 2019) of the importance-weighted bound, on a tiny dense
/// VAE, against a double-precision reference that knows nothing of the device's backward: the encoder's gradient is
/// the central finite difference of DReG's surrogate objective
/// <c>S(phi) = -sum_b sum_k stop(omega_k^2) log w_k(z_k(phi); stop(phi))</c> (the normalised weights and log q's
/// mean and variance computed at the current parameters and held fixed, z_k = mu(phi) + sigma(phi) eps_k moving),
/// and the decoder's is the finite difference of the bound itself (DReG leaves it alone). docs/theory.md, "The doubly
/// reparameterised gradient".
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class DregGradientTests
{
    private const double HalfLog2Pi = 0.91893853320467274178;

    /// <summary>Per image b and sample k (row k B + b): the encoder's mu and log-variance, the sample z and its summed BCE.</summary>
    private static (double[][] Mu, double[][] LogVar, double[][] Z, double[] Bce) Terms(VaeConfig config, double[] p,
        float[] x, float[] eps, int samples)
    {
        var layout = VaeNetwork.LayoutOf(config);
        int d = config.InputSize, latent = config.Latent, rows = x.Length / d;
        var mus = new double[rows][];
        var logvars = new double[rows][];
        var codes = new double[samples * rows][];
        var bces = new double[samples * rows];
        for (int b = 0; b < rows; b++)
        {
            var h = new double[d];
            for (int i = 0; i < d; i++) h[i] = x[b * d + i];
            for (int i = 0; i < config.Hidden.Count; i++)
                h = ReferenceVae.Linear(layout, p, $"encoder.{i}", h, relu: false).Select(Math.Tanh).ToArray();
            mus[b] = ReferenceVae.Linear(layout, p, "mu", h, relu: false);
            logvars[b] = ReferenceVae.Linear(layout, p, "logvar", h, relu: false);
            for (int k = 0; k < samples; k++)
            {
                int row = k * rows + b;
                var code = new double[latent];
                for (int j = 0; j < latent; j++)
                    code[j] = mus[b][j] + eps[row * latent + j] * Math.Exp(logvars[b][j] / 2);
                var g = code;
                for (int i = 0; i <= config.Hidden.Count; i++)
                {
                    var linear = ReferenceVae.Linear(layout, p, i < config.Hidden.Count ? $"decoder.{i}" : "out", g, relu: false);
                    g = i < config.Hidden.Count ? linear.Select(Math.Tanh).ToArray() : linear;
                }
                double bce = 0;
                for (int i = 0; i < d; i++)
                {
                    double sigmoid = 1 / (1 + Math.Exp(-g[i])), t = x[b * d + i];
                    bce -= t * Math.Log(sigmoid) + (1 - t) * Math.Log(1 - sigmoid);
                }
                codes[row] = code;
                bces[row] = bce;
            }
        }
        return (mus, logvars, codes, bces);
    }

    /// <summary>log p(x|z) + log N(z; 0, I) - log N(z; mu, exp(lv)), every density written out.</summary>
    private static double LogWeight(double bce, double[] z, double[] mu, double[] logvar)
    {
        double value = -bce;
        for (int j = 0; j < z.Length; j++)
        {
            value += -HalfLog2Pi - 0.5 * z[j] * z[j];
            value -= -HalfLog2Pi - 0.5 * logvar[j] - 0.5 * (z[j] - mu[j]) * (z[j] - mu[j]) / Math.Exp(logvar[j]);
        }
        return value;
    }

    /// <summary>
    /// DReG's surrogate at <paramref name="p"/>, its stop-gradient parts (the weights, and log q's mu and variance)
    /// taken at <paramref name="held"/>.
    /// </summary>
    internal static double Surrogate(VaeConfig config, double[] p, double[] held, float[] x, float[] eps, int samples)
    {
        var now = Terms(config, p, x, eps, samples);
        var fixedTerms = Terms(config, held, x, eps, samples);
        int rows = now.Mu.Length;
        double total = 0;
        for (int b = 0; b < rows; b++)
        {
            var heldLogWeights = Enumerable.Range(0, samples)
                .Select(k => LogWeight(fixedTerms.Bce[k * rows + b], fixedTerms.Z[k * rows + b], fixedTerms.Mu[b], fixedTerms.LogVar[b])).ToArray();
            double max = heldLogWeights.Max(), sum = heldLogWeights.Sum(w => Math.Exp(w - max));
            for (int k = 0; k < samples; k++)
            {
                double omega = Math.Exp(heldLogWeights[k] - max) / sum;
                int row = k * rows + b;
                total -= omega * omega * LogWeight(now.Bce[row], now.Z[row], fixedTerms.Mu[b], fixedTerms.LogVar[b]);
            }
        }
        return total;
    }

    private static bool IsEncoder(string name) =>
        name.StartsWith("encoder.", StringComparison.Ordinal) || name.StartsWith("mu.", StringComparison.Ordinal)
        || name.StartsWith("logvar.", StringComparison.Ordinal);

    public static TheoryData<string, int> Cases() => new()
    {
        { "vectorized", 3 },
        { "vectorized", 1 },
        { "kernels", 3 },
        { "kernels", 2 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    [OpenClData(nameof(Cases))]
    public void Dreg_EncoderGradient_IsTheSurrogatesFiniteDifference_AndTheDecoderKeepsTheBoundsGradient(string impl, int samples)
    {
        const int rows = 3;
        var config = new VaeConfig(6, [5, 4], 3) { Activation = HiddenActivation.Tanh };
        var x = Random(rows * config.InputSize, 21, 0, 1);
        var eps = Random(samples * rows * config.Latent, 22, -1.5f, 1.5f);
        var layout = VaeNetwork.LayoutOf(config);
        var encoder = new bool[layout.Count];
        foreach (var slot in layout.Slots.Where(s => IsEncoder(s.Name)))
            Array.Fill(encoder, true, slot.Offset, slot.Length);
        Assert.Contains(true, encoder);
        Assert.Contains(false, encoder);
        With(impl, (acc, ops) =>
        {
            using var network = new VaeNetwork(Device(impl), config, capacity: 4, seed: 5, maxSamples: 3);
            var parameters = GradientCheckTests.Prepare(network, x, eps);
            float[] GradientOf(TrainingObjective objective)
            {
                network.ZeroGradients();
                network.Forward(rows, 0, 0, 1f, NoiseSource.Keep, samples, objective);
                network.Backward();
                ops.Synchronize();
                var gradient = new float[parameters.Length];
                network.Gradients.SubView(0, gradient.Length).CopyToCPU(gradient);
                return gradient;
            }
            var dreg = GradientOf(TrainingObjective.ImportanceWeightedDreg);
            var standard = GradientOf(TrainingObjective.ImportanceWeighted);
            var p = parameters.Select(v => (double)v).ToArray();
            var surrogate = ReferenceVae.FiniteDifferences(p, q => Surrogate(config, q, p, x, eps, samples));
            var bound = ReferenceVae.FiniteDifferences(p, q => MultiSampleGradientTests.Loss(config, q, x, eps, samples,
                TrainingObjective.ImportanceWeighted, 1));
            var indices = Enumerable.Range(0, p.Length);
            var enc = indices.Where(i => encoder[i]).ToArray();
            var dec = indices.Where(i => !encoder[i]).ToArray();
            Close(enc.Select(i => surrogate[i]).ToArray(), enc.Select(i => dreg[i]).ToArray(), 1e-3, 1e-2, "DReG dLoss/dphi");
            Close(dec.Select(i => bound[i]).ToArray(), dec.Select(i => dreg[i]).ToArray(), 1e-3, 1e-2, "DReG dLoss/dtheta");
            // The decoder's gradient is exactly the bound's; the encoder's is another estimator, not the same numbers.
            Assert.Equal(dec.Select(i => standard[i]), dec.Select(i => dreg[i]));
            Assert.True(enc.Max(i => Math.Abs(standard[i] - dreg[i])) > 1e-2, "DReG's encoder gradient equals the bound's");
        });
    }
}
