using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using IlgpuVae.Checkpoints;
using IlgpuVae.Models;

namespace IlgpuVae.Training;

/// <summary>
/// The files of a training run: model.safetensors (weights, PyTorch names, config in metadata),
/// training-state.safetensors (Adam moments, counters, the current epoch's losses), config.json, metrics.csv,
/// reconstructions.png and samples.png. Every write is atomic (temporary file, then rename).
/// </summary>
internal sealed class RunDirectory
{
    /// <summary>The model checkpoint's file name.</summary>
    public const string ModelFile = "model.safetensors";
    /// <summary>The resumable state's file name.</summary>
    public const string StateFile = "training-state.safetensors";
    /// <summary>The options' file name.</summary>
    public const string ConfigFile = "config.json";
    /// <summary>The per-epoch metrics' file name.</summary>
    public const string MetricsFile = "metrics.csv";
    /// <summary>The metrics' header row.</summary>
    public const string MetricsHeader = "epoch,train_loss,test_loss,test_recon,test_kl,epoch_seconds,samples_per_second";

    /// <summary>Uses (and creates) <paramref name="path"/>.</summary>
    /// <param name="path">The directory.</param>
    /// <exception cref="IOException">The directory cannot be created or written.</exception>
    public RunDirectory(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        try
        {
            Directory.CreateDirectory(Path);
            string probe = System.IO.Path.Combine(Path, $".write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"cannot write to output directory {Path}: {e.Message}", e);
        }
    }

    /// <summary>The directory's full path.</summary>
    public string Path { get; }

    /// <summary>The path of a file in the run.</summary>
    /// <param name="name">The file name.</param>
    /// <returns>The full path.</returns>
    public string PathOf(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes config.json: the options as JSON.</summary>
    /// <param name="options">The options.</param>
    public void WriteConfig(TrainingOptions options) =>
        WriteAtomic(ConfigFile, JsonSerializer.Serialize(ToJson(options), JsonOptions));

    /// <summary>Reads config.json back.</summary>
    /// <returns>The options.</returns>
    public TrainingOptions ReadConfig()
    {
        string path = PathOf(ConfigFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: missing; not a training run directory");
        try
        {
            var json = JsonSerializer.Deserialize<ConfigJson>(File.ReadAllText(path), JsonOptions)
                ?? throw new InvalidDataException("empty");
            return new TrainingOptions
            {
                Epochs = json.Epochs,
                BatchSize = json.Batch,
                LearningRate = json.LearningRate,
                Schedule = Schedule(json.LrSchedule),
                // Runs written before the image size was recorded lack it: their images were square.
                Model = new VaeConfig(json.InputSize, json.Hidden, json.Latent, json.Classes, Conditioning(json.DecoderConditioning))
                {
                    ImageHeight = json.ImageHeight ?? 0,
                    ImageWidth = json.ImageWidth ?? 0,
                },
                Beta = json.Beta,
                KlWarmupEpochs = json.KlWarmupEpochs,
                BetaStart = json.BetaStart,
                Seed = json.Seed,
                Limit = json.Limit,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or NullReferenceException)
        {
            throw new InvalidDataException($"{path}: not a valid run configuration ({e.Message.Split('\n')[0]})");
        }
    }

    // Runs written before the option existed lack it: they kept the learning rate constant.
    private static LearningRateSchedule Schedule(string? name) =>
        name is null ? LearningRateSchedule.Constant
        : Enum.TryParse<LearningRateSchedule>(name, ignoreCase: true, out var schedule) && Enum.IsDefined(schedule) && !char.IsDigit(name[0]) ? schedule
        : throw new InvalidDataException($"lr_schedule '{name}' is not constant or cosine");

    // Runs written before the option existed lack it: their decoders read the label in the first layer only.
    private static DecoderConditioning Conditioning(string? name) =>
        name is null ? DecoderConditioning.FirstLayer
        : VaeConfig.TryParseConditioning(name, out var conditioning) ? conditioning
        : throw new InvalidDataException($"decoder_conditioning '{name}' is not first-layer or every-layer");

    /// <summary>Rewrites metrics.csv with every epoch so far.</summary>
    /// <param name="epochs">The metrics.</param>
    public void WriteMetrics(IEnumerable<EpochMetrics> epochs)
    {
        var text = new StringBuilder(MetricsHeader).Append('\n');
        foreach (var m in epochs)
            text.Append(string.Join(",", m.Epoch.ToString(CultureInfo.InvariantCulture),
                F(m.TrainLoss), F(m.TestLoss), F(m.TestReconstruction), F(m.TestKl), F(m.EpochSeconds),
                m.SamplesPerSecond.ToString("F0", CultureInfo.InvariantCulture))).Append('\n');
        WriteAtomic(MetricsFile, text.ToString());
    }

    /// <summary>Reads metrics.csv (empty when absent).</summary>
    /// <returns>The rows.</returns>
    public List<EpochMetrics> ReadMetrics()
    {
        string path = PathOf(MetricsFile);
        if (!File.Exists(path))
            return [];
        var rows = new List<EpochMetrics>();
        foreach (var line in File.ReadLines(path).Skip(1).Where(l => l.Length > 0))
        {
            var f = line.Split(',');
            if (f.Length != 7)
                throw new InvalidDataException($"{path}: malformed row '{line}'");
            double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
            rows.Add(new EpochMetrics(int.Parse(f[0], CultureInfo.InvariantCulture), D(1), D(2), D(3), D(4), D(5), D(6)));
        }
        return rows;
    }

    private static string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);

    private void WriteAtomic(string name, string content) =>
        Data.AtomicFile.WriteAllBytes(PathOf(name), Encoding.UTF8.GetBytes(content));

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private static ConfigJson ToJson(TrainingOptions o) => new()
    {
        Model = o.Model.Kind,
        InputSize = o.Model.InputSize,
        ImageHeight = o.Model.ImageHeight,
        ImageWidth = o.Model.ImageWidth,
        Hidden = o.Model.Hidden.ToArray(),
        Latent = o.Model.Latent,
        Classes = o.Model.Classes,
        DecoderConditioning = o.Model.IsConditional ? VaeConfig.ConditioningName(o.Model.Conditioning) : null,
        Epochs = o.Epochs,
        Batch = o.BatchSize,
        LearningRate = o.LearningRate,
        LrSchedule = o.Schedule == LearningRateSchedule.Constant ? null : o.Schedule.ToString().ToLowerInvariant(),
        Beta = o.Beta,
        KlWarmupEpochs = o.KlWarmupEpochs,
        BetaStart = o.BetaStart,
        Seed = o.Seed,
        Limit = o.Limit,
    };

    private sealed class ConfigJson
    {
        public string Model { get; set; } = "vae";
        public int InputSize { get; set; }
        public int? ImageHeight { get; set; }
        public int? ImageWidth { get; set; }
        public int[] Hidden { get; set; } = [];
        public int Latent { get; set; }
        public int Classes { get; set; }
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? DecoderConditioning { get; set; }
        public int Epochs { get; set; }
        public int Batch { get; set; }
        public float LearningRate { get; set; }
        // Written only when not constant, so a default run's config.json reads as before.
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? LrSchedule { get; set; }
        public float Beta { get; set; }
        public int KlWarmupEpochs { get; set; }
        // Absent from runs written before it existed: 0, the warm-up they had.
        public float BetaStart { get; set; }
        public int Seed { get; set; }
        public int? Limit { get; set; }
    }

    /// <summary>Writes the resumable state atomically.</summary>
    /// <param name="state">The state.</param>
    /// <param name="tensors">Adam's moments and the epoch's step losses.</param>
    public void WriteState(TrainingState state, IEnumerable<NamedTensor> tensors) =>
        SafeTensors.Write(PathOf(StateFile), state.ToMetadata(), tensors);
}

/// <summary>Counters that, with the weights and Adam's moments, let a run continue exactly where it stopped.</summary>
/// <param name="Epoch">The 1-based epoch in progress (or next to start).</param>
/// <param name="StepInEpoch">Steps of that epoch already done.</param>
/// <param name="GlobalStep">Steps done in total (the noise counter).</param>
/// <param name="AdamStep">Adam's t.</param>
/// <param name="EpochSeconds">Training seconds spent in the epoch so far.</param>
internal sealed record TrainingState(int Epoch, int StepInEpoch, long GlobalStep, long AdamStep, double EpochSeconds)
{
    /// <summary>The state as safetensors metadata.</summary>
    /// <returns>The metadata.</returns>
    public Dictionary<string, string> ToMetadata() => new()
    {
        ["format"] = "ilgpu-vae-training-state",
        ["epoch"] = Epoch.ToString(CultureInfo.InvariantCulture),
        ["step_in_epoch"] = StepInEpoch.ToString(CultureInfo.InvariantCulture),
        ["global_step"] = GlobalStep.ToString(CultureInfo.InvariantCulture),
        ["adam_step"] = AdamStep.ToString(CultureInfo.InvariantCulture),
        ["epoch_seconds"] = EpochSeconds.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>Reads the state back from metadata.</summary>
    /// <param name="metadata">The metadata.</param>
    /// <param name="source">The file, for messages.</param>
    /// <returns>The state.</returns>
    public static TrainingState FromMetadata(IReadOnlyDictionary<string, string> metadata, string source)
    {
        string Get(string key) => metadata.TryGetValue(key, out var v)
            ? v
            : throw new InvalidDataException($"{source}: metadata lacks '{key}'; not an ilgpu-vae training state");
        try
        {
            return new TrainingState(int.Parse(Get("epoch"), CultureInfo.InvariantCulture),
                int.Parse(Get("step_in_epoch"), CultureInfo.InvariantCulture),
                long.Parse(Get("global_step"), CultureInfo.InvariantCulture),
                long.Parse(Get("adam_step"), CultureInfo.InvariantCulture),
                double.Parse(Get("epoch_seconds"), CultureInfo.InvariantCulture));
        }
        catch (FormatException)
        {
            throw new InvalidDataException($"{source}: training state counters are not numbers");
        }
    }
}
