using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Layers;

namespace IlgpuVae.Models;

/// <summary>
/// A data set resident on the device as bytes (N, D) and labels (N). Batches are gathered from it straight into a
/// network's input and labels, through a permutation for training or in order for everything else
/// (<see cref="InOrder"/>): the one batch iterator behind evaluation, the likelihood estimate, latent means and
/// agreement.
/// </summary>
internal sealed class DeviceDataset : IDisposable
{
    private readonly ComputeDevice _device;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _images, _labels;
    private MemoryBuffer1D<int, Stride1D.Dense>? _identity;

    /// <summary>Uploads <paramref name="set"/>.</summary>
    /// <param name="device">The device.</param>
    /// <param name="set">The images and labels.</param>
    public DeviceDataset(ComputeDevice device, ImageSet set)
    {
        _device = device;
        Count = set.Count;
        Features = set.PixelsPerImage;
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
        ops.GatherImages(_images.View.BaseView, order, start, graph.Input.SubView(0, (long)rows * Features), Features);
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
    /// batch is gathered into the network before it is yielded as (batch index, first row, rows).
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
            yield return (batch, start, rows);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _images.Dispose();
        _labels.Dispose();
        _identity?.Dispose();
    }
}
