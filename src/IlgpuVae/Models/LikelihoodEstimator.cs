using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Models;

namespace IlgpuVae.Models;

/// <summary>
/// Estimates log p(x) with K importance samples from the encoder's posterior (Burda et al., 2015):
/// <c>log p(x) ~ logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log K</c> (with two stochastic layers,
/// <c>log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1)</c> with (z1, z2) from q), a lower bound in expectation
/// that equals the ELBO at K = 1 and rises with K. Everything runs on the device in batches: per batch, the encoder
/// runs once, each of the K samples is decoded and its log weight written into a (B, K) table, the table's rows are
/// reduced by a stable logsumexp, and the results are summed into one device total read back at the end.
/// With non-binary pixels the summed BCE is not a normalised Bernoulli likelihood, so the figure is the training
/// loss's "likelihood", comparable with the ELBO beside it, not with binarised-MNIST results in the literature. On
/// the binarised test set of a model trained with dynamic binarisation it is that literature's test log-likelihood
/// (docs/iwae.md).
/// </summary>
internal sealed class LikelihoodEstimator : IDisposable
{
    // The (B, K) table holds at most this many floats (16 MB); beyond that, batches shrink.
    private const long MaxTableFloats = 1L << 22;
    private readonly VaeNetwork _network;
    private readonly DeviceDataset _set;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _totals, _rowLogSumExp;
    private MemoryBuffer1D<float, Stride1D.Dense>? _logWeights;

    /// <summary>Prepares buffers for estimating on <paramref name="set"/>.</summary>
    /// <param name="network">The network.</param>
    /// <param name="set">The data.</param>
    public LikelihoodEstimator(VaeNetwork network, DeviceDataset set)
    {
        _network = network;
        _set = set;
        _totals = network.Device.Allocate<float>(1);
        _rowLogSumExp = network.Device.Allocate<float>(network.Capacity);
    }

    /// <summary>Largest K accepted.</summary>
    public const int MaxSamples = 1_000_000;

    /// <summary>
    /// Estimates the mean log-likelihood with <paramref name="samples"/> posterior samples per image. Sample k of
    /// batch b uses the noise stream (seed, k * 2^24 + b), the stream <see cref="Evaluator.Evaluate"/> uses for
    /// stream k: estimates with the same seed and growing K share their first samples, and sample 0 is the very
    /// sample the evaluator's ELBO with stream 0 uses (while batches hold the network's capacity of rows).
    /// </summary>
    /// <param name="samples">K, at least 1.</param>
    /// <param name="seed">The noise seed.</param>
    /// <param name="batchDone">Called after each batch with (batches done, batches), or null.</param>
    /// <param name="cancellationToken">Checked before each posterior sample of each batch.</param>
    /// <param name="images">Receives each image's estimate of log p(x) in the set's order (one read-back per batch), or null.</param>
    /// <returns>The estimate: the mean over images of logsumexp_k(log w_k) - log K, in nats per image.</returns>
    public double Estimate(int samples, ulong seed, Action<int, int>? batchDone = null,
        CancellationToken cancellationToken = default, float[]? images = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(samples, MaxSamples);
        var ops = _network.Device.Ops;
        int z = _network.Config.Latent;
        int batchRows = (int)Math.Clamp(MaxTableFloats / samples, 1, _network.Capacity);
        var table = LogWeights((long)batchRows * samples);
        var totals = _totals.View.BaseView;
        ops.Fill(totals, 0f);
        int batches = _set.BatchCount(_network.Graph, batchRows);
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var (batch, start, rows) in _set.InOrder(_network.Graph, _network.Config.IsConditional, batchRows))
        {
            var logWeights = table.SubView(0, (long)rows * samples);
            var stats = _network.PosteriorStats.SubView(0, (long)rows * 2 * z);
            var eps = _network.Noise.SubView(0, (long)rows * z);
            var latent = _network.LatentSample.SubView(0, (long)rows * z);
            var reconstruction = _network.Reconstruction.SubView(0, rows);
            for (int k = 0; k < samples; k++)
            {
                // A batch of K = 2,000 samples takes many seconds: a stop is seen between samples, not only batches.
                if (cancellationToken.IsCancellationRequested)
                {
                    ops.Synchronize();
                    cancellationToken.ThrowIfCancellationRequested();
                }
                ulong step = ((ulong)k << 24) + (ulong)batch;
                if (k == 0)
                    _network.Forward(rows, seed, step, 1f);
                else
                    _network.Resample(rows, seed, step);
                // Two stochastic layers: the layer's log ratio of (z1, z2) holds every latent density already.
                if (_network.Config.IsTwoLayer)
                    ops.LogWeightColumn(_network.LogRatio.SubView(0, rows), reconstruction, logWeights, k);
                else
                    ops.ImportanceLogWeight(stats, eps, latent, reconstruction, logWeights, z, k);
            }
            var perImage = _rowLogSumExp.View.BaseView.SubView(0, rows);
            ops.RowLogSumExp(logWeights, perImage, samples);
            ops.SumInto(perImage, totals, 0);
            if (images is not null)
            {
                ops.Synchronize();
                perImage.CopyToCPU(images.AsSpan(start, rows));
                for (int i = start; i < start + rows; i++)
                    images[i] -= (float)Math.Log(samples);
            }
            batchDone?.Invoke(batch + 1, batches);
            if (cancellationToken.IsCancellationRequested)
            {
                ops.Synchronize();
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        ops.Synchronize();
        double total = _totals.GetAsArray1D()[0];
        return total / _set.Count - Math.Log(samples);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _totals.Dispose();
        _rowLogSumExp.Dispose();
        _logWeights?.Dispose();
    }

    private ArrayView<float> LogWeights(long length)
    {
        if (_logWeights is null || _logWeights.Length < length)
        {
            _logWeights?.Dispose();
            _logWeights = _network.Device.Allocate<float>(length);
        }
        return _logWeights.View.BaseView.SubView(0, length);
    }
}
