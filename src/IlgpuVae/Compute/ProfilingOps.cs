using System.Diagnostics;
using System.Runtime.CompilerServices;
using ILGPU;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>
/// An <see cref="IOps"/> decorator that synchronises after every op and adds its time to a per-op (and, for GEMM,
/// per-shape) table: a profiler for benchmarks. The synchronisations cost time, so totals exceed a normal run's.
/// </summary>
internal sealed class ProfilingOps(IOps inner) : IOps
{
    private readonly Dictionary<string, (double Seconds, long Calls)> _table = [];

    /// <summary>Seconds and calls per op name, largest first.</summary>
    public IReadOnlyList<(string Op, double Seconds, long Calls)> Table =>
        _table.Select(e => (e.Key, e.Value.Seconds, e.Value.Calls)).OrderByDescending(e => e.Seconds).ToList();

    /// <summary>Forgets what was measured.</summary>
    public void Reset() => _table.Clear();

    private void Time(Action op, string? detail = null, [CallerMemberName] string name = "")
    {
        long start = Stopwatch.GetTimestamp();
        op();
        inner.Synchronize();
        string key = detail is null ? name : $"{name} {detail}";
        var (seconds, calls) = _table.GetValueOrDefault(key);
        _table[key] = (seconds + Stopwatch.GetElapsedTime(start).TotalSeconds, calls + 1);
    }

    /// <inheritdoc />
    public string Name => inner.Name;

    /// <inheritdoc />
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, ArrayView<float> a, int lda,
        ArrayView<float> b, int ldb, float beta, ArrayView<float> c, int ldc) =>
        Time(() => inner.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc),
            $"{(transA ? 'T' : 'N')}{(transB ? 'T' : 'N')} {m}x{n}x{k}");

    /// <inheritdoc />
    public void Fill(ArrayView<float> x, float value) => Time(() => inner.Fill(x, value));

    /// <inheritdoc />
    public void BiasActivation(ArrayView<float> x, ArrayView<float> bias, Activation activation) =>
        Time(() => inner.BiasActivation(x, bias, activation), $"{x.Length / bias.Length}x{bias.Length}");

    /// <inheritdoc />
    public void Activate(ArrayView<float> x, ArrayView<float> y, Activation activation) => Time(() => inner.Activate(x, y, activation));

    /// <inheritdoc />
    public void ActivationBackward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, Activation activation) =>
        Time(() => inner.ActivationBackward(y, dy, dx, activation), $"{y.Length}");

    /// <inheritdoc />
    public void BiasGradient(ArrayView<float> dy, ArrayView<float> dbias) =>
        Time(() => inner.BiasGradient(dy, dbias), $"{dy.Length / dbias.Length}x{dbias.Length}");

    /// <inheritdoc />
    public void Reparameterize(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, int latent) =>
        Time(() => inner.Reparameterize(stats, eps, z, latent));

    /// <inheritdoc />
    public void ReparameterizeBackward(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> dz, ArrayView<float> dstats, int latent) =>
        Time(() => inner.ReparameterizeBackward(stats, eps, dz, dstats, latent));

    /// <inheritdoc />
    public void KlDivergence(ArrayView<float> stats, ArrayView<float> kl, ArrayView<float> dstats, int latent, float scale) =>
        Time(() => inner.KlDivergence(stats, kl, dstats, latent, scale));

    /// <inheritdoc />
    public void BceWithLogits(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> loss, ArrayView<float> dlogits, float scale,
        ArrayView<float> totals = default, int slot = -1) =>
        Time(() => inner.BceWithLogits(logits, targets, loss, dlogits, scale, totals, slot));

    /// <inheritdoc />
    public void SoftmaxCrossEntropy(ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> loss, ArrayView<float> dlogits, float scale) =>
        Time(() => inner.SoftmaxCrossEntropy(logits, labels, loss, dlogits, scale));

    /// <inheritdoc />
    public void RowSum(ArrayView<float> x, ArrayView<float> output, int cols, bool accumulate) =>
        Time(() => inner.RowSum(x, output, cols, accumulate));

    /// <inheritdoc />
    public void SumInto(ArrayView<float> x, ArrayView<float> totals, int slot) => Time(() => inner.SumInto(x, totals, slot));

    /// <inheritdoc />
    public void Adam(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v, AdamStep step) =>
        Time(() => inner.Adam(parameters, gradients, m, v, step));

    /// <inheritdoc />
    public void ImportanceLogWeight(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, ArrayView<float> reconstruction,
        ArrayView<float> logWeights, int latent, int column) =>
        Time(() => inner.ImportanceLogWeight(stats, eps, z, reconstruction, logWeights, latent, column));

    /// <inheritdoc />
    public void RowLogSumExp(ArrayView<float> x, ArrayView<float> output, int cols) => Time(() => inner.RowLogSumExp(x, output, cols));

    /// <inheritdoc />
    public void Normal(ArrayView<float> output, ulong seed, ulong step) => Time(() => inner.Normal(output, seed, step));

    /// <inheritdoc />
    public void ImportanceSample(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, ArrayView<float> logRatio,
        int latent, NoiseSource noise, ulong seed, ulong step) =>
        Time(() => inner.ImportanceSample(stats, eps, z, logRatio, latent, noise, seed, step));

    /// <inheritdoc />
    public void ImportanceWeights(ArrayView<float> bce, ArrayView<float> logRatio, ArrayView<float> weights,
        ArrayView<float> reconstruction, ArrayView<float> rest, bool importance) =>
        Time(() => inner.ImportanceWeights(bce, logRatio, weights, reconstruction, rest, importance));

    /// <inheritdoc />
    public void ScaleRows(ArrayView<float> x, ArrayView<float> weights) => Time(() => inner.ScaleRows(x, weights));

    /// <inheritdoc />
    public void ImportanceSampleBackward(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, ArrayView<float> dz,
        ArrayView<float> weights, ArrayView<float> dstats, int latent, SampleGradient mode) =>
        Time(() => inner.ImportanceSampleBackward(stats, eps, z, dz, weights, dstats, latent, mode));

    /// <inheritdoc />
    public void Bernoulli(ArrayView<float> x, ulong seed, ulong step) => Time(() => inner.Bernoulli(x, seed, step));

    /// <inheritdoc />
    public void Dequantize(ArrayView<float> x, ulong seed, ulong step) => Time(() => inner.Dequantize(x, seed, step));

    /// <inheritdoc />
    public void ContinuousBernoulliWithLogits(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> loss,
        ArrayView<float> dlogits, float scale) =>
        Time(() => inner.ContinuousBernoulliWithLogits(logits, targets, loss, dlogits, scale));

    /// <inheritdoc />
    public void GaussianNll(ArrayView<float> means, ArrayView<float> logVariance, ArrayView<float> targets,
        ArrayView<float> loss, ArrayView<float> dmeans, ArrayView<float> dlogVariance, float scale) =>
        Time(() => inner.GaussianNll(means, logVariance, targets, loss, dmeans, dlogVariance, scale));

    /// <inheritdoc />
    public void ContinuousBernoulliMean(ArrayView<float> logits, ArrayView<float> means) =>
        Time(() => inner.ContinuousBernoulliMean(logits, means));

    /// <inheritdoc />
    public void GatherImages(ArrayView<byte> images, ArrayView<int> order, int start, ArrayView<float> batch, int features) =>
        Time(() => inner.GatherImages(images, order, start, batch, features));

    /// <inheritdoc />
    public void GatherLabels(ArrayView<byte> labels, ArrayView<int> order, int start, ArrayView<int> output) =>
        Time(() => inner.GatherLabels(labels, order, start, output));

    /// <inheritdoc />
    public void OneHotConcat(ArrayView<float> x, ArrayView<int> labels, ArrayView<float> output, int features, int classes) =>
        Time(() => inner.OneHotConcat(x, labels, output, features, classes));

    /// <inheritdoc />
    public void LinearForward(ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y,
        int rows, int inputs, int outputs, Activation activation) =>
        Time(() => inner.LinearForward(x, weight, bias, y, rows, inputs, outputs, activation), $"{rows}x{outputs}x{inputs}");

    /// <inheritdoc />
    public void LinearParameterGradient(ArrayView<float> dy, ArrayView<float> x, ArrayView<float> weightGradient,
        ArrayView<float> biasGradient, int rows, int inputs, int outputs) =>
        Time(() => inner.LinearParameterGradient(dy, x, weightGradient, biasGradient, rows, inputs, outputs), $"{outputs}x{inputs}x{rows}");

    /// <inheritdoc />
    public void LinearInputGradient(ArrayView<float> dy, ArrayView<float> weight, ArrayView<float> dx, int rows, int inputs,
        int outputs, int columns, ArrayView<float> below, Activation activation) =>
        Time(() => inner.LinearInputGradient(dy, weight, dx, rows, inputs, outputs, columns, below, activation), $"{rows}x{columns}x{outputs}");

    /// <inheritdoc />
    public void GaussianSample(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, ArrayView<float> kl,
        ArrayView<float> dstats, int latent, float scale, NoiseSource noise, ulong seed, ulong step,
        ArrayView<float> totals, int slot) =>
        Time(() => inner.GaussianSample(stats, eps, z, kl, dstats, latent, scale, noise, seed, step, totals, slot));

    /// <inheritdoc />
    public void Synchronize() => inner.Synchronize();

    /// <inheritdoc />
    public void Conv2d(ArrayView<float> x, ArrayView<float> weight, ArrayView<float> y, ConvShape shape) =>
        Time(() => inner.Conv2d(x, weight, y, shape), shape.ToString());

    /// <inheritdoc />
    public void Conv2dTransposed(ArrayView<float> y, ArrayView<float> weight, ArrayView<float> x, ConvShape shape) =>
        Time(() => inner.Conv2dTransposed(y, weight, x, shape), shape.ToString());

    /// <inheritdoc />
    public void Conv2dWeightGradient(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dweight, ConvShape shape) =>
        Time(() => inner.Conv2dWeightGradient(x, dy, dweight, shape), shape.ToString());

    /// <inheritdoc />
    public void ChannelBiasActivation(ArrayView<float> x, ArrayView<float> bias, int spatial, Activation activation) =>
        Time(() => inner.ChannelBiasActivation(x, bias, spatial, activation), $"{x.Length / bias.Length / spatial}x{bias.Length}x{spatial}");

    /// <inheritdoc />
    public void ChannelBiasGradient(ArrayView<float> dy, ArrayView<float> dbias, int spatial) =>
        Time(() => inner.ChannelBiasGradient(dy, dbias, spatial), $"{dy.Length / dbias.Length / spatial}x{dbias.Length}x{spatial}");
}
