using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Models;

namespace IlgpuVae.Training;

/// <summary>
/// The posterior means of a whole device-resident set, for latent-space analysis: images are gathered and scaled
/// on the device one batch at a time (the set stays bytes; no host copy of its pixels as floats), encoded, and
/// only the batch's means come back, so the host holds N x Z floats (4.8 MB for 60,000 images at Z = 20).
/// </summary>
public static class LatentCodes
{
    /// <summary>Encodes every image of <paramref name="set"/> into its posterior mean.</summary>
    /// <param name="network">The network (a conditional one reads each image's own label).</param>
    /// <param name="set">The images.</param>
    /// <returns>Row-major N x Z means, in the set's order.</returns>
    public static float[] Means(VaeNetwork network, DeviceDataset set)
    {
        var device = network.Device;
        var ops = device.Ops;
        int d = set.Features, z = network.Config.Latent, capacity = network.Capacity;
        var means = new float[(long)set.Count * z];
        var stats = new float[capacity * 2 * z];
        using var order = device.Upload<int>(Enumerable.Range(0, set.Count).ToArray());
        using var batch = device.Allocate<float>((long)capacity * d);
        for (int start = 0; start < set.Count; start += capacity)
        {
            int rows = Math.Min(capacity, set.Count - start);
            var x = batch.View.BaseView.SubView(0, (long)rows * d);
            ops.GatherImages(set.Images, order.View.BaseView, start, x, d);
            if (network.Config.IsConditional)
                ops.GatherLabels(set.Labels, order.View.BaseView, start, network.Labels.SubView(0, rows));
            network.Forward(x, rows, 0, 0, 1f, NoiseMode.Zero);
            ops.Synchronize();
            network.PosteriorStats.SubView(0, (long)rows * 2 * z).CopyToCPU(stats.AsSpan(0, rows * 2 * z));
            for (int r = 0; r < rows; r++)
                stats.AsSpan(r * 2 * z, z).CopyTo(means.AsSpan((start + r) * z, z));
        }
        return means;
    }

    /// <summary>The labels of a device set as ints (for the analysis routines).</summary>
    /// <param name="set">The set.</param>
    /// <returns>Its labels.</returns>
    public static int[] Labels(DeviceDataset set) => set.HostLabels.Select(l => (int)l).ToArray();
}
