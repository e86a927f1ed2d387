using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>
/// <see cref="IOps"/> by ILGPU kernels, on any accelerator. Every kernel is loaded once here and its delegate kept.
/// Element-wise kernels are grid-stride with a launch extent that fills the device once. On GPUs the GEMM is the
/// shared-memory, register-tiled kernel; on the CPU accelerator the grid-stride one (tiled kernels crawl there).
/// </summary>
internal sealed class KernelOps : IOps, IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly int _extent;
    private readonly bool _useTiledGemm;
    private readonly int _bceChunks;
    private MemoryBuffer1D<float, Stride1D.Dense>? _scratch;

    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape> _gemmGridStride;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape> _gemmTiled;
    private readonly Action<Index1D, int, ArrayView<float>, float> _fill;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int, int> _biasActivation;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int> _activation;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _activationBackward;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int> _biasGradient;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _reparameterize;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _reparameterizeBackward;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> _kl;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> _bce;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, float> _softmax;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int, int> _rowSum;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>> _partialSum;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _finalSum;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamStep> _adam;
    private readonly Action<Index1D, int, ArrayView<float>, ulong> _normal;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _importanceLogWeight;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int> _rowLogSumExp;
    private readonly Action<Index1D, int, ArrayView<byte>, ArrayView<int>, ArrayView<float>, int, int> _gatherImages;
    private readonly Action<Index1D, int, ArrayView<byte>, ArrayView<int>, ArrayView<int>, int> _gatherLabels;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int> _oneHotConcat;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvShape> _conv2d;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvShape> _conv2dTransposed;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvShape> _conv2dWeightGradient;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int, int> _channelBiasActivation;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int, int> _channelBiasGradient;

    /// <summary>Loads every kernel on <paramref name="accelerator"/>.</summary>
    /// <param name="accelerator">The accelerator.</param>
    /// <param name="forceTiledGemm">Use the tiled GEMM even on the CPU accelerator (tests of its logic).</param>
    public KernelOps(Accelerator accelerator, bool forceTiledGemm = false)
    {
        _accelerator = accelerator;
        bool isCpu = accelerator.AcceleratorType == AcceleratorType.CPU;
        // On the CPU accelerator every simulated thread is an OS thread: one warp per core is plenty.
        _extent = isCpu
            ? accelerator.NumMultiprocessors * accelerator.WarpSize
            : accelerator.NumMultiprocessors * accelerator.MaxNumThreadsPerMultiprocessor;
        _useTiledGemm = forceTiledGemm || !isCpu;
        // The BCE's rows split into chunks of threads: few on the CPU accelerator (each an OS thread),
        // more on a GPU, where 128 rows x 8 chunks would leave most of the device idle.
        _bceChunks = isCpu ? 8 : 49;

        _gemmGridStride = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>(GemmKernels.GemmGridStrideKernel);
        _gemmTiled = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>(GemmKernels.GemmTiledKernel);
        _fill = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, float>(ElementwiseKernels.FillKernel);
        _biasActivation = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int, int>(ElementwiseKernels.BiasActivationKernel);
        _activation = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.ActivationKernel);
        _activationBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.ActivationBackwardKernel);
        _biasGradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.BiasGradientKernel);
        _reparameterize = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.ReparameterizeKernel);
        _reparameterizeBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.ReparameterizeBackwardKernel);
        _kl = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(LossKernels.KlDivergenceKernel);
        _bce = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(LossKernels.BceWithLogitsKernel);
        _softmax = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, float>(LossKernels.SoftmaxCrossEntropyKernel);
        _rowSum = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int, int>(ReductionKernels.RowSumKernel);
        _partialSum = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>>(ReductionKernels.PartialSumKernel);
        _finalSum = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ReductionKernels.FinalSumKernel);
        _adam = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamStep>(OptimizerKernels.AdamKernel);
        _normal = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ulong>(RandomKernels.NormalKernel);
        _importanceLogWeight = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(LikelihoodKernels.ImportanceLogWeightKernel);
        _rowLogSumExp = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int>(LikelihoodKernels.RowLogSumExpKernel);
        _gatherImages = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<byte>, ArrayView<int>, ArrayView<float>, int, int>(DataKernels.GatherImagesKernel);
        _gatherLabels = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<byte>, ArrayView<int>, ArrayView<int>, int>(DataKernels.GatherLabelsKernel);
        _oneHotConcat = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>(DataKernels.OneHotConcatKernel);
        _conv2d = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvShape>(ConvolutionKernels.Conv2dKernel);
        _conv2dTransposed = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvShape>(ConvolutionKernels.Conv2dTransposedKernel);
        _conv2dWeightGradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvShape>(ConvolutionKernels.Conv2dWeightGradientKernel);
        _channelBiasActivation = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int, int>(ConvolutionKernels.ChannelBiasActivationKernel);
        _channelBiasGradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int, int>(ConvolutionKernels.ChannelBiasGradientKernel);
    }

    /// <inheritdoc />
    public string Name => _useTiledGemm && _accelerator.AcceleratorType == AcceleratorType.CPU ? "kernels (tiled GEMM)" : "kernels";

    /// <inheritdoc />
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, ArrayView<float> a, int lda,
        ArrayView<float> b, int ldb, float beta, ArrayView<float> c, int ldc)
    {
        OpsChecks.Gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
        if (m == 0 || n == 0)
            return;
        var shape = GemmShape.Create(transA, transB, m, n, k, alpha, lda, ldb, beta, ldc);
        if (_useTiledGemm)
        {
            var grid = new Index2D((n + GemmKernels.TileN - 1) / GemmKernels.TileN, (m + GemmKernels.TileM - 1) / GemmKernels.TileM);
            _gemmTiled(new KernelConfig(grid, new Index2D(GemmKernels.GroupSide, GemmKernels.GroupSide)), a, b, c, shape);
        }
        else
        {
            int extent = Extent((long)m * n);
            _gemmGridStride(extent, extent, a, b, c, shape);
        }
    }

    /// <inheritdoc />
    public void Fill(ArrayView<float> x, float value)
    {
        int extent = Extent(x.Length);
        _fill(extent, extent, x, value);
    }

    /// <inheritdoc />
    public void BiasActivation(ArrayView<float> x, ArrayView<float> bias, Activation activation)
    {
        OpsChecks.Rows(x, bias.Length, nameof(x));
        int extent = Extent(x.Length);
        _biasActivation(extent, extent, x, bias, bias.IntLength, (int)activation);
    }

    /// <inheritdoc />
    public void Activate(ArrayView<float> x, ArrayView<float> y, Activation activation)
    {
        OpsChecks.SameLength(x, y, nameof(y));
        int extent = Extent(x.Length);
        _activation(extent, extent, x, y, (int)activation);
    }

    /// <inheritdoc />
    public void ActivationBackward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, Activation activation)
    {
        OpsChecks.SameLength(y, dy, nameof(dy));
        OpsChecks.SameLength(y, dx, nameof(dx));
        int extent = Extent(y.Length);
        _activationBackward(extent, extent, y, dy, dx, (int)activation);
    }

    /// <inheritdoc />
    public void BiasGradient(ArrayView<float> dy, ArrayView<float> dbias)
    {
        int rows = OpsChecks.Rows(dy, dbias.Length, nameof(dy));
        int extent = Extent(dbias.Length);
        _biasGradient(extent, extent, dy, dbias, rows);
    }

    /// <inheritdoc />
    public void Reparameterize(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, int latent)
    {
        OpsChecks.Latent(stats, eps, z, latent);
        int extent = Extent(z.Length);
        _reparameterize(extent, extent, stats, eps, z, latent);
    }

    /// <inheritdoc />
    public void ReparameterizeBackward(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> dz,
        ArrayView<float> dstats, int latent)
    {
        OpsChecks.Latent(stats, eps, dz, latent);
        OpsChecks.SameLength(stats, dstats, nameof(dstats));
        int extent = Extent(dz.Length);
        _reparameterizeBackward(extent, extent, stats, eps, dz, dstats, latent);
    }

    /// <inheritdoc />
    public void KlDivergence(ArrayView<float> stats, ArrayView<float> kl, ArrayView<float> dstats, int latent, float scale)
    {
        OpsChecks.Rows(stats, 2L * latent, nameof(stats));
        OpsChecks.SameLength(stats, dstats, nameof(dstats));
        if (kl.Length * 2L * latent != stats.Length)
            throw new ArgumentException($"kl has {kl.Length} rows but stats has {stats.Length / (2L * latent)}", nameof(kl));
        int extent = Extent(kl.Length);
        _kl(extent, extent, stats, kl, dstats, latent, scale);
    }

    /// <inheritdoc />
    public void BceWithLogits(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> loss,
        ArrayView<float> dlogits, float scale)
    {
        OpsChecks.SameLength(logits, targets, nameof(targets));
        OpsChecks.SameLength(logits, dlogits, nameof(dlogits));
        int cols = OpsChecks.Rows(logits, loss.Length, nameof(logits));
        var partial = Scratch(loss.Length * _bceChunks);
        int extent = Extent(partial.Length);
        _bce(extent, extent, logits, targets, dlogits, partial, cols, _bceChunks, scale);
        RowSum(partial, loss, _bceChunks, accumulate: false);
    }

    /// <inheritdoc />
    public void SoftmaxCrossEntropy(ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> loss,
        ArrayView<float> dlogits, float scale)
    {
        OpsChecks.SameLength(logits, dlogits, nameof(dlogits));
        int classes = OpsChecks.Rows(logits, loss.Length, nameof(logits));
        if (labels.Length != loss.Length)
            throw new ArgumentException($"{labels.Length} labels for {loss.Length} rows", nameof(labels));
        int extent = Extent(loss.Length);
        _softmax(extent, extent, logits, labels, loss, dlogits, classes, scale);
    }

    /// <inheritdoc />
    public void RowSum(ArrayView<float> x, ArrayView<float> output, int cols, bool accumulate)
    {
        if (x.Length != output.Length * cols)
            throw new ArgumentException($"x has {x.Length} elements, not {output.Length} x {cols}", nameof(x));
        int extent = Extent(output.Length);
        _rowSum(extent, extent, x, output, cols, accumulate ? 1 : 0);
    }

    /// <inheritdoc />
    public void SumInto(ArrayView<float> x, ArrayView<float> totals, int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, totals.IntLength);
        // A fixed partial count keeps the summation order, and so the result, independent of the device.
        const int partials = 256;
        var partial = Scratch(partials);
        _partialSum(partials, partials, x, partial);
        _finalSum(1, partial, totals, slot);
    }

    /// <inheritdoc />
    public void Adam(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v,
        AdamStep step)
    {
        OpsChecks.SameLength(parameters, gradients, nameof(gradients));
        OpsChecks.SameLength(parameters, m, nameof(m));
        OpsChecks.SameLength(parameters, v, nameof(v));
        int extent = Extent(parameters.Length);
        _adam(extent, extent, parameters, gradients, m, v, step);
    }

    /// <inheritdoc />
    public void ImportanceLogWeight(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z,
        ArrayView<float> reconstruction, ArrayView<float> logWeights, int latent, int column)
    {
        int columns = OpsChecks.LogWeights(stats, eps, z, reconstruction, logWeights, latent, column);
        int extent = Extent(reconstruction.Length);
        _importanceLogWeight(extent, extent, stats, eps, z, reconstruction, logWeights, latent, column, columns);
    }

    /// <inheritdoc />
    public void RowLogSumExp(ArrayView<float> x, ArrayView<float> output, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        if (x.Length != output.Length * cols)
            throw new ArgumentException($"x has {x.Length} elements, not {output.Length} x {cols}", nameof(x));
        int extent = Extent(output.Length);
        _rowLogSumExp(extent, extent, x, output, cols);
    }

    /// <inheritdoc />
    public void Normal(ArrayView<float> output, ulong seed, ulong step)
    {
        int extent = Extent((output.Length + 1) / 2);
        _normal(extent, extent, output, RandomKernels.StreamKey(seed, step));
    }

    /// <inheritdoc />
    public void GatherImages(ArrayView<byte> images, ArrayView<int> order, int start, ArrayView<float> batch, int features)
    {
        OpsChecks.Gather(images.Length / Math.Max(1, features), order.Length, start, OpsChecks.Rows(batch, features, nameof(batch)));
        int extent = Extent(batch.Length);
        _gatherImages(extent, extent, images, order, batch, start, features);
    }

    /// <inheritdoc />
    public void GatherLabels(ArrayView<byte> labels, ArrayView<int> order, int start, ArrayView<int> output)
    {
        OpsChecks.Gather(labels.Length, order.Length, start, output.IntLength);
        int extent = Extent(output.Length);
        _gatherLabels(extent, extent, labels, order, output, start);
    }

    /// <inheritdoc />
    public void OneHotConcat(ArrayView<float> x, ArrayView<int> labels, ArrayView<float> output, int features, int classes)
    {
        int rows = OpsChecks.Rows(x, features, nameof(x));
        if (labels.Length != rows || output.Length != (long)rows * (features + classes))
            throw new ArgumentException($"one-hot concat of {rows} rows: {labels.Length} labels, output of {output.Length}");
        int extent = Extent(output.Length);
        _oneHotConcat(extent, extent, x, labels, output, features, classes);
    }

    /// <inheritdoc />
    public void Conv2d(ArrayView<float> x, ArrayView<float> weight, ArrayView<float> y, ConvShape shape)
    {
        OpsChecks.Conv(shape, x, weight, y);
        int extent = Extent(y.Length);
        _conv2d(extent, extent, x, weight, y, shape);
    }

    /// <inheritdoc />
    public void Conv2dTransposed(ArrayView<float> y, ArrayView<float> weight, ArrayView<float> x, ConvShape shape)
    {
        OpsChecks.Conv(shape, x, weight, y);
        int extent = Extent(x.Length);
        _conv2dTransposed(extent, extent, y, weight, x, shape);
    }

    /// <inheritdoc />
    public void Conv2dWeightGradient(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dweight, ConvShape shape)
    {
        OpsChecks.Conv(shape, x, dweight, dy);
        int extent = Extent(dweight.Length);
        _conv2dWeightGradient(extent, extent, x, dy, dweight, shape);
    }

    /// <inheritdoc />
    public void ChannelBiasActivation(ArrayView<float> x, ArrayView<float> bias, int spatial, Activation activation)
    {
        OpsChecks.Channels(x, bias.Length, spatial, nameof(x));
        int extent = Extent(x.Length);
        _channelBiasActivation(extent, extent, x, bias, spatial, (int)activation);
    }

    /// <inheritdoc />
    public void ChannelBiasGradient(ArrayView<float> dy, ArrayView<float> dbias, int spatial)
    {
        int batch = OpsChecks.Channels(dy, dbias.Length, spatial, nameof(dy));
        int extent = Extent(dbias.Length);
        _channelBiasGradient(extent, extent, dy, dbias, spatial, batch);
    }

    /// <inheritdoc />
    public void Synchronize() => _accelerator.Synchronize();

    /// <inheritdoc />
    public void Dispose() => _scratch?.Dispose();

    private int Extent(long length) => (int)Math.Max(1, Math.Min(length, _extent));

    // Scratch is shared by ops that run one after another on the same stream, so reuse is safe.
    private ArrayView<float> Scratch(long length)
    {
        if (_scratch is null || _scratch.Length < length)
        {
            // Kernels already launched may still read the old buffer: let them finish first (rare: it only grows).
            _accelerator.Synchronize();
            _scratch?.Dispose();
            _scratch = _accelerator.Allocate1D<float>(Math.Max(length, 4096));
        }
        return _scratch.View.SubView(0, length);
    }
}
