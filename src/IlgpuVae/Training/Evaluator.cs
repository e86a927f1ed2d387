using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Models;

namespace IlgpuVae.Training;

/// <summary>The loss of a whole data set, evaluated on the device in batches of the network's capacity.</summary>
/// <param name="Loss">Summed BCE + KL per image (the negative ELBO with one posterior sample).</param>
/// <param name="Reconstruction">Summed BCE per image.</param>
/// <param name="Kl">KL per image.</param>
public sealed record Evaluation(double Loss, double Reconstruction, double Kl);

/// <summary>Evaluates a network on a device-resident set, reading back one pair of totals per call.</summary>
public sealed class Evaluator : IDisposable
{
    private readonly VaeNetwork _network;
    private readonly DeviceDataset _set;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _order;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _batch, _totals;

    /// <summary>Prepares buffers for evaluating <paramref name="network"/> on <paramref name="set"/>.</summary>
    /// <param name="network">The network.</param>
    /// <param name="set">The data.</param>
    public Evaluator(VaeNetwork network, DeviceDataset set)
    {
        _network = network;
        _set = set;
        _order = network.Device.Upload<int>(Enumerable.Range(0, set.Count).ToArray());
        _batch = network.Device.Allocate<float>((long)network.Capacity * set.Features);
        _totals = network.Device.Allocate<float>(2);
    }

    /// <summary>Evaluates with noise from the (seed, stream + batch) streams.</summary>
    /// <param name="seed">The noise seed.</param>
    /// <param name="stream">Distinguishes evaluations (e.g. the epoch).</param>
    /// <param name="batchDone">Called after each batch is queued with (batches done, batches in all); it does not wait for the device.</param>
    /// <returns>Per-image figures.</returns>
    public Evaluation Evaluate(ulong seed, ulong stream, Action<int, int>? batchDone = null)
    {
        var ops = _network.Device.Ops;
        var totals = _totals.View.BaseView;
        ops.Fill(totals, 0f);
        int d = _set.Features;
        int batches = (_set.Count + _network.Capacity - 1) / _network.Capacity;
        for (int start = 0, batch = 0; start < _set.Count; start += _network.Capacity, batch++)
        {
            int rows = Math.Min(_network.Capacity, _set.Count - start);
            var x = _batch.View.BaseView.SubView(0, (long)rows * d);
            ops.GatherImages(_set.Images, _order.View.BaseView, start, x, d);
            if (_network.Config.IsConditional)
                ops.GatherLabels(_set.Labels, _order.View.BaseView, start, _network.Labels.SubView(0, rows));
            _network.Forward(x, rows, seed, (stream << 24) + (ulong)batch, 1f);
            ops.SumInto(_network.Reconstruction.SubView(0, rows), totals, 0);
            ops.SumInto(_network.Kl.SubView(0, rows), totals, 1);
            batchDone?.Invoke(batch + 1, batches);
        }
        ops.Synchronize();
        var sums = _totals.GetAsArray1D();
        double recon = sums[0] / (double)_set.Count, kl = sums[1] / (double)_set.Count;
        return new Evaluation(recon + kl, recon, kl);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _order.Dispose();
        _batch.Dispose();
        _totals.Dispose();
    }
}
