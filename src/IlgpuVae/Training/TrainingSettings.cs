namespace IlgpuVae.Training;

/// <summary>
/// What every training run has, whatever the model: epochs, batches, Adam and its learning-rate schedule, the seed,
/// a limit on the training images, and how often losses are read back. A classifier trains with these alone
/// (<see cref="Classification.ClassifierTrainer"/>, its architecture given beside them; its defaults,
/// <see cref="Classification.ClassifierTrainer.DefaultSettings"/>, decay the rate by a cosine); a VAE's
/// <see cref="TrainingOptions"/> add its model and objective. Compared by value.
/// </summary>
public record TrainingSettings
{
    /// <summary>Epochs to train in total (a resumed run continues up to this count).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Rows per step; the last partial batch is used too.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Adam's learning rate (with <see cref="LearningRateSchedule.Cosine"/>: at the start).</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>How the learning rate changes over the run.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>Adam's first-moment decay.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam's second-moment decay.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Adam's epsilon, added to the root of the second moment (<c>train --adam-eps</c>; finite and positive).</summary>
    public float Epsilon { get; init; } = DefaultEpsilon;

    /// <summary>Adam's usual epsilon (PyTorch's default), the default of every run.</summary>
    public const float DefaultEpsilon = 1e-8f;

    /// <summary>The seed of initialisation, shuffling and noise.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Use only the first N training images (null: all).</summary>
    public int? Limit { get; init; }

    /// <summary>Steps between progress reports that read the losses back (a host synchronisation each).</summary>
    public int ReportEverySteps { get; init; } = 100;

    /// <summary>The learning rate after <paramref name="step"/> of <paramref name="total"/> steps.</summary>
    /// <param name="step">Steps done.</param>
    /// <param name="total">Steps in the whole run.</param>
    /// <returns>The rate: constant, cosine from <see cref="LearningRate"/> towards 0 at the end, or Burda et al.'s stages.</returns>
    public float LearningRateAt(long step, long total)
    {
        if (Schedule == LearningRateSchedule.Constant)
            return LearningRate;
        if (Schedule == LearningRateSchedule.Burda)
            return (float)(LearningRate * Math.Pow(10, -BurdaStage(step, total) / 7.0));
        double progress = step / (double)total;
        return (float)(LearningRate * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    /// <summary>
    /// The stage i (0-7) of Burda et al.'s schedule at <paramref name="step"/> of <paramref name="total"/>: stage i
    /// lasts 3^i of the run's 3,280 parts (3^i passes of their 3,280-pass run), so the stages end after 1, 4, 13, 40,
    /// 121, 364, 1,093 and 3,280 parts.
    /// </summary>
    /// <param name="step">Steps done.</param>
    /// <param name="total">Steps in the whole run.</param>
    /// <returns>The stage.</returns>
    internal static int BurdaStage(long step, long total)
    {
        int stage = 0;
        long end = 1, length = 1;
        // In whole numbers: step / total >= end / 3280 exactly at the stage boundaries.
        while (stage < 7 && step * 3280 >= end * total)
        {
            stage++;
            length *= 3;
            end += length;
        }
        return stage;
    }

    /// <summary>The most epochs a run may ask for: far past any real schedule, and far from the counters' overflow.</summary>
    public const int MaxEpochs = 1_000_000;

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> with a one-line message.</summary>
    public virtual void Validate()
    {
        if (Epochs <= 0 || Epochs > MaxEpochs)
            throw new ArgumentException($"epochs must be between 1 and {MaxEpochs:N0}, got {Epochs}");
        if (BatchSize <= 0)
            throw new ArgumentException($"batch size must be positive, got {BatchSize}");
        if (!float.IsFinite(LearningRate) || LearningRate <= 0)
            throw new ArgumentException($"learning rate must be a positive number, got {LearningRate}");
        if (!Enum.IsDefined(Schedule))
            throw new ArgumentException($"unknown learning-rate schedule {(int)Schedule}");
        if (Limit is <= 0)
            throw new ArgumentException($"limit must be positive, got {Limit}");
        if (!float.IsFinite(Epsilon) || Epsilon <= 0)
            throw new ArgumentException($"Adam's epsilon must be a positive number, got {Epsilon.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        if (ReportEverySteps <= 0)
            throw new ArgumentException($"report interval must be positive, got {ReportEverySteps}");
    }

    /// <summary>The engine's view of these settings.</summary>
    /// <param name="klWeight">The KL weight at (epoch, step, steps per epoch), for a model with a KL.</param>
    /// <returns>The settings.</returns>
    internal EngineSettings ToEngine(Func<int, int, int, float>? klWeight = null) => new()
    {
        Epochs = Epochs,
        BatchSize = BatchSize,
        Seed = Seed,
        ReportEverySteps = ReportEverySteps,
        Beta1 = Beta1,
        Beta2 = Beta2,
        Epsilon = Epsilon,
        LearningRate = LearningRateAt,
        KlWeight = klWeight ?? ((_, _, _) => 1f),
    };
}

/// <summary>How the learning rate changes over a run.</summary>
public enum LearningRateSchedule
{
    /// <summary>The learning rate throughout.</summary>
    Constant,
    /// <summary>Cosine decay from the learning rate towards 0 over the run (Loshchilov and Hutter, without restarts).</summary>
    Cosine,
    /// <summary>
    /// Burda, Grosse and Salakhutdinov's (2016) steps: eight stages, stage i lasting 3^i of the run's 3,280 parts at
    /// the learning rate times 10^(-i/7) (their 3,280 passes at 0.001 x 10^(-i/7); with --epochs 3280 exactly theirs,
    /// with fewer epochs the same shape compressed).
    /// </summary>
    Burda,
}
