namespace IlgpuVae.Tests.Analysis;

/// <summary>Deterministic synthetic data for the analysis tests.</summary>
internal static class AnalysisData
{
    /// <summary>Standard normal deviate (Box-Muller).</summary>
    public static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>
    /// <paramref name="clusters"/> isotropic Gaussian blobs with standard deviation <paramref name="spread"/> whose
    /// centres are at least <paramref name="separation"/> apart: on the coordinate axes (cluster c at +-separation on
    /// axis c / 2) when there are enough axes, otherwise evenly on a circle in the first two dimensions with
    /// neighbouring centres exactly <paramref name="separation"/> apart. Labels cycle 0, 1, ..., clusters - 1.
    /// </summary>
    public static (float[] Points, int[] Labels, float[] Centres) Blobs(
        int count, int dims, int clusters, double separation, double spread, int seed)
    {
        var rng = new Random(seed);
        var centres = new float[clusters * dims];
        bool onAxes = 2 * dims >= clusters;
        double radius = separation / (2 * Math.Sin(Math.PI / Math.Max(clusters, 2)));
        for (int c = 0; c < clusters; c++)
        {
            if (onAxes)
            {
                centres[(c * dims) + (c / 2)] = (float)((c % 2 == 0 ? 1 : -1) * separation);
            }
            else
            {
                double angle = 2 * Math.PI * c / clusters;
                centres[c * dims] = (float)(radius * Math.Cos(angle));
                centres[(c * dims) + 1] = (float)(radius * Math.Sin(angle));
            }
        }

        var points = new float[count * dims];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int c = i % clusters;
            labels[i] = c;
            for (int d = 0; d < dims; d++)
            {
                points[(i * dims) + d] = centres[(c * dims) + d] + (float)(spread * Gaussian(rng));
            }
        }

        return (points, labels, centres);
    }

    /// <summary>Uniform random labels in [0, classes).</summary>
    public static int[] RandomLabels(int count, int classes, int seed)
    {
        var rng = new Random(seed);
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = rng.Next(classes);
        }

        return labels;
    }
}
