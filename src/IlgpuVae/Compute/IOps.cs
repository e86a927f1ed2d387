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
    /// logits, targets and dlogits are (B, D).
    /// </summary>
    void BceWithLogits(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> loss,
        ArrayView<float> dlogits, float scale);

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

    /// <summary>Fills output with N(0, 1) numbers that depend only on (seed, step, index).</summary>
    void Normal(ArrayView<float> output, ulong seed, ulong step);

    /// <summary><c>batch[r, f] = images[order[start + r], f] / 255</c>; batch is (rows, features).</summary>
    void GatherImages(ArrayView<byte> images, ArrayView<int> order, int start, ArrayView<float> batch, int features);

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
}
