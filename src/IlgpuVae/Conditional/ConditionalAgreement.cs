using IlgpuVae.Classification;
using IlgpuVae.Models;
using IlgpuVae.Training;

namespace IlgpuVae.Conditional;

/// <summary>
/// How often a conditional VAE draws the digit it is asked for, as judged by a separate classifier: for each
/// requested class c, codes z ~ N(0, s^2 I) (s = <see cref="PriorScale"/>; 1 is the prior) are decoded with label c,
/// and the classifier's prediction for each decoded image is counted in <see cref="Confusion"/>.
/// </summary>
/// <param name="SamplesPerClass">Images generated per requested class.</param>
/// <param name="PriorScale">s: the standard deviation the codes were drawn with (1: the prior, 0: z = 0).</param>
/// <param name="Confusion">counts[requested class, predicted class], C x C, row-major.</param>
public sealed record ConditionalAgreement(int SamplesPerClass, float PriorScale, int[] Confusion)
{
    /// <summary>C.</summary>
    public int Classes => (int)Math.Round(Math.Sqrt(Confusion.Length));

    /// <summary>Per requested class: the share of its images the classifier assigns to it.</summary>
    public double[] PerClass => Enumerable.Range(0, Classes)
        .Select(c => Confusion[c * Classes + c] / (double)SamplesPerClass).ToArray();

    /// <summary>The share of all generated images the classifier assigns to the requested class.</summary>
    public double Overall => Enumerable.Range(0, Classes).Sum(c => Confusion[c * Classes + c]) / (double)(SamplesPerClass * Classes);

    /// <summary>
    /// Generates <paramref name="samplesPerClass"/> images of every class from <paramref name="model"/> and counts the
    /// classifier's predictions. The codes are <see cref="VaeModel.PriorSamples"/> of <paramref name="seed"/> times
    /// <paramref name="priorScale"/>, class by class, so the same seed scores the same codes at every scale.
    /// </summary>
    /// <param name="model">A conditional VAE.</param>
    /// <param name="classifier">A classifier over the same images and classes.</param>
    /// <param name="samplesPerClass">Images per class (1000 gives each class's share to about +-1.5% at 90%).</param>
    /// <param name="seed">The codes' seed.</param>
    /// <param name="priorScale">s in z ~ N(0, s^2 I), at least 0.</param>
    /// <param name="progress">Receives ("agreement", classes done, classes) after each class; null for none.</param>
    /// <param name="cancellationToken">Checked before each class.</param>
    /// <returns>The counts.</returns>
    /// <exception cref="ArgumentException">The model is not conditional, or model and classifier do not fit together.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The model or the classifier was disposed.</exception>
    /// <example>
    /// <code>
    /// var agreement = ConditionalAgreement.Measure(cvae, classifier, samplesPerClass: 1000,
    ///     progress: new Progress&lt;WorkProgress&gt;(p =&gt; Console.Write($"\rdigit {p.Done}/{p.Total}")),
    ///     cancellationToken: token);
    /// Console.WriteLine($"{agreement.Overall:P1} of the samples show the requested digit");
    /// </code>
    /// </example>
    public static ConditionalAgreement Measure(VaeModel model, Classifier classifier, int samplesPerClass = 1000,
        int seed = 1, float priorScale = 1f, IProgress<WorkProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(classifier);
        if (!model.Config.IsConditional)
            throw new ArgumentException($"agreement needs a conditional model; this one is a {model.Config}", nameof(model));
        if (classifier.Config.InputSize != model.Config.InputSize)
            throw new ArgumentException($"the classifier takes {classifier.Config.InputSize} pixels, the model draws {model.Config.InputSize}", nameof(classifier));
        if (classifier.Config.Classes != model.Config.Classes)
            throw new ArgumentException($"the classifier knows {classifier.Config.Classes} classes, the model {model.Config.Classes}", nameof(classifier));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samplesPerClass);
        if (!float.IsFinite(priorScale) || priorScale < 0)
            throw new ArgumentOutOfRangeException(nameof(priorScale), $"the prior scale must be a finite number >= 0, got {priorScale}");

        int classes = model.Config.Classes;
        var confusion = new int[classes * classes];
        var codes = model.PriorSamples(samplesPerClass * classes, seed);
        for (int i = 0; i < codes.Length; i++)
            codes[i] *= priorScale;
        int z = model.Config.Latent;
        for (int c = 0; c < classes; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var labels = Enumerable.Repeat(c, samplesPerClass).ToArray();
            var images = model.Decode(codes.AsSpan(c * samplesPerClass * z, samplesPerClass * z), labels);
            foreach (int predicted in classifier.Predict(images))
                confusion[c * classes + predicted]++;
            progress?.Report(new WorkProgress("agreement", c + 1, classes));
        }
        return new ConditionalAgreement(samplesPerClass, priorScale, confusion);
    }
}
