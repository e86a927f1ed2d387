using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// The scalars that change from one training step to the next, computed on the host for a whole epoch and read by
/// the fixed-argument kernels from a device table at the step counter, so that every step launches the same kernels
/// with the same arguments (what a CUDA graph replays).
/// </summary>
public struct StepScalars
{
    /// <summary>The batch's first position in the epoch's order.</summary>
    public int Start;
    /// <summary>The step's first loss accumulator (term t goes to Slot + t).</summary>
    public int Slot;
    /// <summary>The KL weight (the KL gradient's scale).</summary>
    public float KlWeight;
    /// <summary>The noise stream's key, <see cref="RandomKernels.StreamKey"/> of (seed, global step).</summary>
    public ulong NoiseKey;
    /// <summary>Adam's scalars for the step.</summary>
    public AdamStep Adam;
}

/// <summary>
/// The fixed-argument forms of the kernels whose scalars change every step: each reads its scalars from
/// <c>plan[step[0]]</c> and runs the ordinary kernel's body; <see cref="AdvanceStepKernel"/> moves the counter on.
/// </summary>
public static class StepKernels
{
    /// <summary>Moves the step counter on by one: <c>step[0] += 1</c>.</summary>
    /// <param name="index">The thread index (only 0 works).</param>
    /// <param name="step">The counter.</param>
    public static void AdvanceStepKernel(Index1D index, ArrayView<int> step)
    {
        if (index == 0)
            step[0] += 1;
    }

    /// <summary><see cref="DataKernels.GatherImagesKernel"/> from the plan's start.</summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="images">All images as bytes (N, D).</param>
    /// <param name="order">A permutation of the image indices (N).</param>
    /// <param name="batch">The batch (rows, D).</param>
    /// <param name="features">D.</param>
    /// <param name="plan">The epoch's step scalars.</param>
    /// <param name="step">The step counter (one int).</param>
    public static void GatherImagesPlannedKernel(Index1D index, int stride, ArrayView<byte> images, ArrayView<int> order,
        ArrayView<float> batch, int features, ArrayView<StepScalars> plan, ArrayView<int> step) =>
        DataKernels.GatherImagesKernel(index, stride, images, order, batch, plan[step[0]].Start, features);

    /// <summary><see cref="DataKernels.GatherLabelsKernel"/> from the plan's start.</summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="labels">All labels (N).</param>
    /// <param name="order">A permutation of the indices (N).</param>
    /// <param name="output">The batch's labels (rows).</param>
    /// <param name="plan">The epoch's step scalars.</param>
    /// <param name="step">The step counter (one int).</param>
    public static void GatherLabelsPlannedKernel(Index1D index, int stride, ArrayView<byte> labels, ArrayView<int> order,
        ArrayView<int> output, ArrayView<StepScalars> plan, ArrayView<int> step) =>
        DataKernels.GatherLabelsKernel(index, stride, labels, order, output, plan[step[0]].Start);

    /// <summary><see cref="ElementwiseKernels.GaussianSampleKernel"/> with the plan's KL weight, key and slot.</summary>
    /// <param name="stats">The posterior statistics (B, 2Z).</param>
    /// <param name="eps">The noise (B, Z).</param>
    /// <param name="z">The latent sample (B, Z).</param>
    /// <param name="kl">The KL per sample (B).</param>
    /// <param name="dstats">The gradient of the statistics (B, 2Z), assigned.</param>
    /// <param name="totals">The loss accumulators.</param>
    /// <param name="latent">Z.</param>
    /// <param name="noise">The <see cref="NoiseSource"/> as an int.</param>
    /// <param name="term">The KL's term index (its slot is the plan's slot + term), or -1 for no sum.</param>
    /// <param name="plan">The epoch's step scalars.</param>
    /// <param name="step">The step counter (one int).</param>
    public static void GaussianSamplePlannedKernel(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z,
        ArrayView<float> kl, ArrayView<float> dstats, ArrayView<float> totals, int latent, int noise, int term,
        ArrayView<StepScalars> plan, ArrayView<int> step)
    {
        var row = plan[step[0]];
        ElementwiseKernels.GaussianSampleKernel(stats, eps, z, kl, dstats, totals, latent, row.KlWeight, noise,
            row.NoiseKey, term < 0 ? term : row.Slot + term);
    }

    /// <summary><see cref="LossKernels.BceWithLogitsKernel"/> summing into the plan's slot.</summary>
    /// <param name="logits">The logits (B, D).</param>
    /// <param name="targets">The targets (B, D).</param>
    /// <param name="dlogits">The gradient of the logits (B, D), written.</param>
    /// <param name="loss">The loss per row (B), written.</param>
    /// <param name="totals">The loss accumulators.</param>
    /// <param name="ticket">One int, zero between launches.</param>
    /// <param name="cols">D.</param>
    /// <param name="scale">The gradient's scale.</param>
    /// <param name="term">The term index (its slot is the plan's slot + term), or -1 for no sum.</param>
    /// <param name="plan">The epoch's step scalars.</param>
    /// <param name="step">The step counter (one int).</param>
    public static void BceWithLogitsPlannedKernel(ArrayView<float> logits, ArrayView<float> targets,
        ArrayView<float> dlogits, ArrayView<float> loss, ArrayView<float> totals, ArrayView<int> ticket, int cols,
        float scale, int term, ArrayView<StepScalars> plan, ArrayView<int> step) =>
        LossKernels.BceWithLogitsKernel(logits, targets, dlogits, loss, totals, ticket, cols, scale,
            term < 0 ? term : plan[step[0]].Slot + term);

    /// <summary><see cref="ReductionKernels.SumIntoKernel"/> into the plan's slot + term.</summary>
    /// <param name="x">The vector.</param>
    /// <param name="total">The accumulators.</param>
    /// <param name="term">The term index.</param>
    /// <param name="plan">The epoch's step scalars.</param>
    /// <param name="step">The step counter (one int).</param>
    public static void SumIntoPlannedKernel(ArrayView<float> x, ArrayView<float> total, int term,
        ArrayView<StepScalars> plan, ArrayView<int> step) =>
        ReductionKernels.SumIntoKernel(x, total, plan[step[0]].Slot + term);

    /// <summary><see cref="OptimizerKernels.AdamKernel"/> with the plan's scalars.</summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="parameters">The parameters (P).</param>
    /// <param name="gradients">The gradients (P), zeroed.</param>
    /// <param name="m">The first moments (P).</param>
    /// <param name="v">The second moments (P).</param>
    /// <param name="plan">The epoch's step scalars.</param>
    /// <param name="step">The step counter (one int).</param>
    public static void AdamPlannedKernel(Index1D index, int stride, ArrayView<float> parameters, ArrayView<float> gradients,
        ArrayView<float> m, ArrayView<float> v, ArrayView<StepScalars> plan, ArrayView<int> step)
    {
        // The row as a value: the address of the nested field (plan[step[0]].Adam) gets a mistyped pointer in
        // ILGPU's OpenCL C, which the OpenCL compiler warns about.
        var row = plan[step[0]];
        OptimizerKernels.AdamKernel(index, stride, parameters, gradients, m, v, row.Adam);
    }
}
