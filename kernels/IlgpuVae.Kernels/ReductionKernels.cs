using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>Deterministic sums: each thread sums a fixed slice in order, and a second stage adds the slices.</summary>
public static class ReductionKernels
{
    /// <summary>
    /// Row sums: <c>output[r] = sum_c x[r, c]</c> (or <c>+=</c> when <paramref name="accumulate"/> is 1).
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="x">The matrix (rows, cols).</param>
    /// <param name="output">The row sums (rows).</param>
    /// <param name="cols">Columns of x.</param>
    /// <param name="accumulate">1 to add into output, 0 to overwrite it.</param>
    public static void RowSumKernel(Index1D index, int stride, ArrayView<float> x, ArrayView<float> output, int cols,
        int accumulate)
    {
        for (int r = index; r < output.IntLength; r += stride)
        {
            float sum = 0f;
            for (int c = 0; c < cols; c++)
                sum += x[r * cols + c];
            output[r] = accumulate != 0 ? output[r] + sum : sum;
        }
    }

    /// <summary>
    /// First stage of a vector sum: thread t sums elements t, t + stride, ... into <c>partial[t]</c>
    /// (launch with extent = partial's length).
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="x">The vector.</param>
    /// <param name="partial">One partial sum per thread.</param>
    public static void PartialSumKernel(Index1D index, int stride, ArrayView<float> x, ArrayView<float> partial)
    {
        float sum = 0f;
        for (int i = index; i < x.IntLength; i += stride)
            sum += x[i];
        partial[index] = sum;
    }

    /// <summary>
    /// Second stage of a vector sum, run by one thread: <c>total[slot] += sum(partial)</c>, so losses
    /// accumulate on the device across steps without a host read.
    /// </summary>
    /// <param name="index">The thread index (only 0 works).</param>
    /// <param name="partial">The partial sums.</param>
    /// <param name="total">The accumulators.</param>
    /// <param name="slot">Which accumulator to add into.</param>
    public static void FinalSumKernel(Index1D index, ArrayView<float> partial, ArrayView<float> total, int slot)
    {
        if (index != 0)
            return;
        float sum = 0f;
        for (int i = 0; i < partial.IntLength; i++)
            sum += partial[i];
        total[slot] += sum;
    }
}
