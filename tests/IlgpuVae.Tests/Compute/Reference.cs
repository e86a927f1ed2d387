using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Compute;

/// <summary>Plain double-precision references for every op: obviously correct, never fast.</summary>
internal static class Reference
{
    public static double[] Gemm(bool transA, bool transB, int m, int n, int k, double alpha, float[] a, int lda,
        float[] b, int ldb, double beta, float[] c, int ldc)
    {
        var result = new double[c.Length];
        for (int i = 0; i < c.Length; i++)
            result[i] = c[i];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (double)(transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                result[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j]);
            }
        return result;
    }

    public static double Activation(double x, Kernels.Activation activation) => activation switch
    {
        Kernels.Activation.Relu => Math.Max(x, 0),
        Kernels.Activation.Sigmoid => 1 / (1 + Math.Exp(-x)),
        Kernels.Activation.Tanh => Math.Tanh(x),
        _ => x,
    };

    public static double ActivationDerivative(double x, Kernels.Activation activation) => activation switch
    {
        Kernels.Activation.Relu => x > 0 ? 1 : 0,
        Kernels.Activation.Sigmoid => Activation(x, activation) * (1 - Activation(x, activation)),
        Kernels.Activation.Tanh => 1 - Math.Tanh(x) * Math.Tanh(x),
        _ => 1,
    };

    /// <summary>KL per row and its gradient for stats (B, 2Z) = [mu | logvar].</summary>
    public static (double[] Kl, double[] Gradient) Kl(float[] stats, int latent, double scale)
    {
        int rows = stats.Length / (2 * latent);
        var kl = new double[rows];
        var grad = new double[stats.Length];
        for (int b = 0; b < rows; b++)
            for (int j = 0; j < latent; j++)
            {
                double mu = stats[b * 2 * latent + j], lv = stats[b * 2 * latent + latent + j];
                kl[b] += -0.5 * (1 + lv - mu * mu - Math.Exp(lv));
                grad[b * 2 * latent + j] = scale * mu;
                grad[b * 2 * latent + latent + j] = scale * 0.5 * (Math.Exp(lv) - 1);
            }
        return (kl, grad);
    }

    /// <summary>BCE on sigmoid(x) written the naive way, in double, and its gradient.</summary>
    public static (double[] Loss, double[] Gradient) Bce(float[] logits, float[] targets, int cols, double scale)
    {
        int rows = logits.Length / cols;
        var loss = new double[rows];
        var grad = new double[logits.Length];
        for (int i = 0; i < logits.Length; i++)
        {
            double x = logits[i], t = targets[i];
            double p = 1 / (1 + Math.Exp(-x));
            // log(1 - p) = -x - log(1 + exp(-x)), written through log1p for large x in double.
            double logP = -Math.Log(1 + Math.Exp(-x)), log1mP = -x - Math.Log(1 + Math.Exp(-x));
            if (x < -30) { logP = x; log1mP = 0; }
            if (x > 30) { logP = 0; log1mP = -x; }
            loss[i / cols] += -(t * logP + (1 - t) * log1mP);
            grad[i] = scale * (p - t);
        }
        return (loss, grad);
    }

    /// <summary>
    /// log C(lambda) of the continuous Bernoulli, written the paper's way: lambda = sigmoid(l) with l clamped to
    /// DecoderKernels.LogitLimit (PyTorch's clamp_probs), <c>log(2 atanh(1 - 2 lambda) / (1 - 2 lambda))</c>, and
    /// PyTorch's Taylor series <c>log 2 + 4/3 x^2 + 104/45 x^4</c> (x = lambda - 1/2) where |x| &lt; 1e-4, in double.
    /// </summary>
    public static double ContinuousBernoulliLogNormalizer(double logit)
    {
        double l = Math.Clamp(logit, -DecoderKernels.LogitLimit, DecoderKernels.LogitLimit);
        double lambda = 1 / (1 + Math.Exp(-l)), x = lambda - 0.5;
        if (Math.Abs(x) < 1e-4)
            return Math.Log(2) + (4.0 / 3 + 104.0 / 45 * x * x) * x * x;
        return Math.Log(2 * Math.Atanh(1 - 2 * lambda) / (1 - 2 * lambda));
    }

    /// <summary>The continuous Bernoulli's mean <c>lambda / (2 lambda - 1) + 1 / (2 atanh(1 - 2 lambda))</c>, in double (PyTorch's series near 1/2).</summary>
    public static double ContinuousBernoulliMean(double logit)
    {
        double l = Math.Clamp(logit, -DecoderKernels.LogitLimit, DecoderKernels.LogitLimit);
        double lambda = 1 / (1 + Math.Exp(-l)), x = lambda - 0.5;
        if (Math.Abs(x) < 1e-4)
            return 0.5 + (1.0 / 3 + 16.0 / 45 * x * x) * x;
        return lambda / (2 * lambda - 1) + 1 / (2 * Math.Atanh(1 - 2 * lambda));
    }

    /// <summary>
    /// The continuous Bernoulli's negative log density per row, <c>-log(C(lambda) lambda^x (1 - lambda)^(1 - x))</c>
    /// with lambda = sigmoid(l) clamped to [2^-23, 1 - 2^-23] (l to DecoderKernels.LogitLimit), in double; the
    /// gradient by a central difference in l of that whole expression (0 outside the clamp).
    /// </summary>
    public static (double[] Loss, double[] Gradient) ContinuousBernoulli(float[] logits, float[] targets, int cols, double scale)
    {
        static double Nll(double logit, double x)
        {
            double l = Math.Clamp(logit, -DecoderKernels.LogitLimit, DecoderKernels.LogitLimit);
            double lambda = 1 / (1 + Math.Exp(-l));
            return -(x * Math.Log(lambda) + (1 - x) * Math.Log(1 - lambda)) - ContinuousBernoulliLogNormalizer(l);
        }
        var loss = new double[logits.Length / cols];
        var grad = new double[logits.Length];
        for (int i = 0; i < logits.Length; i++)
        {
            double l = logits[i], t = targets[i], h = 1e-5 * Math.Max(1, Math.Abs(l));
            loss[i / cols] += Nll(l, t);
            grad[i] = scale * (Nll(l + h, t) - Nll(l - h, t)) / (2 * h);
        }
        return (loss, grad);
    }

    /// <summary>
    /// The diagonal Gaussian's negative log density per row, <c>1/2 sum (log 2 pi + v + (t - m)^2 / exp(v))</c>, with
    /// the gradients of the means and, per element, of the log-variance; targets (T, D) repeat over the rows.
    /// </summary>
    public static (double[] Loss, double[] Means, double[] LogVariance) Gaussian(float[] means, float[] logVariance,
        float[] targets, double scale)
    {
        int cols = logVariance.Length, rows = means.Length / cols;
        var loss = new double[rows];
        var dmeans = new double[means.Length];
        var dlogvar = new double[means.Length];
        for (int i = 0; i < means.Length; i++)
        {
            double v = logVariance[i % cols], r = means[i] - (double)targets[i % targets.Length];
            loss[i / cols] += 0.5 * (Math.Log(2 * Math.PI) + v + r * r / Math.Exp(v));
            dmeans[i] = scale * r / Math.Exp(v);
            dlogvar[i] = scale * 0.5 * (1 - r * r / Math.Exp(v));
        }
        return (loss, dmeans, dlogvar);
    }

    public static (double[] Loss, double[] Gradient) SoftmaxCrossEntropy(float[] logits, int[] labels, int classes, double scale)
    {
        int rows = labels.Length;
        var loss = new double[rows];
        var grad = new double[logits.Length];
        for (int b = 0; b < rows; b++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < classes; c++) max = Math.Max(max, logits[b * classes + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(logits[b * classes + c] - max);
            loss[b] = max + Math.Log(sum) - logits[b * classes + labels[b]];
            for (int c = 0; c < classes; c++)
                grad[b * classes + c] = scale * (Math.Exp(logits[b * classes + c] - max) / sum - (c == labels[b] ? 1 : 0));
        }
        return (loss, grad);
    }

    /// <summary>PyTorch's Adam step in double; returns (parameters, m, v).</summary>
    public static (double[] P, double[] M, double[] V) Adam(float[] p, float[] g, float[] m, float[] v, double lr,
        double beta1, double beta2, double eps, int t)
    {
        var rp = new double[p.Length];
        var rm = new double[p.Length];
        var rv = new double[p.Length];
        for (int i = 0; i < p.Length; i++)
        {
            rm[i] = beta1 * m[i] + (1 - beta1) * g[i];
            rv[i] = beta2 * v[i] + (1 - beta2) * g[i] * (double)g[i];
            double mHat = rm[i] / (1 - Math.Pow(beta1, t)), vHat = rv[i] / (1 - Math.Pow(beta2, t));
            rp[i] = p[i] - lr * mHat / (Math.Sqrt(vHat) + eps * 1);
        }
        return (rp, rm, rv);
    }

    /// <summary>y[b, o, u, v] = sum_{c, i, j} w[o, c, i, j] x[b, c, u S - P + i, v S - P + j] over doubles.</summary>
    public static double[] Conv2d(IReadOnlyList<double> x, IReadOnlyList<double> w, ConvShape s)
    {
        var y = new double[s.OutputLength];
        for (int b = 0; b < s.Batch; b++)
            for (int o = 0; o < s.OutChannels; o++)
                for (int u = 0; u < s.OutHeight; u++)
                    for (int v = 0; v < s.OutWidth; v++)
                    {
                        double sum = 0;
                        for (int c = 0; c < s.InChannels; c++)
                            for (int i = 0; i < s.KernelHeight; i++)
                                for (int j = 0; j < s.KernelWidth; j++)
                                {
                                    int h = u * s.Stride - s.Padding + i, q = v * s.Stride - s.Padding + j;
                                    if (h >= 0 && h < s.InHeight && q >= 0 && q < s.InWidth)
                                        sum += w[((o * s.InChannels + c) * s.KernelHeight + i) * s.KernelWidth + j]
                                            * x[((b * s.InChannels + c) * s.InHeight + h) * s.InWidth + q];
                                }
                        y[((b * s.OutChannels + o) * s.OutHeight + u) * s.OutWidth + v] = sum;
                    }
        return y;
    }

    /// <summary>The transposed convolution by scattering: every y[b, o, u, v] w[o, c, i, j] added to its x pixel.</summary>
    public static double[] Conv2dTransposed(IReadOnlyList<double> y, IReadOnlyList<double> w, ConvShape s)
    {
        var x = new double[s.InputLength];
        for (int b = 0; b < s.Batch; b++)
            for (int o = 0; o < s.OutChannels; o++)
                for (int u = 0; u < s.OutHeight; u++)
                    for (int v = 0; v < s.OutWidth; v++)
                        for (int c = 0; c < s.InChannels; c++)
                            for (int i = 0; i < s.KernelHeight; i++)
                                for (int j = 0; j < s.KernelWidth; j++)
                                {
                                    int h = u * s.Stride - s.Padding + i, q = v * s.Stride - s.Padding + j;
                                    if (h >= 0 && h < s.InHeight && q >= 0 && q < s.InWidth)
                                        x[((b * s.InChannels + c) * s.InHeight + h) * s.InWidth + q] +=
                                            w[((o * s.InChannels + c) * s.KernelHeight + i) * s.KernelWidth + j]
                                            * y[((b * s.OutChannels + o) * s.OutHeight + u) * s.OutWidth + v];
                                }
        return x;
    }

    /// <summary>dw[o, c, i, j] = sum_{b, u, v} dy[b, o, u, v] x[b, c, u S - P + i, v S - P + j] (not accumulated).</summary>
    public static double[] Conv2dWeightGradient(IReadOnlyList<double> x, IReadOnlyList<double> dy, ConvShape s)
    {
        var dw = new double[s.WeightLength];
        for (int b = 0; b < s.Batch; b++)
            for (int o = 0; o < s.OutChannels; o++)
                for (int u = 0; u < s.OutHeight; u++)
                    for (int v = 0; v < s.OutWidth; v++)
                        for (int c = 0; c < s.InChannels; c++)
                            for (int i = 0; i < s.KernelHeight; i++)
                                for (int j = 0; j < s.KernelWidth; j++)
                                {
                                    int h = u * s.Stride - s.Padding + i, q = v * s.Stride - s.Padding + j;
                                    if (h >= 0 && h < s.InHeight && q >= 0 && q < s.InWidth)
                                        dw[((o * s.InChannels + c) * s.KernelHeight + i) * s.KernelWidth + j] +=
                                            dy[((b * s.OutChannels + o) * s.OutHeight + u) * s.OutWidth + v]
                                            * x[((b * s.InChannels + c) * s.InHeight + h) * s.InWidth + q];
                                }
        return dw;
    }

    /// <summary>
    /// log N(z; pmu, exp(plv)) - log N(z; 0, I) per row, every density written out with its 2 pi terms: prior is (R, 2Z)
    /// [pmu | plv], z (R, Z).
    /// </summary>
    public static double[] PriorLogRatio(float[] prior, float[] z, int latent)
    {
        int rows = z.Length / latent;
        var result = new double[rows];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < latent; j++)
            {
                double value = z[r * latent + j], mu = prior[r * 2 * latent + j], logvar = prior[r * 2 * latent + latent + j];
                double conditional = -0.5 * Math.Log(2 * Math.PI) - 0.5 * logvar - 0.5 * (value - mu) * (value - mu) / Math.Exp(logvar);
                double standard = -0.5 * Math.Log(2 * Math.PI) - 0.5 * value * value;
                result[r] += conditional - standard;
            }
        return result;
    }
}
