using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Layers;
using IlgpuVae.Models;
using IlgpuVae.Kernels;

namespace IlgpuVae.Models;

/// <summary>The posterior means of a data set, for the analysis of the latent space.</summary>
internal static class LatentCodes
{
    /// <summary>mu of every image in order (N, Z), with z = mu (no noise).</summary>
    /// <param name="network">The VAE.</param>
    /// <param name="set">The images (and, for a conditional model, labels).</param>
    /// <param name="cancellationToken">Checked before each batch.</param>
    /// <returns>The means, row-major.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static float[] Means(VaeNetwork network, DeviceDataset set, CancellationToken cancellationToken = default)
    {
        int z = network.Config.Latent;
        var means = new float[(long)set.Count * z];
        var stats = new float[network.Capacity * 2 * z];
        foreach (var (_, start, rows) in set.InOrder(network.Graph, network.Config.IsConditional))
        {
            cancellationToken.ThrowIfCancellationRequested();
            network.Forward(rows, 0, 0, 1f, NoiseSource.Zero);
            network.Device.Ops.Synchronize();
            network.PosteriorStats.SubView(0, (long)rows * 2 * z).CopyToCPU(stats.AsSpan(0, rows * 2 * z));
            for (int r = 0; r < rows; r++)
                stats.AsSpan(r * 2 * z, z).CopyTo(means.AsSpan((start + r) * z, z));
        }
        return means;
    }

    /// <summary>The set's labels as ints.</summary>
    /// <param name="set">The set.</param>
    /// <returns>The labels.</returns>
    public static int[] Labels(DeviceDataset set) => set.HostLabels.Select(l => (int)l).ToArray();
}
