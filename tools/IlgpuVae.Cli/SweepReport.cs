using System.Globalization;
using System.Text;
using IlgpuVae.Data;
using IlgpuVae.Training;

namespace IlgpuVae.Cli;

/// <summary>One model of a latent-size sweep: how it was trained and what it measures.</summary>
/// <param name="Latent">Z.</param>
/// <param name="Epochs">Epochs trained.</param>
/// <param name="TrainImages">Training images.</param>
/// <param name="TrainSeconds">Training time, evaluation after each epoch excluded.</param>
/// <param name="Assessment">Its figures on the test set.</param>
public sealed record SweepRow(int Latent, int Epochs, int TrainImages, double TrainSeconds, ModelAssessment Assessment);

/// <summary>The table of a latent-size sweep as Markdown (for reading) and CSV (for tools).</summary>
public static class SweepReport
{
    /// <summary>The CSV header.</summary>
    public const string CsvHeader = "latent,epochs,train_images,test_loss,test_recon,test_kl,log_likelihood,iw_samples," +
        "knn_accuracy,kmeans_nmi,kmeans_ari,kmeans_accuracy,silhouette_label,silhouette_kmeans,train_seconds";

    /// <summary>The rows as a Markdown table: losses per image in nats, scores as fractions.</summary>
    /// <param name="rows">The rows.</param>
    /// <returns>The table, header included.</returns>
    public static string Markdown(IReadOnlyList<SweepRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int? samples = rows.Select(r => r.Assessment.LogLikelihood is null ? (int?)null : r.Assessment.ImportanceSamples).FirstOrDefault(s => s is not null);
        int knnK = rows.Select(r => r.Assessment.Clustering?.KnnK).FirstOrDefault(k => k is not null) ?? 5;
        var text = new StringBuilder();
        text.AppendLine($"| Z | test loss | reconstruction | KL | log p(x), IW K={(samples is int k ? k.ToString(CultureInfo.InvariantCulture) : "-")} " +
            $"| kNN acc. (k={knnK}) | k-means NMI | k-means ARI | k-means acc. | silhouette (labels) | silhouette (k-means) | train s |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            var a = row.Assessment;
            var c = a.Clustering;
            text.AppendLine(string.Join(" | ",
                $"| {row.Latent}", F(a.Elbo.Loss, 2), F(a.Elbo.Reconstruction, 2), F(a.Elbo.Kl, 2),
                F(a.LogLikelihood, 2), F(c?.KnnAccuracy, 3), F(c?.KMeansNmi, 3), F(c?.KMeansAri, 3),
                F(c?.KMeansAccuracy, 3), F(c?.SilhouetteByLabel, 3), F(c?.SilhouetteByCluster, 3), F(row.TrainSeconds, 1)) + " |");
        }
        return text.ToString();
    }

    /// <summary>The rows as CSV (<see cref="CsvHeader"/>), full precision, empty fields for what was not measured.</summary>
    /// <param name="rows">The rows.</param>
    /// <returns>The CSV text, header included.</returns>
    public static string Csv(IReadOnlyList<SweepRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder();
        text.AppendLine(CsvHeader);
        foreach (var row in rows)
        {
            var a = row.Assessment;
            var c = a.Clustering;
            text.AppendLine(string.Join(",",
                row.Latent.ToString(CultureInfo.InvariantCulture), row.Epochs.ToString(CultureInfo.InvariantCulture),
                row.TrainImages.ToString(CultureInfo.InvariantCulture), R(a.Elbo.Loss), R(a.Elbo.Reconstruction), R(a.Elbo.Kl),
                R(a.LogLikelihood), a.LogLikelihood is null ? "" : a.ImportanceSamples.ToString(CultureInfo.InvariantCulture),
                R(c?.KnnAccuracy), R(c?.KMeansNmi), R(c?.KMeansAri), R(c?.KMeansAccuracy), R(c?.SilhouetteByLabel),
                R(c?.SilhouetteByCluster), R(row.TrainSeconds)));
        }
        return text.ToString();
    }

    /// <summary>Writes sweep.md (an optional paragraph, then the table) and sweep.csv into <paramref name="directory"/> atomically.</summary>
    /// <param name="directory">The sweep's directory.</param>
    /// <param name="rows">The rows.</param>
    /// <param name="preamble">A paragraph saying how the models were trained and measured, or null.</param>
    /// <returns>The two paths.</returns>
    public static (string Markdown, string Csv) Write(string directory, IReadOnlyList<SweepRow> rows, string? preamble = null)
    {
        string markdown = Path.Combine(directory, "sweep.md"), csv = Path.Combine(directory, "sweep.csv");
        Common.WriteTextAtomically(markdown, (preamble is null ? "" : preamble + Environment.NewLine + Environment.NewLine) + Markdown(rows));
        Common.WriteTextAtomically(csv, Csv(rows));
        return (markdown, csv);
    }

    private static string F(double? value, int decimals) =>
        value is double v ? v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "-";

    private static string R(double? value) => value is double v ? v.ToString("R", CultureInfo.InvariantCulture) : "";
}
