using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>Deterministic sums: each thread sums a fixed slice in order, and a second stage adds the slices.</summary>
internal static class ReductionKernels
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

    /// <summary>The most threads a group of the grouped reductions may have (their shared memory is sized for it).</summary>
    public const int MaxGroupSize = 1024;

    /// <summary>
    /// A vector sum added into an accumulator by one group: <c>total[slot] += sum(x)</c>. Thread t sums elements
    /// t, t + G, ... in order, then the group adds the G partial sums as a binary tree, so the result depends only on
    /// the group size G (a power of two up to <see cref="MaxGroupSize"/>); losses accumulate on the device across
    /// steps without a host read. Launch one group.
    /// </summary>
    /// <param name="x">The vector.</param>
    /// <param name="total">The accumulators.</param>
    /// <param name="slot">Which accumulator to add into.</param>
    public static void SumIntoKernel(ArrayView<float> x, ArrayView<float> total, int slot)
    {
        var shared = SharedMemory.Allocate<float>(MaxGroupSize);
        float sum = 0f;
        for (int i = Group.IdxX; i < x.IntLength; i += Group.DimX)
            sum += x[i];
        sum = GroupSum(shared, sum);
        if (Group.IdxX == 0)
            total[slot] += sum;
    }

    /// <summary>
    /// The sum of one value per thread of the group, as a binary tree over shared memory (fixed order); every thread
    /// gets the result. The group size must be a power of two no larger than the shared view.
    /// </summary>
    /// <param name="shared">Shared memory of at least the group size.</param>
    /// <param name="value">This thread's value.</param>
    /// <returns>The group's sum.</returns>
    public static float GroupSum(ArrayView<float> shared, float value)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int width = Group.DimX / 2; width > 0; width /= 2)
        {
            if (t < width)
                shared[t] += shared[t + width];
            Group.Barrier();
        }
        float sum = shared[0];
        // Nobody may overwrite shared[0] (in a later call) before every thread has read it.
        Group.Barrier();
        return sum;
    }
}
