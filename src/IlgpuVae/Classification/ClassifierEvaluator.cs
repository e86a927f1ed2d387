using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Training;
using IlgpuVae.Models;

namespace IlgpuVae.Classification;

/// <summary>
/// Evaluates a classifier on a device-resident set in batches of the network's capacity: the loss is summed on
/// the device, and each batch's logits (C floats per image) come back for the argmax on the host.
/// </summary>
internal sealed class ClassifierEvaluator : IDisposable
{
    private readonly ClassifierNetwork _network;
    private readonly DeviceDataset _set;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _total;

    /// <summary>Prepares buffers for evaluating <paramref name="network"/> on <paramref name="set"/>.</summary>
    /// <param name="network">The network.</param>
    /// <param name="set">The data.</param>
    public ClassifierEvaluator(ClassifierNetwork network, DeviceDataset set)
    {
        if (set.Features != network.Config.InputSize)
            throw new ArgumentException($"images have {set.Features} pixels, the classifier takes {network.Config.InputSize}");
        if (set.HostLabels.Any(l => l >= network.Config.Classes))
            throw new ArgumentException($"labels outside 0-{network.Config.Classes - 1} in the data set");
        _network = network;
        _set = set;
        _total = network.Device.Allocate<float>(1);
    }

    /// <summary>Scores the whole set.</summary>
    /// <param name="batchDone">Called after each batch with (batches done, batches in all), or null.</param>
    /// <returns>Loss, accuracy and confusion matrix.</returns>
    public Evaluation Evaluate(Action<int, int>? batchDone = null)
    {
        var ops = _network.Device.Ops;
        int c = _network.Config.Classes;
        var total = _total.View.BaseView;
        ops.Fill(total, 0f);
        var confusion = new int[c * c];
        var logits = new float[_network.Capacity * c];
        int correct = 0;
        int batches = _set.BatchCount(_network.Graph);
        foreach (var (batch, start, rows) in _set.InOrder(_network.Graph, labels: true))
        {
            // The loss op also writes a gradient nobody reads here; it is C floats per image.
            _network.Forward(rows, lossScale: 1f);
            ops.SumInto(_network.SampleLoss.SubView(0, rows), total, 0);
            ops.Synchronize();
            _network.Logits.SubView(0, (long)rows * c).CopyToCPU(logits.AsSpan(0, rows * c));
            for (int r = 0; r < rows; r++)
            {
                int truth = _set.HostLabels[start + r];
                int predicted = Classifier.ArgMax(logits.AsSpan(r * c, c));
                confusion[truth * c + predicted]++;
                correct += truth == predicted ? 1 : 0;
            }
            batchDone?.Invoke(batch + 1, batches);
        }
        ops.Synchronize();
        var sum = new float[1];
        total.CopyToCPU(sum);
        return new Evaluation(sum[0] / (double)_set.Count) { Count = _set.Count, Accuracy = correct / (double)_set.Count, Confusion = confusion };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _total.Dispose();
    }
}
