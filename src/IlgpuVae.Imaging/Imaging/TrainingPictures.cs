using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Training;

namespace IlgpuVae.Imaging;

/// <summary>
/// The pictures a training run writes after every epoch: the first ten test digits above their reconstructions,
/// and samples from the prior (for a conditional model, eight per digit). An observer of training: subscribe
/// <see cref="EveryEpoch"/> to <see cref="VaeTrainer.EpochCompleted"/>.
/// </summary>
public static class TrainingPictures
{
    /// <summary>File name of the test digits above their reconstructions.</summary>
    public const string ReconstructionsFile = "reconstructions.png";

    /// <summary>File name of the samples.</summary>
    public const string SamplesFile = "samples.png";

    // The samples' seed: the same draws every epoch, so the pictures show the model changing, not the noise.
    private const int SampleSeed = 7;

    /// <summary>The test digits the pictures reconstruct: the test set needs at least this many.</summary>
    public const int TestDigits = 10;

    /// <summary>A handler for <see cref="VaeTrainer.EpochCompleted"/> that writes the pictures into the run
    /// directory after each epoch (nothing when the trainer has no run directory). A model of binary images
    /// reconstructs the binarised digits it is tested on.</summary>
    /// <param name="test">The test set whose first ten digits are reconstructed.</param>
    /// <param name="classNames">The classes' names (<c>ImageData.ClassNames</c>) for a conditional model's rows, or null for "class i".</param>
    /// <returns>The handler.</returns>
    /// <exception cref="ArgumentException">The test set has fewer than <see cref="TestDigits"/> images: said now,
    /// before training, not after the first epoch.</exception>
    public static EventHandler<EpochMetrics> EveryEpoch(ImageSet test, IReadOnlyList<string>? classNames = null)
    {
        CheckTestSet(test);
        var digits = test.Take(TestDigits);
        return (sender, metrics) =>
        {
            if (sender is VaeTrainer { RunDirectory: string directory } trainer)
                Write(trainer.Model, trainer.Model.ImagesAsTrained(digits), directory, metrics.Epoch, classNames);
        };
    }

    private static void CheckTestSet(ImageSet test)
    {
        ArgumentNullException.ThrowIfNull(test);
        if (test.Count < TestDigits)
            throw new ArgumentException($"the test set has {test.Count} images; the pictures drawn after each epoch show {TestDigits}", nameof(test));
    }

    /// <summary>Writes <see cref="ReconstructionsFile"/> and <see cref="SamplesFile"/> into <paramref name="directory"/>.</summary>
    /// <param name="model">The model.</param>
    /// <param name="test">The test set whose first ten digits are reconstructed (at least ten images).</param>
    /// <param name="directory">The directory, created if missing.</param>
    /// <param name="epoch">The epoch the model has finished, for the titles.</param>
    /// <param name="classNames">The classes' names for a conditional model's rows, or null for "class i".</param>
    public static void Write(VaeModel model, ImageSet test, string directory, int epoch, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckTestSet(test);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        const int columns = TestDigits;
        int d = test.PixelsPerImage, h = model.Config.ImageHeight, w = model.Config.ImageWidth, c = model.Config.ImageChannels;
        if (c * h * w != d)
            throw new ArgumentException($"the test images are {test.Channels}x{test.Rows}x{test.Cols}, the model draws {c}x{h}x{w}", nameof(test));
        // Small images are drawn larger, so a 12x16 picture stays as legible as MNIST's.
        int scale = Math.Max(2, 56 / Math.Max(h, w));
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
        string epochText = $"epoch {epoch}";
        DigitGrid.Save(Path.Combine(directory, ReconstructionsFile), [.. images, .. reconstructions.Values], 2, columns,
            new GridLabels { Title = $"Test digits and reconstructions, {epochText}", RowLabels = ["input", "recon"] }, h, scale, w, c);
        if (conditional)
        {
            int classes = model.Config.Classes;
            var sampleLabels = Enumerable.Range(0, classes * 8).Select(i => i / 8).ToArray();
            var perDigit = model.Sample(sampleLabels.Length, SampleSeed, sampleLabels);
            DigitGrid.Save(Path.Combine(directory, SamplesFile), perDigit, classes, 8, new GridLabels
            {
                Title = $"Samples per class, {epochText}",
                RowLabels = Enumerable.Range(0, classes).Select(i => classNames is not null && i < classNames.Count ? classNames[i] : $"class {i}").ToArray(),
            }, scale: scale);
            return;
        }
        var samples = model.Sample(64, SampleSeed);
        DigitGrid.Save(Path.Combine(directory, SamplesFile), samples, 8, 8, new GridLabels { Title = $"Samples from the prior, {epochText}" }, scale: scale);
    }
}
