using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>Kernels that build batches from the device-resident data set.</summary>
internal static class DataKernels
{
    /// <summary>
    /// Gathers a float batch in [0, 1]: <c>batch[r, f] = images[order[start + r], f] / 255</c>.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="images">All images as bytes (N, D).</param>
    /// <param name="order">A permutation of the image indices (N).</param>
    /// <param name="batch">The batch (rows, D), rows = batch length / D.</param>
    /// <param name="start">The first position in <paramref name="order"/>.</param>
    /// <param name="features">D.</param>
    public static void GatherImagesKernel(Index1D index, int stride, ArrayView<byte> images, ArrayView<int> order,
        ArrayView<float> batch, int start, int features)
    {
        for (int i = index; i < batch.IntLength; i += stride)
        {
            int r = i / features, f = i - r * features;
            batch[i] = images[order[start + r] * features + f] * (1f / 255f);
        }
    }

    /// <summary>Gathers real-valued rows as they are: <c>batch[r, f] = rows[order[start + r], f]</c>.</summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="rows">All rows (N x features).</param>
    /// <param name="order">A permutation of the indices (N).</param>
    /// <param name="batch">The batch (rows x features).</param>
    /// <param name="start">The first position in <paramref name="order"/>.</param>
    /// <param name="features">D.</param>
    public static void GatherRowsKernel(Index1D index, int stride, ArrayView<float> rows, ArrayView<int> order,
        ArrayView<float> batch, int start, int features)
    {
        for (int i = index; i < batch.IntLength; i += stride)
        {
            int r = i / features, f = i - r * features;
            batch[i] = rows[order[start + r] * features + f];
        }
    }

    /// <summary>Gathers labels: <c>output[r] = labels[order[start + r]]</c>.</summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="labels">All labels (N).</param>
    /// <param name="order">A permutation of the indices (N).</param>
    /// <param name="output">The batch's labels (rows).</param>
    /// <param name="start">The first position in <paramref name="order"/>.</param>
    public static void GatherLabelsKernel(Index1D index, int stride, ArrayView<byte> labels, ArrayView<int> order,
        ArrayView<int> output, int start)
    {
        for (int r = index; r < output.IntLength; r += stride)
            output[r] = labels[order[start + r]];
    }

    /// <summary>
    /// One-hot concatenation for conditioning: <c>output[r] = [x[r, 0..F), onehot(labels[r], C)]</c>.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="x">The features (rows, F).</param>
    /// <param name="labels">The labels (rows), each in [0, C).</param>
    /// <param name="output">The concatenation (rows, F + C).</param>
    /// <param name="features">F.</param>
    /// <param name="classes">C.</param>
    public static void OneHotConcatKernel(Index1D index, int stride, ArrayView<float> x, ArrayView<int> labels,
        ArrayView<float> output, int features, int classes)
    {
        int width = features + classes;
        for (int i = index; i < output.IntLength; i += stride)
        {
            int r = i / width, c = i - r * width;
            output[i] = c < features ? x[r * features + c] : (labels[r] == c - features ? 1f : 0f);
        }
    }
}
