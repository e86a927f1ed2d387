namespace IlgpuVae;

// Progress and an epoch's figures are reported by the models, the classifier and the trainers alike, so they live in
// the root namespace, which depends on nothing.

/// <summary>
/// Progress of a long operation, the one progress type of the library (through <see cref="IProgress{T}"/>): which
/// part runs and how far it is, and for training also where the run stands.
/// </summary>
/// <remarks>
/// <para>The parts:</para>
/// <list type="table">
/// <item><term>"training"</term><description>A trainer's steps (<see cref="Training.Trainer.Train"/>,
/// <see cref="Training.Trainer.TrainAsync"/>): after every step, <see cref="Done"/> of <see cref="Total"/> steps of
/// epoch <see cref="Epoch"/>; and once more when the epoch is done (its test pass included), with
/// <see cref="Completed"/> set and <see cref="Done"/> = <see cref="Total"/>.</description></item>
/// <item><term>"testing"</term><description>A trainer's test pass after an epoch's training: test batches done of all
/// (<see cref="Epoch"/>, <see cref="Epochs"/> and <see cref="SamplesPerSecond"/> as in training).</description></item>
/// <item><term>"elbo"</term><description><see cref="Training.ModelAssessment.Run"/>: device batches of the test
/// ELBO.</description></item>
/// <item><term>"log_likelihood"</term><description><see cref="Training.ModelAssessment.Run"/> and
/// <see cref="Models.VaeModel.EstimateLogLikelihood"/>: batches of the importance-sampled estimate.</description></item>
/// <item><term>"encode"</term><description><see cref="Training.ModelAssessment.Run"/>: the training and the test set
/// encoded for the clustering (0, 1, 2 of 2).</description></item>
/// <item><term>"clustering"</term><description><see cref="Training.ModelAssessment.Run"/>: k-means and the k-NN on the
/// codes (0, 1 of 1).</description></item>
/// <item><term>"agreement"</term><description><see cref="Classification.Classifier.Agreement"/>: classes
/// sampled and classified.</description></item>
/// </list>
/// <para>The training fields (<see cref="Epoch"/> to <see cref="Completed"/>) are set only by the trainers' parts;
/// a measurement leaves them 0 or null.</para>
/// <para>A class, not a struct: a training report holds eight values, and <see cref="Progress{T}"/> boxes a struct
/// to post it anyway.</para>
/// </remarks>
/// <example>
/// <code>
/// var progress = new Progress&lt;WorkProgress&gt;(p =&gt; Console.Write(p.Part == "training"
///     ? $"\repoch {p.Epoch}/{p.Epochs} step {p.Done}/{p.Total}"
///     : $"\r{p.Part} {p.Done}/{p.Total}"));
/// </code>
/// </example>
/// <param name="Part">The part that runs (see the remarks): "training", "testing", "elbo", "log_likelihood",
/// "encode", "clustering" or "agreement".</param>
/// <param name="Done">Units of the part done (steps, batches, or classes for the agreement).</param>
/// <param name="Total">Units in the part.</param>
public sealed record WorkProgress(string Part, int Done, int Total)
{
    /// <summary>Training: the 1-based epoch; 0 for a measurement.</summary>
    public int Epoch { get; init; }

    /// <summary>Training: the epochs in the run; 0 for a measurement.</summary>
    public int Epochs { get; init; }

    /// <summary>
    /// Training: the mean training loss so far in this epoch where it was read back from the device (every
    /// <see cref="Training.TrainingSettings.ReportEverySteps"/> steps and at the epoch's end); null on the reports in
    /// between, which cost no device synchronisation, in the test pass and for a measurement.
    /// </summary>
    public double? TrainLoss { get; init; }

    /// <summary>Training: images per second so far in this epoch's training; 0 for a measurement.</summary>
    public double SamplesPerSecond { get; init; }

    /// <summary>Training: the epoch's metrics on the report that ends it, else null.</summary>
    public EpochMetrics? Completed { get; init; }
}
