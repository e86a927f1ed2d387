using IlgpuVae.Analysis;
using IlgpuVae.Data;
using IlgpuVae.Models;

namespace IlgpuVae.Explorer;

/// <summary>
/// What the page's scatter shows: the first test images, their labels and their latent means, and the two leading
/// principal directions of those means (for Z > 2). Computed once when the server starts.
/// </summary>
internal sealed class LatentView
{
    public LatentView(VaeModel model, ImageSet test, int points)
    {
        Count = Math.Min(points, test.Count);
        if (Count < 2)
            throw new ArgumentException($"the explorer needs at least 2 test images, got {Count}");
        if (test.PixelsPerImage != model.Config.InputSize)
            throw new ArgumentException($"test images have {test.PixelsPerImage} pixels, the model takes {model.Config.InputSize}");
        Set = test;
        Images = test.Gather([.. Enumerable.Range(0, Count)]).Values;
        Labels = [.. test.Labels.Take(Count).Select(l => (int)l)];
        Means = model.Encode(Images, model.Config.IsConditional ? Labels : default).Mu;
        int z = model.Config.Latent;
        if (z >= 2)
        {
            var plane = LatentPlane.Principal(Means, z);
            PcaMean = plane.Center!;
            PcaComponents = [.. plane.Across, .. plane.Down];
        }
        else
        {
            PcaMean = new float[z];
            PcaComponents = [1f, 0f];
        }
    }

    /// <summary>The test set the points come from.</summary>
    public ImageSet Set { get; }

    /// <summary>P: how many test images the scatter shows (the first P).</summary>
    public int Count { get; }

    /// <summary>(P, D) pixels in [0, 1].</summary>
    public float[] Images { get; }

    /// <summary>(P) digits.</summary>
    public int[] Labels { get; }

    /// <summary>(P, Z) latent means.</summary>
    public float[] Means { get; }

    /// <summary>(Z) the means' mean.</summary>
    public float[] PcaMean { get; }

    /// <summary>(2, Z) the two leading unit principal directions.</summary>
    public float[] PcaComponents { get; }
}
