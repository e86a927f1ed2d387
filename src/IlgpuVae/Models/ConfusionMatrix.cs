namespace IlgpuVae.Models;

/// <summary>The figures read off a C x C confusion matrix (counts[true or requested class, predicted class], row-major),
/// for <see cref="Evaluation"/> (a classifier's, and its agreement with a conditional VAE's samples).</summary>
internal static class ConfusionMatrix
{
    /// <summary>C, from the matrix's C x C entries.</summary>
    public static int Classes(int[] counts) => (int)Math.Round(Math.Sqrt(counts.Length));

    /// <summary>Per row: how many images it counts.</summary>
    public static int[] RowTotals(int[] counts)
    {
        int c = Classes(counts);
        var totals = new int[c];
        for (int t = 0; t < c; t++)
            for (int p = 0; p < c; p++)
                totals[t] += counts[t * c + p];
        return totals;
    }

    /// <summary>Per row: the share of its images on the diagonal (NaN for a row without images).</summary>
    public static double[] RowAccuracy(int[] counts)
    {
        int c = Classes(counts);
        var totals = RowTotals(counts);
        return Enumerable.Range(0, c).Select(t => totals[t] == 0 ? double.NaN : counts[t * c + t] / (double)totals[t]).ToArray();
    }

    /// <summary>The share of all images on the diagonal (NaN for an empty matrix).</summary>
    public static double Accuracy(int[] counts)
    {
        int c = Classes(counts);
        long total = counts.Sum(x => (long)x), diagonal = Enumerable.Range(0, c).Sum(t => (long)counts[t * c + t]);
        return total == 0 ? double.NaN : diagonal / (double)total;
    }
}
