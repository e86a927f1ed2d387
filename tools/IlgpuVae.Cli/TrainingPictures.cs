using IlgpuVae.Data;
using IlgpuVae.Imaging;
using IlgpuVae.Training;

namespace IlgpuVae.Cli;

/// <summary>The per-epoch pictures of a run directory, drawn by an observer of training.</summary>
internal static class TrainingPictures
{
    /// <summary>Has <paramref name="trainer"/> redraw reconstructions.png and samples.png after every epoch.</summary>
    public static void Attach(VaeTrainer trainer, MnistSet test) =>
        trainer.EpochCompleted += (_, e) =>
        {
            if (e.RunDirectory is { } directory)
                Write(e, test, directory);
        };

    private static void Write(EpochCompletedEventArgs e, MnistSet test, string directory)
    {
        const int columns = 10;
        var model = e.Model;
        int d = test.PixelsPerImage;
        var images = new float[columns * d];
        var labels = new int[columns];
        for (int i = 0; i < columns; i++)
        {
            var pixels = test.Image(i);
            for (int p = 0; p < d; p++)
                images[i * d + p] = pixels[p] / 255f;
            labels[i] = test.Labels[i];
        }
        bool conditional = model.Config.IsConditional;
        var reconstructions = model.Reconstruct(images, conditional ? labels : default);
        string epochText = $"epoch {e.Metrics.Epoch}";
        DigitGrid.Save(Path.Combine(directory, "reconstructions.png"), [.. images, .. reconstructions], 2, columns,
            new GridLabels { Title = $"Test digits and reconstructions, {epochText}", RowLabels = ["input", "recon"] });
        if (conditional)
        {
            var sampleLabels = Enumerable.Range(0, 10 * 8).Select(i => i / 8).ToArray();
            DigitGrid.Save(Path.Combine(directory, "samples.png"), model.Sample(sampleLabels.Length, 7, sampleLabels), 10, 8,
                new GridLabels { Title = $"Samples per digit, {epochText}", RowLabels = Enumerable.Range(0, 10).Select(i => $"digit {i}").ToArray() });
            return;
        }
        DigitGrid.Save(Path.Combine(directory, "samples.png"), model.Sample(64, 7), 8, 8,
            new GridLabels { Title = $"Samples from the prior, {epochText}" });
    }
}
