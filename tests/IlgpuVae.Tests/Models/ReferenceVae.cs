using IlgpuVae.Layers;
using IlgpuVae.Models;
using Xunit;

namespace IlgpuVae.Tests.Models;

/// <summary>
/// The VAE's loss written plainly in double precision, over the same flat parameter layout: the independent
/// implementation the device backward is checked against by central finite differences.
/// </summary>
public static class ReferenceVae
{
    /// <summary>sum_b [BCE_b + beta KL_b] for x (B, D), eps (B, Z), labels (B) for a conditional model.</summary>
    public static double Loss(VaeConfig config, double[] p, float[] x, float[] eps, int[] labels, double beta)
    {
        if (config.IsConvolutional)
            return ConvolutionalLoss(config, p, x, eps, labels, beta);
        var layout = VaeNetwork.LayoutOf(config);
        int d = config.InputSize, z = config.Latent, c = config.Classes, rows = x.Length / d;
        double total = 0;
        for (int b = 0; b < rows; b++)
        {
            var h = new double[d + c];
            for (int i = 0; i < d; i++) h[i] = x[b * d + i];
            if (c > 0) h[d + labels[b]] = 1;
            for (int i = 0; i < config.Hidden.Count; i++)
                h = Linear(layout, p, $"encoder.{i}", h, relu: true);
            var mu = Linear(layout, p, "mu", h, relu: false);
            var logvar = Linear(layout, p, "logvar", h, relu: false);
            var code = new double[z];
            double kl = 0;
            for (int j = 0; j < z; j++)
            {
                code[j] = mu[j] + eps[b * z + j] * Math.Exp(logvar[j] / 2);
                kl += -0.5 * (1 + logvar[j] - mu[j] * mu[j] - Math.Exp(logvar[j]));
            }
            h = code;
            for (int i = 0; i <= config.Hidden.Count; i++)
            {
                if (config.DecoderLayerReadsLabel(i))
                    h = WithOneHot(h, labels[b], c);
                h = Linear(layout, p, i < config.Hidden.Count ? $"decoder.{i}" : "out", h, relu: i < config.Hidden.Count);
            }
            total += NegativeLogDensity(config, layout, p, h, x.AsSpan(b * d, d)) + beta * kl;
        }
        return total;
    }

    /// <summary>The convolutional model's loss, image by image (tools/pytorch/conv_vae.py's forward, in double).</summary>
    private static double ConvolutionalLoss(VaeConfig config, double[] p, float[] x, float[] eps, int[] labels, double beta)
    {
        var layout = VaeNetwork.LayoutOf(config);
        int d = config.InputSize, z = config.Latent, c = config.Classes, rows = x.Length / d;
        int k = VaeConfig.ConvKernel, stride = VaeConfig.ConvStride, padding = VaeConfig.ConvPadding;
        double total = 0;
        for (int b = 0; b < rows; b++)
        {
            double[] h = x.AsSpan(b * d, d).ToArray().Select(v => (double)v).ToArray();
            int channels = config.ImageChannels, height = config.ImageHeight, width = config.ImageWidth;
            var sizes = new List<(int, int)>();
            for (int i = 0; i < config.Channels.Count; i++)
            {
                sizes.Add((height, width));
                var shape = Kernels.ConvShape.Create(1, channels, height, width, config.Channels[i], k, k, stride, padding);
                h = WithChannelBias(Compute.Reference.Conv2d(h, Slice(layout, p, $"encoder_conv.{i}.weight"), shape),
                    Slice(layout, p, $"encoder_conv.{i}.bias"), relu: true);
                (channels, height, width) = (config.Channels[i], shape.OutHeight, shape.OutWidth);
            }
            int features = h.Length;
            if (c > 0) h = WithOneHot(h, labels[b], c);
            for (int i = 0; i < config.Hidden.Count; i++)
                h = Linear(layout, p, $"encoder_dense.{i}", h, relu: true);
            var mu = Linear(layout, p, "mu", h, relu: false);
            var logvar = Linear(layout, p, "logvar", h, relu: false);
            var code = new double[z];
            double kl = 0;
            for (int j = 0; j < z; j++)
            {
                code[j] = mu[j] + eps[b * z + j] * Math.Exp(logvar[j] / 2);
                kl += -0.5 * (1 + logvar[j] - mu[j] * mu[j] - Math.Exp(logvar[j]));
            }
            h = code;
            for (int i = 0; i <= config.Hidden.Count; i++)
            {
                if (config.DecoderLayerReadsLabel(i))
                    h = WithOneHot(h, labels[b], c);
                h = Linear(layout, p, $"decoder_dense.{i}", h, relu: true);
            }
            Assert.Equal(features, h.Length);
            for (int i = config.Channels.Count - 1, t = 0; i >= 0; i--, t++)
            {
                int outChannels = i > 0 ? config.Channels[i - 1] : config.ImageChannels;
                var (outHeight, outWidth) = sizes[i];
                var dual = Kernels.ConvShape.Create(1, outChannels, outHeight, outWidth, channels, k, k, stride, padding);
                h = WithChannelBias(Compute.Reference.Conv2dTransposed(h, Slice(layout, p, $"decoder_conv.{t}.weight"), dual),
                    Slice(layout, p, $"decoder_conv.{t}.bias"), relu: i > 0);
                channels = outChannels;
            }
            total += NegativeLogDensity(config, layout, p, h, x.AsSpan(b * d, d)) + beta * kl;
        }
        return total;
    }

    /// <summary>
    /// -log p(x|z) of one item under the decoder's output h, written from the densities' textbook forms in double:
    /// the BCE on sigmoid(h); the continuous Bernoulli's BCE minus log C(sigmoid(h)) (the paper's formula); the
    /// Gaussian's 1/2 sum (log 2 pi + v + (x - h)^2 / exp(v)), v the tensor "out_logvar" or 2 log sigma.
    /// </summary>
    internal static double NegativeLogDensity(VaeConfig config, ParameterLayout layout, double[] p, double[] h, ReadOnlySpan<float> x)
    {
        double total = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double t = x[i];
            if (config.Likelihood == DecoderLikelihood.Gaussian)
            {
                double v = config.Sigma is float sigma ? 2 * Math.Log(sigma) : p[layout["out_logvar"].Offset + i];
                total += 0.5 * (Math.Log(2 * Math.PI) + v + (t - h[i]) * (t - h[i]) / Math.Exp(v));
                continue;
            }
            // The continuous Bernoulli's lambda is clamped to [2^-23, 1 - 2^-23] (DecoderKernels.LogitLimit).
            bool continuous = config.Likelihood == DecoderLikelihood.ContinuousBernoulli;
            double logit = continuous ? Math.Clamp(h[i], -Kernels.DecoderKernels.LogitLimit, Kernels.DecoderKernels.LogitLimit) : h[i];
            double sigmoid = 1 / (1 + Math.Exp(-logit));
            total -= t * Math.Log(sigmoid) + (1 - t) * Math.Log(1 - sigmoid);
            if (continuous)
                total -= Compute.Reference.ContinuousBernoulliLogNormalizer(logit);
        }
        return total;
    }

    private static ArraySegment<double> Slice(ParameterLayout layout, double[] p, string name) =>
        new(p, layout[name].Offset, layout[name].Length);

    // y[c, q] = f(x[c, q] + bias[c]) over one image's channel planes.
    private static double[] WithChannelBias(double[] x, IReadOnlyList<double> bias, bool relu)
    {
        int spatial = x.Length / bias.Count;
        return x.Select((v, e) => relu ? Math.Max(0, v + bias[e / spatial]) : v + bias[e / spatial]).ToArray();
    }

    /// <summary>[h | one-hot(label)], written out element by element.</summary>
    public static double[] WithOneHot(double[] h, int label, int classes)
    {
        var extended = new double[h.Length + classes];
        for (int i = 0; i < h.Length; i++) extended[i] = h[i];
        extended[h.Length + label] = 1;
        return extended;
    }

    /// <summary>y = f(W h + b) with W (out, in) at the layout's slot.</summary>
    internal static double[] Linear(ParameterLayout layout, double[] p, string name, double[] input, bool relu)
    {
        var weight = layout[name + ".weight"];
        var bias = layout[name + ".bias"];
        int outputs = weight.Shape[0], inputs = weight.Shape[1];
        var y = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double sum = p[bias.Offset + o];
            for (int i = 0; i < inputs; i++)
                sum += p[weight.Offset + o * inputs + i] * input[i];
            y[o] = relu ? Math.Max(0, sum) : sum;
        }
        return y;
    }

    /// <summary>Central differences of f at p, in double: (f(p + h) - f(p - h)) / 2h for each element.</summary>
    public static double[] FiniteDifferences(double[] p, Func<double[], double> f, double h = 1e-5)
    {
        var gradient = new double[p.Length];
        var work = (double[])p.Clone();
        for (int i = 0; i < p.Length; i++)
        {
            work[i] = p[i] + h;
            double plus = f(work);
            work[i] = p[i] - h;
            double minus = f(work);
            work[i] = p[i];
            gradient[i] = (plus - minus) / (2 * h);
        }
        return gradient;
    }
}
