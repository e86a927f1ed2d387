using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Layers;

namespace IlgpuVae.Models;

/// <summary>
/// A data set resident on the device as bytes (N, D), or for real-valued vectors standardised floats (N, D), and labels (N). Batches are gathered from it straight into a
/// network's input and labels, through a permutation for training or in order for everything else
/// (<see cref="InOrder"/>): the one batch iterator behind evaluation, the likelihood estimate, latent means and
/// agreement.
/// </summary>
internal sealed class DeviceDataset : IDisposable
{
    private readonly ComputeDevice _device;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense>? _images;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _labels;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _rows;
    private MemoryBuffer1D<int, Stride1D.Dense>? _identity;

    /// <summary>Uploads <paramref name="set"/>.</summary>
    /// <param name="device">The device.</param>
    /// <param name="set">The images and labels, or real-valued vectors and labels.</param>
    /// <param name="config">
    /// For a set of vectors, the model whose column means and standard deviations standardise the rows before they are
    /// uploaded (as floats, gathered unscaled); null uploads them as they are. Unused for images.
    /// </param>
    public DeviceDataset(ComputeDevice device, ImageSet set, VaeConfig? config = null)
    {
        _device = device;
        Count = set.Count;
        Features = set.PixelsPerImage;
        if (set.Vectors is { } vectors)
            _rows = device.Upload<float>(config is { IsVectors: true } ? config.Standardize(vectors) : vectors);
        else
            _images = device.Upload<byte>(set.Images);
        _labels = device.Upload<byte>(set.Labels);
        HostLabels = set.Labels;
    }

    /// <summary>N.</summary>
    public int Count { get; }

    /// <summary>D.</summary>
    public int Features { get; }

    /// <summary>The labels on the host.</summary>
    public byte[] HostLabels { get; }

    /// <summary>
    /// Gathers rows <c>order[start .. start + rows)</c> into the first rows of <paramref name="graph"/>'s input, scaled
    /// to [0, 1], and, when <paramref name="labels"/>, their labels into its labels. Launches only.
    /// </summary>
    /// <param name="graph">The network to feed.</param>
    /// <param name="order">Row indices into this set.</param>
    /// <param name="start">The first position in <paramref name="order"/>.</param>
    /// <param name="rows">B.</param>
    /// <param name="labels">Whether the network reads labels.</param>
    public void Gather(Network graph, ArrayView<int> order, int start, int rows, bool labels)
    {
        if (graph.Layers[0].InputWidth != Features)
            throw new ArgumentException($"images have {Features} pixels, the model takes {graph.Layers[0].InputWidth}");
        var ops = _device.Ops;
        if (_rows is not null)
            ops.GatherRows(_rows.View.BaseView, order, start, graph.Input.SubView(0, (long)rows * Features), Features);
        else
            ops.GatherImages(_images!.View.BaseView, order, start, graph.Input.SubView(0, (long)rows * Features), Features);
        if (labels)
            ops.GatherLabels(_labels.View.BaseView, order, start, graph.Labels.SubView(0, rows));
        graph.Context.Rows = rows;
    }

    /// <summary>How many batches <see cref="InOrder"/> yields for the same arguments.</summary>
    /// <param name="graph">The network to feed.</param>
    /// <param name="batchRows">Rows per batch, or null for the capacity.</param>
    /// <returns>The batch count.</returns>
    public int BatchCount(Network graph, int? batchRows = null)
    {
        int size = Math.Min(batchRows ?? graph.Capacity, graph.Capacity);
        return (Count + size - 1) / size;
    }

    /// <summary>
    /// The set in order, in batches of at most <paramref name="batchRows"/> (default: the network's capacity): each
    /// batch is gathered into the network (and dequantised, when the network models 8-bit data by a density) before it
    /// is yielded as (batch index, first row, rows).
    /// </summary>
    /// <param name="graph">The network to feed.</param>
    /// <param name="labels">Whether the network reads labels.</param>
    /// <param name="batchRows">Rows per batch, or null for the capacity.</param>
    /// <returns>The batches.</returns>
    public IEnumerable<(int Batch, int Start, int Rows)> InOrder(Network graph, bool labels, int? batchRows = null)
    {
        int size = Math.Min(batchRows ?? graph.Capacity, graph.Capacity);
        _identity ??= _device.Upload<int>(Enumerable.Range(0, Count).ToArray());
        for (int start = 0, batch = 0; start < Count; start += size, batch++)
        {
            int rows = Math.Min(size, Count - start);
            Gather(graph, _identity.View.BaseView, start, rows, labels);
            if (graph.DequantizesInput)
                _device.Ops.Dequantize(graph.Input.SubView(0, (long)rows * Features), InOrderDequantizationSeed, (ulong)start);
            yield return (batch, start, rows);
        }
    }

    /// <summary>
    /// The noise stream of <see cref="InOrder"/>'s dequantisation (for a network that <see cref="Network.DequantizesInput"/>):
    /// the batch starting at row s uses step s, so every pass in batches of the same size sees the same values.
    /// </summary>
    public const ulong InOrderDequantizationSeed = 0xDE0A_2571_0000_0001UL;

    /// <inheritdoc />
    public void Dispose()
    {
        _images?.Dispose();
        _rows?.Dispose();
        _labels.Dispose();
        _identity?.Dispose();
    }
}
