using IlgpuVae.Models;

namespace IlgpuVae.Classification;

public sealed partial class Classifier
{
    /// <summary>
    /// How often a conditional VAE draws the digit it is asked for, as judged by this classifier: for each class c,
    /// <paramref name="samplesPerClass"/> codes z ~ N(0, s^2 I) (s = <paramref name="priorScale"/>; 1 is the prior) are
    /// decoded with label c and classified. The result's <see cref="Evaluation.Confusion"/> counts [requested class,
    /// predicted class], its <see cref="Evaluation.Accuracy"/> is the share of all images the classifier assigns to the
    /// requested class (<see cref="Evaluation.PerClassAccuracy"/> per class), and its <see cref="Evaluation.Loss"/> the
    /// mean cross-entropy of the requested classes under the classifier. The codes are <see cref="VaeModel.PriorSamples"/> of <paramref name="seed"/> times
    /// <paramref name="priorScale"/>, class by class, so the same seed scores the same codes at every scale.
    /// </summary>
    /// <param name="model">A conditional VAE over the same images and classes.</param>
    /// <param name="samplesPerClass">Images per class (1000 gives each class's share to about +-1.5% at 90%).</param>
    /// <param name="seed">The codes' seed.</param>
    /// <param name="priorScale">s in z ~ N(0, s^2 I), at least 0.</param>
    /// <param name="progress">Receives ("agreement", classes done, classes) after each class; null for none.</param>
    /// <param name="cancellationToken">Checked before each class.</param>
    /// <returns>The classifier's figures on the generated images.</returns>
    /// <exception cref="ArgumentException">The model is not conditional, or model and classifier do not fit together.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The model or the classifier was disposed.</exception>
    /// <example>
    /// <code>
    /// var agreement = classifier.Agreement(cvae, samplesPerClass: 1000,
    ///     progress: new Progress&lt;WorkProgress&gt;(p =&gt; Console.Write($"\rdigit {p.Done}/{p.Total}")),
    ///     cancellationToken: token);
    /// Console.WriteLine($"{agreement.Accuracy:P1} of the samples show the requested digit");
    /// </code>
    /// </example>
    public Evaluation Agreement(VaeModel model, int samplesPerClass = 1000,
        int seed = 1, float priorScale = 1f, IProgress<WorkProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.Config.IsConditional)
            throw new ArgumentException($"agreement needs a conditional model; this one is a {model.Config}", nameof(model));
        if (Config.InputSize != model.Config.InputSize)
            throw new ArgumentException($"the classifier takes {Config.InputSize} pixels, the model draws {model.Config.InputSize}", nameof(model));
        if (Config.Classes != model.Config.Classes)
            throw new ArgumentException($"the classifier knows {Config.Classes} classes, the model {model.Config.Classes}", nameof(model));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samplesPerClass);
        if (!float.IsFinite(priorScale) || priorScale < 0)
            throw new ArgumentOutOfRangeException(nameof(priorScale), $"the prior scale must be a finite number >= 0, got {priorScale}");

        int classes = model.Config.Classes;
        if ((long)samplesPerClass * classes > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(samplesPerClass), $"{samplesPerClass} samples for each of {classes} classes are more than one set holds");
        var confusion = new int[classes * classes];
        double crossEntropy = 0;
        var codes = model.PriorSamples(samplesPerClass * classes, seed);
        for (int i = 0; i < codes.Length; i++)
            codes[i] *= priorScale;
        int z = model.Config.Latent;
        for (int c = 0; c < classes; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var labels = Enumerable.Repeat(c, samplesPerClass).ToArray();
            var images = model.Decode(codes.AsSpan(c * samplesPerClass * z, samplesPerClass * z), labels);
            var predicted = Predict(images, out var probabilities);
            for (int i = 0; i < predicted.Length; i++)
            {
                confusion[c * classes + predicted[i]]++;
                crossEntropy -= Math.Log(Math.Max(probabilities[i * classes + c], float.Epsilon));
            }
            progress?.Report(new WorkProgress("agreement", c + 1, classes));
        }
        int count = samplesPerClass * classes;
        return new Evaluation(crossEntropy / count) { Count = count, Accuracy = ConfusionMatrix.Accuracy(confusion), Confusion = confusion };
    }
}
