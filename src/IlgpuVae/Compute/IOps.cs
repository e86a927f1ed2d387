using ILGPU;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>
/// Every numerical operation the models need, on device views. Matrices are row-major; shape letters:
/// B batch, D input features, H hidden, Z latent, C classes. Launches are asynchronous: nothing here waits
/// for the device except <see cref="Synchronize"/>. Two implementations: <see cref="KernelOps"/> (ILGPU kernels,
/// any accelerator) and <see cref="CpuOps"/> (vectorised host code on the CPU accelerator's buffers).
/// An instance serves one thread at a time, like the accelerator stream it launches on.
/// </summary>
internal interface IOps
{
    /// <summary>A short name: "kernels" or "vectorized".</summary>
    string Name { get; }

    /// <summary>
    /// <c>C = alpha op(A) op(B) + beta C</c>; op(A) is M x K, op(B) is K x N, C is M x N, with leading
    /// dimensions (row strides) lda, ldb, ldc. When beta is 0, C is not read.
    /// </summary>
    void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, ArrayView<float> a, int lda,
        ArrayView<float> b, int ldb, float beta, ArrayView<float> c, int ldc);

    /// <summary>Sets every element of x to value.</summary>
    void Fill(ArrayView<float> x, float value);

    /// <summary>In place: <c>x[r, c] = f(x[r, c] + bias[c])</c>; x is (rows, bias.Length).</summary>
    void BiasActivation(ArrayView<float> x, ArrayView<float> bias, Activation activation);

    /// <summary><c>y = f(x)</c> element-wise (may alias).</summary>
    void Activate(ArrayView<float> x, ArrayView<float> y, Activation activation);

    /// <summary><c>dx = dy f'(y)</c> element-wise through the forward's output y (dx may alias dy).</summary>
    void ActivationBackward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, Activation activation);

    /// <summary><c>dbias[c] += sum_r dy[r, c]</c>; dy is (rows, dbias.Length).</summary>
    void BiasGradient(ArrayView<float> dy, ArrayView<float> dbias);

    /// <summary><c>z = mu + eps exp(logvar / 2)</c>; stats is (B, 2Z) as [mu | logvar], eps and z are (B, Z).</summary>
    void Reparameterize(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, int latent);

    /// <summary><c>dmu += dz</c>, <c>dlogvar += dz eps exp(logvar / 2) / 2</c>; dstats is (B, 2Z).</summary>
    void ReparameterizeBackward(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> dz,
        ArrayView<float> dstats, int latent);

    /// <summary>
    /// KL(N(mu, exp(logvar)) || N(0, I)) per sample into kl (B), and its gradient times scale assigned to
    /// dstats (B, 2Z).
    /// </summary>
    void KlDivergence(ArrayView<float> stats, ArrayView<float> kl, ArrayView<float> dstats, int latent, float scale);

    /// <summary>
    /// Summed BCE on logits per sample into loss (B), and <c>dlogits = scale (sigmoid(logits) - targets)</c>;
    /// logits and dlogits are (B, D), targets (T, D) with T dividing B: row b reads target row b mod T (the K
    /// sample-major copies of T images of a multi-sample objective; T = B otherwise). When <paramref name="slot"/> is not negative, also
    /// <c>totals[slot] += sum(loss)</c> (deterministic).
    /// </summary>
    void BceWithLogits(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> loss,
        ArrayView<float> dlogits, float scale, ArrayView<float> totals = default, int slot = -1);

    /// <summary>
    /// The continuous Bernoulli's summed negative log density per sample into loss (B):
    /// <c>sum_d [BCE(logits, targets) - log C(logits)]</c>, and <c>dlogits = scale (sigmoid(logits) - targets -
    /// d log C / d logits)</c> (<see cref="Kernels.DecoderKernels.LogNormalizer"/>); logits and dlogits are (B, D),
    /// targets (T, D) with T dividing B (row b reads target row b mod T).
    /// </summary>
    void ContinuousBernoulliWithLogits(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> loss,
        ArrayView<float> dlogits, float scale);

    /// <summary>
    /// The diagonal Gaussian's summed negative log density per sample into loss (B):
    /// <c>1/2 sum_d [log(2 pi) + v_d + (targets - means)^2 exp(-v_d)]</c>, <c>dmeans = scale (means - targets)
    /// exp(-v_d)</c> and per element <c>dlogVariance = scale (1 - (targets - means)^2 exp(-v_d)) / 2</c>; means,
    /// dmeans and dlogVariance are (B, D), logVariance v is (D), targets (T, D) with T dividing B.
    /// </summary>
    void GaussianNll(ArrayView<float> means, ArrayView<float> logVariance, ArrayView<float> targets,
        ArrayView<float> loss, ArrayView<float> dmeans, ArrayView<float> dlogVariance, float scale);

    /// <summary><c>means[i] = 1 / (1 - exp(-l)) - 1 / l</c>, the continuous Bernoulli's mean of logit l = logits[i] (may alias).</summary>
    void ContinuousBernoulliMean(ArrayView<float> logits, ArrayView<float> means);

    /// <summary>
    /// Softmax cross-entropy per sample into loss (B) and <c>dlogits = scale (softmax - onehot)</c>;
    /// logits and dlogits are (B, C).
    /// </summary>
    void SoftmaxCrossEntropy(ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> loss,
        ArrayView<float> dlogits, float scale);

    /// <summary><c>output[r] = sum_c x[r, c]</c>, or += when accumulate; x is (output.Length, cols).</summary>
    void RowSum(ArrayView<float> x, ArrayView<float> output, int cols, bool accumulate);

    /// <summary><c>totals[slot] += sum(x)</c>, deterministic, on the device.</summary>
    void SumInto(ArrayView<float> x, ArrayView<float> totals, int slot);

    /// <summary>One Adam step over the flat parameters; zeroes the gradients.</summary>
    void Adam(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v,
        AdamStep step);

    /// <summary>
    /// The log importance weight of one posterior sample per image into column <paramref name="column"/> of
    /// logWeights (B, K): <c>log w = -reconstruction + 1/2 sum_j (logvar_j + eps_j^2 - z_j^2)</c>, which is
    /// log p(x|z) + log p(z) - log q(z|x); stats is (B, 2Z), eps and z are (B, Z), reconstruction (B) is the
    /// summed BCE.
    /// </summary>
    void ImportanceLogWeight(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z,
        ArrayView<float> reconstruction, ArrayView<float> logWeights, int latent, int column);

    /// <summary>
    /// <c>output[r] = log sum_c exp(x[r, c])</c>, computed stably as <c>M + log sum_c exp(x[r, c] - M)</c> with the
    /// row maximum M; x is (output.Length, cols).
    /// </summary>
    void RowLogSumExp(ArrayView<float> x, ArrayView<float> output, int cols);

    /// <summary>
    /// K posterior samples per image, sample-major: eps (K B, Z) from the (seed, step) stream (element e takes the
    /// stream's value e, as <see cref="Normal"/> writes it), zero, or kept; <c>z[k B + b] = mu_b + exp(lv_b / 2) eps</c>;
    /// <c>logRatio[r] = log p(z_r) - log q(z_r|x) = 1/2 sum_j (eps^2 - z^2 + lv)</c>. stats is (B, 2Z), logRatio (K B).
    /// </summary>
    void ImportanceSample(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, ArrayView<float> logRatio,
        int latent, NoiseSource noise, ulong seed, ulong step);

    /// <summary>
    /// Per image b of B, over its K sample-major rows of summed BCE: with <paramref name="importance"/>, the
    /// normalised importance weights <c>omega = softmax_k(logRatio - bce)</c>, the weighted reconstruction
    /// <c>sum_k omega_k bce_k</c> and <c>rest = log K - logsumexp_k(logRatio - bce) - reconstruction</c> (the bound is
    /// their sum); without it, <c>omega = 1 / K</c> and the mean BCE, leaving rest alone. bce, logRatio and weights
    /// are (K B), reconstruction and rest (B).
    /// </summary>
    void ImportanceWeights(ArrayView<float> bce, ArrayView<float> logRatio, ArrayView<float> weights,
        ArrayView<float> reconstruction, ArrayView<float> rest, bool importance);

    /// <summary><c>x[r, :] *= weights[r]</c>; x is (weights.Length, C).</summary>
    void ScaleRows(ArrayView<float> x, ArrayView<float> weights);

    /// <summary>
    /// The gradient of [mu | logvar] (B, 2Z) from K sample-major samples' dz (K B, Z). The importance-weighted
    /// bound's: <c>g = dz + omega z</c>, <c>dmu = sum_k g</c>, <c>dlv = sum_k g eps exp(lv / 2) / 2 - 1/2</c>, assigned.
    /// DReG's: <c>g = omega (dz + omega (z - eps exp(-lv / 2)))</c>, <c>dmu = sum_k g</c>,
    /// <c>dlv = sum_k g eps exp(lv / 2) / 2</c>, assigned. The average's: <c>dmu += sum_k dz</c> and
    /// <c>dlv += sum_k dz eps exp(lv / 2) / 2</c>. The weighted one's (two stochastic layers): as the importance-weighted
    /// bound's with <c>- sum_k w / 2</c> in place of <c>- 1/2</c>.
    /// </summary>
    void ImportanceSampleBackward(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, ArrayView<float> dz,
        ArrayView<float> weights, ArrayView<float> dstats, int latent, SampleGradient mode);

    /// <summary>
    /// A two-stochastic-layer model's conditional prior in the log ratio: per row r,
    /// <c>logRatio[r] += inner[r] + 1/2 sum_j (z^2 - plv - (z - pmu)^2 exp(-plv))</c>, i.e. adds
    /// <c>log N(z; pmu, exp(plv)) - log N(z; 0, I)</c> and <c>inner</c>. prior is [pmu | plv] (R, 2Z), z (R, Z), inner and
    /// logRatio (R).
    /// </summary>
    void PriorLogRatio(ArrayView<float> prior, ArrayView<float> z, ArrayView<float> inner, ArrayView<float> logRatio, int latent);

    /// <summary>
    /// The gradient of <c>-sum_r w_r [log N(z_r; pmu_r, exp(plv_r)) - log N(z_r; 0, I)]</c>, with <c>d = z - pmu</c>:
    /// <c>dpmu = -w d exp(-plv)</c> and <c>dplv = w (1 - d^2 exp(-plv)) / 2</c> assigned to dprior (R, 2Z), and
    /// <c>dz += -w (z - d exp(-plv))</c> (R, Z).
    /// </summary>
    void PriorLogRatioBackward(ArrayView<float> prior, ArrayView<float> z, ArrayView<float> weights, ArrayView<float> dprior,
        ArrayView<float> dz, int latent);

    /// <summary><c>logWeights[b, column] = logRatio[b] - reconstruction[b]</c>; logWeights is (B, K).</summary>
    void LogWeightColumn(ArrayView<float> logRatio, ArrayView<float> reconstruction, ArrayView<float> logWeights, int column);

    /// <summary>Dynamic binarisation in place: <c>x[i] = u_i &lt; x[i] ? 1 : 0</c>, u_i uniform from the (seed, step) stream.</summary>
    void Bernoulli(ArrayView<float> x, ulong seed, ulong step);

    /// <summary>
    /// Uniform dequantisation in place of 8-bit values scaled to [0, 1]: <c>x[i] = (round(255 x[i]) + u_i) / 256</c>,
    /// u_i uniform in [0, 1) from the (seed, step) stream.
    /// </summary>
    void Dequantize(ArrayView<float> x, ulong seed, ulong step);

    /// <summary>Fills output with N(0, 1) numbers that depend only on (seed, step, index).</summary>
    void Normal(ArrayView<float> output, ulong seed, ulong step);

    /// <summary><c>batch[r, f] = images[order[start + r], f] / 255</c>; batch is (rows, features).</summary>
    void GatherImages(ArrayView<byte> images, ArrayView<int> order, int start, ArrayView<float> batch, int features);

    /// <summary>
    /// <c>batch[r, f] = rows[order[start + r], f]</c>: real-valued rows (N, features) gathered as they are (no scaling),
    /// into batch (B, features).
    /// </summary>
    void GatherRows(ArrayView<float> rows, ArrayView<int> order, int start, ArrayView<float> batch, int features);

    /// <summary><c>output[r] = labels[order[start + r]]</c>.</summary>
    void GatherLabels(ArrayView<byte> labels, ArrayView<int> order, int start, ArrayView<int> output);

    /// <summary><c>output[r] = [x[r, :], onehot(labels[r])]</c>; x is (rows, F), output (rows, F + C).</summary>
    void OneHotConcat(ArrayView<float> x, ArrayView<int> labels, ArrayView<float> output, int features, int classes);

    /// <summary>
    /// 2-D convolution over NCHW tensors, assigned: <c>y[b, o, u, v] = sum_{c, i, j} w[o, c, i, j]
    /// x[b, c, u S - P + i, v S - P + j]</c>, x zero outside; x is (B, C, H, W), weight [O, C, KH, KW], y (B, O, OH, OW).
    /// </summary>
    void Conv2d(ArrayView<float> x, ArrayView<float> weight, ArrayView<float> y, ConvShape shape);

    /// <summary>
    /// The transposed convolution of <paramref name="shape"/>, assigned: <c>x[b, c, h, q] = sum_{o, i, j}
    /// w[o, c, i, j] y[b, o, u, v]</c> over u S - P + i = h, v S - P + j = q. With y = dL/dy it is the convolution's
    /// input gradient; it is also nn.ConvTranspose2d's forward, whose [in, out, KH, KW] weight is [O, C, KH, KW] here.
    /// </summary>
    void Conv2dTransposed(ArrayView<float> y, ArrayView<float> weight, ArrayView<float> x, ConvShape shape);

    /// <summary>
    /// The convolution's weight gradient, added: <c>dw[o, c, i, j] += sum_{b, u, v} dy[b, o, u, v]
    /// x[b, c, u S - P + i, v S - P + j]</c>; x is (B, C, H, W), dy (B, O, OH, OW).
    /// </summary>
    void Conv2dWeightGradient(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dweight, ConvShape shape);

    /// <summary>In place: <c>x[b, c, p] = f(x[b, c, p] + bias[c])</c>; x is (B, C, spatial).</summary>
    void ChannelBiasActivation(ArrayView<float> x, ArrayView<float> bias, int spatial, Activation activation);

    /// <summary><c>dbias[c] += sum_{b, p} dy[b, c, p]</c>; dy is (B, C, spatial).</summary>
    void ChannelBiasGradient(ArrayView<float> dy, ArrayView<float> dbias, int spatial);

    /// <summary>Waits for every launched operation to finish.</summary>
    void Synchronize();

    // The fused ops of a training step. Each is defined as the sequence of plain ops it replaces (the defaults
    // below, which the vectorised ops use, so their results are bit-identical to that sequence); the kernels
    // implement each in one launch (docs/theory.md, "Fewer launches").

    /// <summary>
    /// A linear layer's forward, <c>y = f(x W^T + b)</c>: x is (rows, inputs), W (outputs, inputs), b (outputs),
    /// y (rows, outputs). The same as <see cref="Gemm"/> NT then <see cref="BiasActivation"/>.
    /// </summary>
    void LinearForward(ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y,
        int rows, int inputs, int outputs, Activation activation)
    {
        Gemm(false, true, rows, outputs, inputs, 1f, x, inputs, weight, inputs, 0f, y, outputs);
        BiasActivation(y.SubView(0, (long)rows * outputs), bias, activation);
    }

    /// <summary>
    /// A linear layer's parameter gradients, accumulated: <c>db += colsum(dy)</c>, <c>dW += dy^T x</c>; dy is
    /// (rows, outputs), x (rows, inputs), dW (outputs, inputs), db (outputs). The same as <see cref="BiasGradient"/>
    /// then <see cref="Gemm"/> TN with beta 1.
    /// </summary>
    void LinearParameterGradient(ArrayView<float> dy, ArrayView<float> x, ArrayView<float> weightGradient,
        ArrayView<float> biasGradient, int rows, int inputs, int outputs)
    {
        BiasGradient(dy.SubView(0, (long)rows * outputs), biasGradient);
        Gemm(true, false, outputs, inputs, rows, 1f, dy, outputs, x, inputs, 1f, weightGradient, inputs);
    }

    /// <summary>
    /// A linear layer's input gradient taken on through the activation of the layer below:
    /// <c>dx = (dy W[:, :columns]) f'(below)</c>, where below (rows, columns) is that activation's output; dy is
    /// (rows, outputs), W (outputs, inputs), dx (rows, columns). The same as <see cref="Gemm"/> NN then
    /// <see cref="ActivationBackward"/> (none for the identity).
    /// </summary>
    void LinearInputGradient(ArrayView<float> dy, ArrayView<float> weight, ArrayView<float> dx, int rows, int inputs,
        int outputs, int columns, ArrayView<float> below, Activation activation)
    {
        Gemm(false, false, rows, columns, outputs, 1f, dy, outputs, weight, inputs, 0f, dx, columns);
        if (activation != Activation.Identity)
        {
            long size = (long)rows * columns;
            ActivationBackward(below.SubView(0, size), dx.SubView(0, size), dx.SubView(0, size), activation);
        }
    }

    /// <summary>
    /// A Gaussian sample's forward: eps from <paramref name="noise"/> ((seed, step) stream, zero, or kept), z, the
    /// KL per sample and its gradient times scale assigned to dstats, and, when <paramref name="slot"/> is not
    /// negative, <c>totals[slot] += sum(kl)</c>. stats and dstats are (B, 2Z), eps and z (B, Z), kl (B). The same
    /// as <see cref="Normal"/> (or <see cref="Fill"/>), <see cref="Reparameterize"/>, <see cref="KlDivergence"/>
    /// and <see cref="SumInto"/>.
    /// </summary>
    void GaussianSample(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, ArrayView<float> kl,
        ArrayView<float> dstats, int latent, float scale, NoiseSource noise, ulong seed, ulong step,
        ArrayView<float> totals, int slot)
    {
        if (noise == NoiseSource.Draw)
            Normal(eps, seed, step);
        else if (noise == NoiseSource.Zero)
            Fill(eps, 0f);
        Reparameterize(stats, eps, z, latent);
        KlDivergence(stats, kl, dstats, latent, scale);
        if (slot >= 0)
            SumInto(kl, totals, slot);
    }
}
