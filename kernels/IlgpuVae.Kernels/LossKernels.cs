using ILGPU;
using ILGPU.Algorithms;

namespace IlgpuVae.Kernels;

/// <summary>
/// Loss kernels, each fused with its gradient so that a training step reads its inputs once
/// (theory: docs/theory.md, "Closed-form KL", "BCE on logits", "Softmax cross-entropy").
/// </summary>
internal static class LossKernels
{
    /// <summary>
    /// KL divergence of N(mu, diag(exp(logvar))) from N(0, I) per sample, and its gradient:
    /// <c>kl[b] = -1/2 sum_j (1 + lv - mu^2 - exp(lv))</c>, <c>dmu = scale mu</c>,
    /// <c>dlv = scale (exp(lv) - 1) / 2</c>. One thread per sample; the gradient is assigned, not added.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="stats">The posterior statistics (B, 2Z): mu then log-variance in each row.</param>
    /// <param name="kl">The KL per sample (B).</param>
    /// <param name="dstats">The gradient of the statistics (B, 2Z), written.</param>
    /// <param name="latent">Z.</param>
    /// <param name="scale">The gradient's scale (beta times the loss scale).</param>
    public static void KlDivergenceKernel(Index1D index, int stride, ArrayView<float> stats, ArrayView<float> kl,
        ArrayView<float> dstats, int latent, float scale)
    {
        for (int b = index; b < kl.IntLength; b += stride)
        {
            float sum = 0f;
            int row = b * 2 * latent;
            for (int j = 0; j < latent; j++)
            {
                float mu = stats[row + j], logvar = stats[row + latent + j];
                float variance = XMath.Exp(logvar);
                sum += 1f + logvar - mu * mu - variance;
                dstats[row + j] = scale * mu;
                dstats[row + latent + j] = scale * 0.5f * (variance - 1f);
            }
            kl[b] = -0.5f * sum;
        }
    }

    /// <summary>
    /// Binary cross-entropy on logits with targets in [0, 1], fused with its gradient and its sums. Group b handles
    /// row b: each thread sums <c>max(x, 0) - x t + log1p(exp(-|x|))</c> over columns c = t, t + G, ... and writes
    /// <c>dlogits = scale (sigmoid(x) - t)</c>; the group adds the partial sums as a tree into <c>loss[b]</c>. When
    /// <paramref name="slot"/> is not negative, the last group to finish (counted by an atomic ticket after a device
    /// fence) also adds the batch's sum, a tree over loss[0..B) in a fixed order, into <c>totals[slot]</c> and resets
    /// the ticket: the whole loss in one launch, deterministic whichever group finishes last. The stable form never
    /// overflows exp and never takes log(0); it equals BCE on sigmoid(x). Launch B groups of G threads (G a power of
    /// two up to <see cref="ReductionKernels.MaxGroupSize"/>).
    /// </summary>
    /// <param name="logits">The logits (B, D).</param>
    /// <param name="targets">The targets (T, D), T dividing B: row b reads target row b mod T (K samples of T images).</param>
    /// <param name="dlogits">The gradient of the logits (B, D), written.</param>
    /// <param name="loss">The loss per row (B), written.</param>
    /// <param name="totals">The accumulators the batch sum goes into.</param>
    /// <param name="ticket">One int, zero between launches: how many groups have finished.</param>
    /// <param name="cols">D.</param>
    /// <param name="scale">The gradient's scale.</param>
    /// <param name="slot">The accumulator, or -1 for none.</param>
    public static void BceWithLogitsKernel(ArrayView<float> logits, ArrayView<float> targets,
        ArrayView<float> dlogits, ArrayView<float> loss, ArrayView<float> totals, ArrayView<int> ticket, int cols,
        float scale, int slot)
    {
        var shared = SharedMemory.Allocate<float>(ReductionKernels.MaxGroupSize);
        int b = Grid.IdxX, row = b * cols, target = b % (targets.IntLength / cols) * cols - row;
        float sum = 0f;
        for (int c = Group.IdxX; c < cols; c += Group.DimX)
        {
            int i = row + c;
            float x = logits[i], t = targets[target + i];
            float e = XMath.Exp(-XMath.Abs(x));
            sum += XMath.Max(x, 0f) - x * t + XMath.Log(1f + e);
            // sigmoid(x) from the same e = exp(-|x|), stable for either sign.
            float sigmoid = x >= 0f ? 1f / (1f + e) : e / (1f + e);
            dlogits[i] = scale * (sigmoid - t);
        }
        sum = ReductionKernels.GroupSum(shared, sum);
        if (Group.IdxX == 0)
            loss[b] = sum;
        if (slot < 0)
            return;
        // Publish loss[b] before taking a ticket; the group with the last ticket sees every row's loss. Every thread
        // passes the fence: ILGPU emits it on OpenCL as a work-group barrier, and a barrier that only thread 0 reaches is
        // undefined; on PoCL it made several groups of one launch "last", each adding a sum (a train loss ~120x too big).
        MemoryFence.DeviceLevel();
        bool last = false;
        if (Group.IdxX == 0)
            last = Atomic.Add(ref ticket[0], 1) == Grid.DimX - 1;
        if (!Group.BarrierOr(last))
            return;
        float total = 0f;
        // Atomic reads go to the device's shared cache level, never to a stale per-multiprocessor copy. They read the
        // bits as integers: ILGPU's float atomic add is a compare-and-swap loop that compares floats, so it never ends
        // on a NaN loss.
        var bits = loss.Cast<uint>();
        for (int r = Group.IdxX; r < Grid.DimX; r += Group.DimX)
            total += Interop.IntAsFloat(Atomic.Add(ref bits[r], 0u));
        total = ReductionKernels.GroupSum(shared, total);
        if (Group.IdxX == 0)
        {
            totals[slot] += total;
            ticket[0] = 0;
        }
    }

    /// <summary>
    /// The same BCE, loss and gradient as <see cref="BceWithLogitsKernel"/> with one thread per row and no sums
    /// across threads: for the CPU accelerator, where every group barrier costs OS-thread hand-offs.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="logits">The logits (B, D).</param>
    /// <param name="targets">The targets (T, D), T dividing B: row b reads target row b mod T.</param>
    /// <param name="dlogits">The gradient of the logits (B, D), written.</param>
    /// <param name="loss">The loss per row (B), written.</param>
    /// <param name="cols">D.</param>
    /// <param name="scale">The gradient's scale.</param>
    public static void BceWithLogitsRowKernel(Index1D index, int stride, ArrayView<float> logits,
        ArrayView<float> targets, ArrayView<float> dlogits, ArrayView<float> loss, int cols, float scale)
    {
        for (int b = index; b < loss.IntLength; b += stride)
        {
            float sum = 0f;
            int target = b % (targets.IntLength / cols) * cols - b * cols;
            for (int i = b * cols; i < (b + 1) * cols; i++)
            {
                float x = logits[i], t = targets[target + i];
                float e = XMath.Exp(-XMath.Abs(x));
                sum += XMath.Max(x, 0f) - x * t + XMath.Log(1f + e);
                float sigmoid = x >= 0f ? 1f / (1f + e) : e / (1f + e);
                dlogits[i] = scale * (sigmoid - t);
            }
            loss[b] = sum;
        }
    }

    /// <summary>
    /// Softmax cross-entropy per sample with its gradient: <c>loss[b] = logsumexp(x_b) - x_b[label]</c>,
    /// <c>dlogits = scale (softmax(x_b) - onehot(label))</c>, with the row maximum subtracted before exp.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="logits">The logits (B, C).</param>
    /// <param name="labels">The labels (B), each in [0, C).</param>
    /// <param name="loss">The loss per sample (B).</param>
    /// <param name="dlogits">The gradient (B, C), written.</param>
    /// <param name="classes">C.</param>
    /// <param name="scale">The gradient's scale.</param>
    public static void SoftmaxCrossEntropyKernel(Index1D index, int stride, ArrayView<float> logits,
        ArrayView<int> labels, ArrayView<float> loss, ArrayView<float> dlogits, int classes, float scale)
    {
        for (int b = index; b < loss.IntLength; b += stride)
        {
            int row = b * classes;
            float max = logits[row];
            for (int c = 1; c < classes; c++)
                max = XMath.Max(max, logits[row + c]);
            float sum = 0f;
            for (int c = 0; c < classes; c++)
                sum += XMath.Exp(logits[row + c] - max);
            int label = labels[b];
            loss[b] = max + XMath.Log(sum) - logits[row + label];
            float inverse = 1f / sum;
            for (int c = 0; c < classes; c++)
            {
                float p = XMath.Exp(logits[row + c] - max) * inverse;
                dlogits[row + c] = scale * (c == label ? p - 1f : p);
            }
        }
    }
}
