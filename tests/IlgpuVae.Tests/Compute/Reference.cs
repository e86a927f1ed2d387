namespace IlgpuVae.Tests.Compute;

/// <summary>Plain double-precision references for every op: obviously correct, never fast.</summary>
public static class Reference
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
}
