namespace IlgpuVae.Models;

// What a conditional VAE is for: digits of a requested class, and style transfer (the same handwriting with another
// identity). Images come back as ImageBatch (count x C x H x W pixel probabilities in [0, 1]) and go in as spans.
public sealed partial class VaeModel
{
    /// <summary>
    /// Draws <paramref name="perClass"/> images of each requested class from z ~ N(0, s^2 I): row r of the result
    /// holds class <paramref name="classes"/>[r], so rendered with perClass columns it is one row per class.
    /// </summary>
    /// <param name="classes">The requested classes, one grid row each (e.g. 0-9).</param>
    /// <param name="perClass">Images per class.</param>
    /// <param name="seed">The codes' seed (<see cref="PriorSamples"/>).</param>
    /// <param name="priorScale">s, at least 0 (1: the prior).</param>
    /// <returns>The images (classes x perClass of C x H x W) and their requested labels.</returns>
    /// <exception cref="ArgumentException">The model is not conditional, or a class is outside 0..C-1.</exception>
    public (Data.ImageBatch Images, int[] Labels) SampleClasses(ReadOnlySpan<int> classes, int perClass,
        int seed = 1, float priorScale = 1f)
    {
        RequireConditional();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perClass);
        if (classes.IsEmpty)
            throw new ArgumentException("no classes requested", nameof(classes));
        if (!float.IsFinite(priorScale) || priorScale < 0)
            throw new ArgumentOutOfRangeException(nameof(priorScale), $"the prior scale must be a finite number >= 0, got {priorScale}");
        Model.CheckHostMemory((double)classes.Length * perClass * (Config.Latent + Config.InputSize + 1),
            $"{classes.Length * (long)perClass:N0} samples of {Config.InputSize:N0} values");
        var labels = new int[classes.Length * perClass];
        for (int i = 0; i < labels.Length; i++)
            labels[i] = classes[i / perClass];
        var codes = PriorSamples(labels.Length, seed);
        for (int i = 0; i < codes.Length; i++)
            codes[i] *= priorScale;
        return (Decode(codes, labels), labels);
    }

    /// <summary>
    /// Style transfer: encodes each image with its true label (z = the posterior mean), then decodes that z with
    /// every label 0..C-1. Row i of the result (C images) is image i's style with each identity in turn, so the
    /// handwriting should stay and the digit change along a row.
    /// </summary>
    /// <param name="images">count rows of D pixels in [0, 1].</param>
    /// <param name="labels">count true labels.</param>
    /// <returns>count x classes images: image i decoded as class c at index i * classes + c.</returns>
    /// <exception cref="ArgumentException">The model is not conditional, a label is outside 0..C-1, or the counts differ.</exception>
    public Data.ImageBatch TransferStyle(ReadOnlySpan<float> images, ReadOnlySpan<int> labels)
    {
        RequireConditional();
        var (mu, _) = Encode(images, labels);
        int z = Config.Latent, classes = Config.Classes, count = labels.Length;
        var codes = new float[count * classes * z];
        var targets = new int[count * classes];
        for (int i = 0; i < count; i++)
        {
            for (int c = 0; c < classes; c++)
            {
                mu.AsSpan(i * z, z).CopyTo(codes.AsSpan((i * classes + c) * z, z));
                targets[i * classes + c] = c;
            }
        }
        return Decode(codes, targets);
    }

    private void RequireConditional()
    {
        if (!Config.IsConditional)
            throw new ArgumentException($"a {Config} model takes no labels; this needs a conditional model");
    }
}
