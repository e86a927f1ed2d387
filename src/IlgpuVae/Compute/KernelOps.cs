using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>
/// <see cref="IOps"/> by ILGPU kernels, on any accelerator. Every kernel is loaded once here and its delegate kept.
/// Element-wise kernels are grid-stride with a launch extent that fills the device once. On GPUs the GEMM is the
/// shared-memory, register-tiled kernel (64 x 64 tiles, or 32 x 32 where that leaves multiprocessors idle), with the
/// linear layers' bias, activation and their gradients fused into it; on the CPU accelerator the grid-stride one
/// (tiled kernels crawl there) with the same epilogues. Sums are group trees in one launch. A VAE training step is
/// 16 launches (docs/benchmarks.md), counted by <see cref="Launches"/>.
/// </summary>
internal sealed class KernelOps : IOps, IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly int _extent;
    private readonly bool _useTiledGemm;
    // Threads per group of the grouped reductions: a power of two, 256 where the accelerator allows.
    private readonly int _groupSize;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _dummy;
    // The BCE's ticket counter: zero between launches (the last group resets it).
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _ticket;

    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape> _gemmGridStride;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape> _gemmTiled;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape> _gemmSmallTiled;
    private readonly Action<Index1D, int, ArrayView<float>, float> _fill;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int, int> _biasActivation;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int> _activation;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _activationBackward;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int> _biasGradient;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _reparameterize;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _reparameterizeBackward;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> _kl;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, float, int> _bce;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int, ulong, int> _gaussianSample;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, float> _softmax;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int, int> _rowSum;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int> _sumInto;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> _bceRows;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamStep> _adam;
    private readonly Action<Index1D, int, ArrayView<float>, ulong> _normal;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, ulong> _importanceSample;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _importanceWeights;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int> _scaleRows;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _importanceSampleBackward;
    private readonly Action<Index1D, int, ArrayView<float>, ulong> _bernoulli;
    private readonly Action<Index1D, int, ArrayView<float>, ulong> _dequantize;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> _continuousBernoulli;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float> _gaussian;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>> _continuousBernoulliMean;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _importanceLogWeight;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int> _rowLogSumExp;
    private readonly Action<Index1D, int, ArrayView<byte>, ArrayView<int>, ArrayView<float>, int, int> _gatherImages;
    private readonly Action<Index1D, int, ArrayView<byte>, ArrayView<int>, ArrayView<int>, int> _gatherLabels;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int> _gatherRows;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int> _oneHotConcat;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvShape> _conv2d;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvShape> _conv2dTransposed;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvShape> _conv2dWeightGradient;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int, int> _channelBiasActivation;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, int, int> _channelBiasGradient;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _priorRatio;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _priorRatioBackward;
    private readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _logWeightColumn;

    /// <summary>Loads every kernel on <paramref name="accelerator"/>.</summary>
    /// <param name="accelerator">The accelerator.</param>
    /// <param name="forceTiledGemm">
    /// Use the GPU's tiled GEMMs even on the CPU accelerator (tests of their logic, and of a GPU's launch sequence).
    /// </param>
    public KernelOps(Accelerator accelerator, bool forceTiledGemm = false)
    {
        _accelerator = accelerator;
        bool isCpu = accelerator.AcceleratorType == AcceleratorType.CPU;
        // On the CPU accelerator every simulated thread is an OS thread: one warp per core is plenty.
        _extent = isCpu
            ? accelerator.NumMultiprocessors * accelerator.WarpSize
            : accelerator.NumMultiprocessors * accelerator.MaxNumThreadsPerMultiprocessor;
        _useTiledGemm = forceTiledGemm || !isCpu;
        SmallTilesBelowGroups = accelerator.NumMultiprocessors;
        _groupSize = 1;
        while (_groupSize * 2 <= Math.Min(256, accelerator.MaxNumThreadsPerGroup))
            _groupSize *= 2;
        _dummy = accelerator.Allocate1D<float>(1);
        _ticket = accelerator.Allocate1D<int>(1);
        _ticket.MemSetToZero();

        _gemmGridStride = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>(GemmKernels.GemmGridStrideKernel);
        // Launch bounds on GPUs: 256 threads a group, at least two groups resident per multiprocessor.
        var bounds = isCpu ? KernelSpecialization.Empty : new KernelSpecialization(GemmKernels.GroupSide * GemmKernels.GroupSide, 2);
        _gemmTiled = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>(GemmKernels.GemmTiledKernel, bounds);
        _gemmSmallTiled = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>(GemmKernels.GemmSmallTiledKernel, bounds);
        _fill = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, float>(ElementwiseKernels.FillKernel);
        _biasActivation = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int, int>(ElementwiseKernels.BiasActivationKernel);
        _activation = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.ActivationKernel);
        _activationBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.ActivationBackwardKernel);
        _biasGradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.BiasGradientKernel);
        _reparameterize = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.ReparameterizeKernel);
        _reparameterizeBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.ReparameterizeBackwardKernel);
        _kl = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(LossKernels.KlDivergenceKernel);
        _bce = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, float, int>(LossKernels.BceWithLogitsKernel);
        _gaussianSample = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int, ulong, int>(ElementwiseKernels.GaussianSampleKernel);
        _softmax = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, float>(LossKernels.SoftmaxCrossEntropyKernel);
        _rowSum = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int, int>(ReductionKernels.RowSumKernel);
        _sumInto = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int>(ReductionKernels.SumIntoKernel);
        _bceRows = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(LossKernels.BceWithLogitsRowKernel);
        _adam = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamStep>(OptimizerKernels.AdamKernel);
        _normal = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ulong>(RandomKernels.NormalKernel);
        _importanceSample = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, ulong>(ImportanceKernels.SampleKernel);
        _importanceWeights = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(ImportanceKernels.WeightsKernel);
        _scaleRows = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int>(ImportanceKernels.ScaleRowsKernel);
        _importanceSampleBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(ImportanceKernels.SampleBackwardKernel);
        _bernoulli = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ulong>(ImportanceKernels.BernoulliKernel);
        _priorRatio = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ImportanceKernels.PriorRatioKernel);
        _priorRatioBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ImportanceKernels.PriorRatioBackwardKernel);
        _logWeightColumn = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(ImportanceKernels.LogWeightColumnKernel);
        _dequantize = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ulong>(DecoderKernels.DequantizeKernel);
        _continuousBernoulli = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(DecoderKernels.ContinuousBernoulliRowKernel);
        _gaussian = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>(DecoderKernels.GaussianRowKernel);
        _continuousBernoulliMean = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>>(DecoderKernels.ContinuousBernoulliMeanKernel);
        _importanceLogWeight = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(LikelihoodKernels.ImportanceLogWeightKernel);
        _rowLogSumExp = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int>(LikelihoodKernels.RowLogSumExpKernel);
        _gatherImages = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<byte>, ArrayView<int>, ArrayView<float>, int, int>(DataKernels.GatherImagesKernel);
        _gatherRows = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>(DataKernels.GatherRowsKernel);
        _gatherLabels = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<byte>, ArrayView<int>, ArrayView<int>, int>(DataKernels.GatherLabelsKernel);
        _oneHotConcat = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>(DataKernels.OneHotConcatKernel);
        _conv2d = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvShape>(ConvolutionKernels.Conv2dKernel);
        _conv2dTransposed = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvShape>(ConvolutionKernels.Conv2dTransposedKernel);
        _conv2dWeightGradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvShape>(ConvolutionKernels.Conv2dWeightGradientKernel);
        _channelBiasActivation = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int, int>(ConvolutionKernels.ChannelBiasActivationKernel);
        _channelBiasGradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, int, int>(ConvolutionKernels.ChannelBiasGradientKernel);
    }

    /// <summary>
    /// A product whose 64 x 64 tiles number fewer than this runs with 32 x 32 tiles; the multiprocessor count by
    /// default (tests force either kernel).
    /// </summary>
    internal int SmallTilesBelowGroups { get; init; }

    /// <summary>Kernels launched so far (tests count a training step's).</summary>
    internal long Launches { get; private set; }

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
        LaunchGemm(shape, a, b, c, _dummy.View, _dummy.View);
    }

    /// <inheritdoc />
    public void LinearForward(ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y,
        int rows, int inputs, int outputs, Activation activation)
    {
        OpsChecks.Gemm(false, true, rows, outputs, inputs, x, inputs, weight, inputs, y, outputs);
        if (bias.Length != outputs)
            throw new ArgumentException($"bias has {bias.Length} elements for {outputs} outputs", nameof(bias));
        if (rows == 0)
            return;
        var shape = GemmShape.Create(false, true, rows, outputs, inputs, 1f, inputs, inputs, 0f, outputs);
        shape.Epilogue = (int)GemmEpilogue.BiasActivation;
        shape.Activation = (int)activation;
        LaunchGemm(shape, x, weight, y, bias, _dummy.View);
    }

    /// <inheritdoc />
    public void LinearParameterGradient(ArrayView<float> dy, ArrayView<float> x, ArrayView<float> weightGradient,
        ArrayView<float> biasGradient, int rows, int inputs, int outputs)
    {
        OpsChecks.Gemm(true, false, outputs, inputs, rows, dy, outputs, x, inputs, weightGradient, inputs);
        if (biasGradient.Length != outputs)
            throw new ArgumentException($"bias gradient has {biasGradient.Length} elements for {outputs} outputs", nameof(biasGradient));
        var shape = GemmShape.Create(true, false, outputs, inputs, rows, 1f, outputs, inputs, 1f, inputs);
        shape.Epilogue = (int)GemmEpilogue.BiasGradient;
        LaunchGemm(shape, dy, x, weightGradient, biasGradient, _dummy.View);
    }

    /// <inheritdoc />
    public void LinearInputGradient(ArrayView<float> dy, ArrayView<float> weight, ArrayView<float> dx, int rows, int inputs,
        int outputs, int columns, ArrayView<float> below, Activation activation)
    {
        OpsChecks.Gemm(false, false, rows, columns, outputs, dy, outputs, weight, inputs, dx, columns);
        if (columns > inputs)
            throw new ArgumentOutOfRangeException(nameof(columns), $"{columns} columns of a weight with {inputs}");
        bool fused = activation != Activation.Identity;
        if (fused && below.Length < (long)rows * columns)
            throw new ArgumentException($"the activation output has {below.Length} elements, not {rows} x {columns}", nameof(below));
        if (rows == 0 || columns == 0)
            return;
        var shape = GemmShape.Create(false, false, rows, columns, outputs, 1f, outputs, inputs, 0f, columns);
        if (fused)
        {
            shape.Epilogue = (int)GemmEpilogue.ActivationBackward;
            shape.Activation = (int)activation;
            shape.AuxLd = columns;
        }
        LaunchGemm(shape, dy, weight, dx, _dummy.View, fused ? below : _dummy.View);
    }

    /// <inheritdoc />
    public void GaussianSample(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, ArrayView<float> kl,
        ArrayView<float> dstats, int latent, float scale, NoiseSource noise, ulong seed, ulong step,
        ArrayView<float> totals, int slot)
    {
        OpsChecks.Latent(stats, eps, z, latent);
        OpsChecks.SameLength(stats, dstats, nameof(dstats));
        if (kl.Length * 2L * latent != stats.Length)
            throw new ArgumentException($"kl has {kl.Length} rows but stats has {stats.Length / (2L * latent)}", nameof(kl));
        CheckSlot(totals, slot);
        Launches++;
        _gaussianSample(new KernelConfig(1, _groupSize), stats, eps, z, kl, dstats, slot >= 0 ? totals : _dummy.View,
            latent, scale, (int)noise, RandomKernels.StreamKey(seed, step), slot);
    }

    // One GEMM launch: the tiled kernels on GPUs (32 x 32 tiles when 64 x 64 ones would leave multiprocessors
    // idle), the grid-stride one on the CPU accelerator.
    private void LaunchGemm(GemmShape shape, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        ArrayView<float> bias, ArrayView<float> aux)
    {
        Launches++;
        int m = shape.M, n = shape.N;
        var group = new Index2D(GemmKernels.GroupSide, GemmKernels.GroupSide);
        if (!_useTiledGemm)
        {
            int extent = Extent((long)m * n);
            _gemmGridStride(extent, extent, a, b, c, bias, aux, shape);
        }
        else if ((long)Tiles(m, GemmKernels.TileM) * Tiles(n, GemmKernels.TileN) < SmallTilesBelowGroups)
        {
            var grid = new Index2D(Tiles(n, GemmKernels.SmallTile), Tiles(m, GemmKernels.SmallTile));
            _gemmSmallTiled(new KernelConfig(grid, group), a, b, c, bias, aux, shape);
        }
        else
        {
            var grid = new Index2D(Tiles(n, GemmKernels.TileN), Tiles(m, GemmKernels.TileM));
            _gemmTiled(new KernelConfig(grid, group), a, b, c, bias, aux, shape);
        }
    }

    private static int Tiles(int length, int tile) => (length + tile - 1) / tile;

    private static void CheckSlot(ArrayView<float> totals, int slot)
    {
        if (slot >= 0)
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, totals.IntLength);
    }

    /// <inheritdoc />
    public void Fill(ArrayView<float> x, float value)
    {
        int extent = Extent(x.Length);
        Launches++;
        _fill(extent, extent, x, value);
    }

    /// <inheritdoc />
    public void BiasActivation(ArrayView<float> x, ArrayView<float> bias, Activation activation)
    {
        OpsChecks.Rows(x, bias.Length, nameof(x));
        int extent = Extent(x.Length);
        Launches++;
        _biasActivation(extent, extent, x, bias, bias.IntLength, (int)activation);
    }

    /// <inheritdoc />
    public void Activate(ArrayView<float> x, ArrayView<float> y, Activation activation)
    {
        OpsChecks.SameLength(x, y, nameof(y));
        int extent = Extent(x.Length);
        Launches++;
        _activation(extent, extent, x, y, (int)activation);
    }

    /// <inheritdoc />
    public void ActivationBackward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, Activation activation)
    {
        OpsChecks.SameLength(y, dy, nameof(dy));
        OpsChecks.SameLength(y, dx, nameof(dx));
        int extent = Extent(y.Length);
        Launches++;
        _activationBackward(extent, extent, y, dy, dx, (int)activation);
    }

    /// <inheritdoc />
    public void BiasGradient(ArrayView<float> dy, ArrayView<float> dbias)
    {
        int rows = OpsChecks.Rows(dy, dbias.Length, nameof(dy));
        int extent = Extent(dbias.Length);
        Launches++;
        _biasGradient(extent, extent, dy, dbias, rows);
    }

    /// <inheritdoc />
    public void Reparameterize(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, int latent)
    {
        OpsChecks.Latent(stats, eps, z, latent);
        int extent = Extent(z.Length);
        Launches++;
        _reparameterize(extent, extent, stats, eps, z, latent);
    }

    /// <inheritdoc />
    public void ReparameterizeBackward(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> dz,
        ArrayView<float> dstats, int latent)
    {
        OpsChecks.Latent(stats, eps, dz, latent);
        OpsChecks.SameLength(stats, dstats, nameof(dstats));
        int extent = Extent(dz.Length);
        Launches++;
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
        Launches++;
        _kl(extent, extent, stats, kl, dstats, latent, scale);
    }

    /// <inheritdoc />
    public void BceWithLogits(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> loss,
        ArrayView<float> dlogits, float scale, ArrayView<float> totals = default, int slot = -1)
    {
        OpsChecks.SameLength(logits, dlogits, nameof(dlogits));
        int cols = OpsChecks.RepeatedTargets(logits, targets, loss);
        CheckSlot(totals, slot);
        if (loss.Length == 0)
            return;
        if (!_useTiledGemm)
        {
            // The CPU accelerator: a thread per row, then the one-group sum (two launches, no barrier per row).
            int extent = Extent(loss.Length);
            Launches++;
            _bceRows(extent, extent, logits, targets, dlogits, loss, cols, scale);
            if (slot < 0)
                return;
            SumInto(loss, totals, slot);
            return;
        }
        Launches++;
        _bce(new KernelConfig(loss.IntLength, _groupSize), logits, targets, dlogits, loss, slot >= 0 ? totals : _dummy.View,
            _ticket.View, cols, scale, slot);
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
        Launches++;
        _softmax(extent, extent, logits, labels, loss, dlogits, classes, scale);
    }

    /// <inheritdoc />
    public void RowSum(ArrayView<float> x, ArrayView<float> output, int cols, bool accumulate)
    {
        if (x.Length != output.Length * cols)
            throw new ArgumentException($"x has {x.Length} elements, not {output.Length} x {cols}", nameof(x));
        int extent = Extent(output.Length);
        Launches++;
        _rowSum(extent, extent, x, output, cols, accumulate ? 1 : 0);
    }

    /// <inheritdoc />
    public void SumInto(ArrayView<float> x, ArrayView<float> totals, int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, totals.IntLength);
        Launches++;
        _sumInto(new KernelConfig(1, _groupSize), x, totals, slot);
    }

    /// <inheritdoc />
    public void Adam(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v,
        AdamStep step)
    {
        OpsChecks.SameLength(parameters, gradients, nameof(gradients));
        OpsChecks.SameLength(parameters, m, nameof(m));
        OpsChecks.SameLength(parameters, v, nameof(v));
        int extent = Extent(parameters.Length);
        Launches++;
        _adam(extent, extent, parameters, gradients, m, v, step);
    }

    /// <inheritdoc />
    public void ImportanceLogWeight(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z,
        ArrayView<float> reconstruction, ArrayView<float> logWeights, int latent, int column)
    {
        int columns = OpsChecks.LogWeights(stats, eps, z, reconstruction, logWeights, latent, column);
        int extent = Extent(reconstruction.Length);
        Launches++;
        _importanceLogWeight(extent, extent, stats, eps, z, reconstruction, logWeights, latent, column, columns);
    }

    /// <inheritdoc />
    public void RowLogSumExp(ArrayView<float> x, ArrayView<float> output, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        if (x.Length != output.Length * cols)
            throw new ArgumentException($"x has {x.Length} elements, not {output.Length} x {cols}", nameof(x));
        int extent = Extent(output.Length);
        Launches++;
        _rowLogSumExp(extent, extent, x, output, cols);
    }

    /// <inheritdoc />
    public void ImportanceSample(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, ArrayView<float> logRatio,
        int latent, NoiseSource noise, ulong seed, ulong step)
    {
        OpsChecks.Samples(stats, eps, z, logRatio, latent);
        int extent = Extent(logRatio.Length);
        Launches++;
        _importanceSample(extent, extent, stats, eps, z, logRatio, latent, (int)noise, RandomKernels.StreamKey(seed, step));
    }

    /// <inheritdoc />
    public void ImportanceWeights(ArrayView<float> bce, ArrayView<float> logRatio, ArrayView<float> weights,
        ArrayView<float> reconstruction, ArrayView<float> rest, bool importance)
    {
        int samples = OpsChecks.ImportanceWeights(bce, logRatio, weights, reconstruction, rest);
        int extent = Extent(reconstruction.Length);
        Launches++;
        _importanceWeights(extent, extent, bce, logRatio, weights, reconstruction, rest, samples, importance ? 1 : 0);
    }

    /// <inheritdoc />
    public void ScaleRows(ArrayView<float> x, ArrayView<float> weights)
    {
        int cols = OpsChecks.Rows(x, weights.Length, nameof(x));
        int extent = Extent(x.Length);
        Launches++;
        _scaleRows(extent, extent, x, weights, cols);
    }

    /// <inheritdoc />
    public void PriorLogRatio(ArrayView<float> prior, ArrayView<float> z, ArrayView<float> inner, ArrayView<float> logRatio, int latent)
    {
        OpsChecks.PriorRatio(prior, z, inner, logRatio, latent);
        int extent = Extent(logRatio.Length);
        Launches++;
        _priorRatio(extent, extent, prior, z, inner, logRatio, latent);
    }

    /// <inheritdoc />
    public void PriorLogRatioBackward(ArrayView<float> prior, ArrayView<float> z, ArrayView<float> weights, ArrayView<float> dprior,
        ArrayView<float> dz, int latent)
    {
        OpsChecks.PriorRatio(prior, z, weights, weights, latent);
        OpsChecks.SameLength(prior, dprior, nameof(dprior));
        OpsChecks.SameLength(z, dz, nameof(dz));
        int extent = Extent(z.Length);
        Launches++;
        _priorRatioBackward(extent, extent, prior, z, weights, dprior, dz, latent);
    }

    /// <inheritdoc />
    public void LogWeightColumn(ArrayView<float> logRatio, ArrayView<float> reconstruction, ArrayView<float> logWeights, int column)
    {
        int columns = OpsChecks.LogWeightColumn(logRatio, reconstruction, logWeights, column);
        int extent = Extent(logRatio.Length);
        Launches++;
        _logWeightColumn(extent, extent, logRatio, reconstruction, logWeights, column, columns);
    }

    /// <inheritdoc />
    public void ImportanceSampleBackward(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, ArrayView<float> dz,
        ArrayView<float> weights, ArrayView<float> dstats, int latent, SampleGradient mode)
    {
        var (images, _) = OpsChecks.Samples(stats, eps, z, weights, latent);
        OpsChecks.SameLength(z, dz, nameof(dz));
        OpsChecks.SameLength(stats, dstats, nameof(dstats));
        if (!Enum.IsDefined(mode))
            throw new ArgumentOutOfRangeException(nameof(mode), $"unknown sample gradient {(int)mode}");
        int extent = Extent((long)images * latent);
        Launches++;
        _importanceSampleBackward(extent, extent, stats, eps, z, dz, weights, dstats, latent, (int)mode);
    }

    /// <inheritdoc />
    public void Bernoulli(ArrayView<float> x, ulong seed, ulong step)
    {
        int extent = Extent(x.Length);
        Launches++;
        _bernoulli(extent, extent, x, RandomKernels.StreamKey(seed, step));
    }

    /// <inheritdoc />
    public void Dequantize(ArrayView<float> x, ulong seed, ulong step)
    {
        int extent = Extent(x.Length);
        Launches++;
        _dequantize(extent, extent, x, RandomKernels.StreamKey(seed, step));
    }

    /// <inheritdoc />
    public void ContinuousBernoulliWithLogits(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> loss,
        ArrayView<float> dlogits, float scale)
    {
        OpsChecks.SameLength(logits, dlogits, nameof(dlogits));
        int cols = OpsChecks.RepeatedTargets(logits, targets, loss);
        if (loss.Length == 0)
            return;
        int extent = Extent(loss.Length);
        Launches++;
        _continuousBernoulli(extent, extent, logits, targets, dlogits, loss, cols, scale);
    }

    /// <inheritdoc />
    public void GaussianNll(ArrayView<float> means, ArrayView<float> logVariance, ArrayView<float> targets,
        ArrayView<float> loss, ArrayView<float> dmeans, ArrayView<float> dlogVariance, float scale)
    {
        int cols = OpsChecks.GaussianNll(means, logVariance, targets, loss, dmeans, dlogVariance);
        if (loss.Length == 0)
            return;
        int extent = Extent(loss.Length);
        Launches++;
        _gaussian(extent, extent, means, logVariance, targets, dmeans, dlogVariance, loss, scale);
    }

    /// <inheritdoc />
    public void ContinuousBernoulliMean(ArrayView<float> logits, ArrayView<float> means)
    {
        OpsChecks.SameLength(logits, means, nameof(means));
        if (logits.Length == 0)
            return;
        int extent = Extent(logits.Length);
        Launches++;
        _continuousBernoulliMean(extent, extent, logits, means);
    }

    /// <inheritdoc />
    public void Normal(ArrayView<float> output, ulong seed, ulong step)
    {
        int extent = Extent((output.Length + 1) / 2);
        Launches++;
        _normal(extent, extent, output, RandomKernels.StreamKey(seed, step));
    }

    /// <inheritdoc />
    public void GatherImages(ArrayView<byte> images, ArrayView<int> order, int start, ArrayView<float> batch, int features)
    {
        OpsChecks.Gather(images.Length / Math.Max(1, features), order.Length, start, OpsChecks.Rows(batch, features, nameof(batch)));
        int extent = Extent(batch.Length);
        Launches++;
        _gatherImages(extent, extent, images, order, batch, start, features);
    }

    /// <inheritdoc />
    public void GatherRows(ArrayView<float> rows, ArrayView<int> order, int start, ArrayView<float> batch, int features)
    {
        OpsChecks.Gather(rows.IntLength / Math.Max(1, features), order.Length, start, OpsChecks.Rows(batch, features, nameof(batch)));
        int extent = Extent(batch.Length);
        Launches++;
        _gatherRows(extent, extent, rows, order, batch, start, features);
    }

    /// <inheritdoc />
    public void GatherLabels(ArrayView<byte> labels, ArrayView<int> order, int start, ArrayView<int> output)
    {
        OpsChecks.Gather(labels.Length, order.Length, start, output.IntLength);
        int extent = Extent(output.Length);
        Launches++;
        _gatherLabels(extent, extent, labels, order, output, start);
    }

    /// <inheritdoc />
    public void OneHotConcat(ArrayView<float> x, ArrayView<int> labels, ArrayView<float> output, int features, int classes)
    {
        int rows = OpsChecks.Rows(x, features, nameof(x));
        if (labels.Length != rows || output.Length != (long)rows * (features + classes))
            throw new ArgumentException($"one-hot concat of {rows} rows: {labels.Length} labels, output of {output.Length}");
        int extent = Extent(output.Length);
        Launches++;
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
    public void Dispose()
    {
        _dummy.Dispose();
        _ticket.Dispose();
    }

    private int Extent(long length) => (int)Math.Max(1, Math.Min(length, _extent));
}
