using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Models;

namespace IlgpuVae.Models;

/// <summary>
/// A model's figures on a whole data set, for both kinds of model. A VAE's: the negative ELBO per image with one
/// posterior sample (<see cref="Loss"/> = <see cref="Reconstruction"/> + <see cref="Kl"/>). A classifier's: the mean
/// cross-entropy, the <see cref="Accuracy"/> and the <see cref="Confusion"/> matrix. What a kind does not measure is null.
/// </summary>
/// <param name="Loss">A VAE's reconstruction + KL per image; a classifier's mean cross-entropy.</param>
/// <param name="Reconstruction">A VAE's reconstruction term per image (the decoder's negative log-likelihood), else null.</param>
/// <param name="Kl">A VAE's KL per image, else null.</param>
public sealed record Evaluation(double Loss, double? Reconstruction = null, double? Kl = null)
{
    /// <summary>Images evaluated.</summary>
    public int Count { get; init; }

    /// <summary>A classifier's fraction of images classified correctly, else null.</summary>
    public double? Accuracy { get; init; }

    /// <summary>A classifier's counts[true label, predicted label], C x C, row-major; else null.</summary>
    public int[]? Confusion { get; init; }

    /// <summary>C, the classifier's classes; 0 for a VAE.</summary>
    public int Classes => Confusion is null ? 0 : ConfusionMatrix.Classes(Confusion);

    /// <summary>Per true class: the fraction of its images classified correctly (NaN for a class with none); empty for a VAE.</summary>
    public double[] PerClassAccuracy => Confusion is null ? [] : ConfusionMatrix.RowAccuracy(Confusion);

    /// <summary>Per true class: how many images the set holds; empty for a VAE.</summary>
    public int[] PerClassCount => Confusion is null ? [] : ConfusionMatrix.RowTotals(Confusion);
}

/// <summary>The negative ELBO of a data set under a VAE, summed on the device and read back once.</summary>
internal sealed class Evaluator : IDisposable
{
    private readonly VaeNetwork _network;
    private readonly DeviceDataset _set;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _totals;

    public Evaluator(VaeNetwork network, DeviceDataset set)
    {
        _network = network;
        _set = set;
        _totals = network.Device.Allocate<float>(2);
    }

    /// <summary>Batches in one pass.</summary>
    public int Batches => _set.BatchCount(_network.Graph);

    /// <summary>
    /// One pass over the set in order; batch b's noise is the (seed, (stream &lt;&lt; 24) + b) stream, so a pass is
    /// reproducible and each stream (an epoch) differs.
    /// </summary>
    /// <param name="seed">The noise seed.</param>
    /// <param name="stream">The noise stream.</param>
    /// <param name="batchDone">Called after each batch is launched with the batches done so far, or null.</param>
    /// <param name="perImage">Receives each image's negative ELBO in the set's order (one read-back per batch), or null.</param>
    /// <returns>The losses per image.</returns>
    public Evaluation Evaluate(ulong seed, ulong stream, Action<int>? batchDone = null, float[]? perImage = null)
    {
        var ops = _network.Device.Ops;
        var totals = _totals.View.BaseView;
        ops.Fill(totals, 0f);
        var imageKl = perImage is null ? null : new float[_network.Capacity];
        foreach (var (batch, start, rows) in _set.InOrder(_network.Graph, _network.Config.IsConditional))
        {
            _network.Forward(rows, seed, (stream << 24) + (ulong)batch, 1f);
            ops.SumInto(_network.Reconstruction.SubView(0, rows), totals, 0);
            ops.SumInto(_network.Kl.SubView(0, rows), totals, 1);
            if (perImage is not null)
            {
                ops.Synchronize();
                _network.Reconstruction.SubView(0, rows).CopyToCPU(perImage.AsSpan(start, rows));
                _network.Kl.SubView(0, rows).CopyToCPU(imageKl.AsSpan(0, rows));
                for (int i = 0; i < rows; i++)
                    perImage[start + i] += imageKl![i];
            }
            batchDone?.Invoke(batch + 1);
        }
        ops.Synchronize();
        var sums = _totals.GetAsArray1D();
        double recon = sums[0] / (double)_set.Count, kl = sums[1] / (double)_set.Count;
        return new Evaluation(recon + kl, recon, kl) { Count = _set.Count };
    }

    public void Dispose() => _totals.Dispose();
}
