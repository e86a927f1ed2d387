using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using IlgpuVae.Checkpoints;
using IlgpuVae.Models;

namespace IlgpuVae.Training;

/// <summary>
/// The files of a training run. training-state.safetensors is the checkpoint and its one commit point: the weights,
/// Adam's moments, the counters, the current epoch's losses, the options and the metrics of every finished epoch, in
/// one file that is flushed and renamed into place (format version 2). model.safetensors (weights, PyTorch names,
/// config in metadata), config.json and metrics.csv are exports of it, rewritten after it and on a resume, so a crash
/// between any two writes loses nothing; reconstructions.png and samples.png are pictures. Every write is atomic
/// (temporary file, flush, rename, directory flush). A training holds <see cref="LockFile"/> locked while it writes.
/// The state carries a SHA-256 of its metadata and tensors (<see cref="ChecksumKey"/>), checked before a resume
/// trusts it; states written before it existed resume unverified. Version 1 directories (no weights in the state;
/// model and state had to agree) still resume.
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
    /// <summary>The files a run writes; any of the first four means the directory holds a run.</summary>
    private static readonly string[] RunFiles = [ModelFile, StateFile, ConfigFile, MetricsFile, "reconstructions.png", "samples.png"];

    /// <summary>Whether <paramref name="directory"/> holds a run: a checkpoint, a state, a config.json or metrics.</summary>
    /// <param name="directory">The directory.</param>
    /// <returns>True when it does.</returns>
    public static bool HoldsRun(string directory) => RunFileNamesIn(directory).Any();

    /// <summary>
    /// Why starting over in <paramref name="directory"/> may not delete its run files, or null when it may (or there are
    /// none). Starting over deletes files by name, so each one present must be ilgpu-vae's own: a training state or a
    /// model with our "format" metadata, a config.json that is a run configuration of ours, a metrics.csv with our
    /// header. A state or model too damaged to read passes when another file shows the run is ours (a run whose checkpoint
    /// was damaged is started over on purpose); a link never shows anything. Another program's files of those names, or
    /// ours mixed with another's, are refused and left alone.
    /// </summary>
    /// <param name="directory">The directory.</param>
    /// <returns>A one-line reason, or null.</returns>
    public static string? OverwriteRefusal(string directory)
    {
        var ours = RunFileNamesIn(directory).ToDictionary(name => name, name => Ours(System.IO.Path.Combine(directory, name), name));
        if (ours.Count == 0 || ours.ContainsValue(true) && !ours.ContainsValue(false))
            return null;
        var doubtful = ours.Where(file => file.Value != true).Select(file => file.Key);
        return $"{System.IO.Path.GetFullPath(directory)} holds {string.Join(", ", doubtful)} that ilgpu-vae cannot confirm it wrote " +
            "(another program's files, or damaged); starting over deletes only a run of ours: remove them yourself or choose another directory";
    }

    // Whether a run file is ours: true, false (another kind of file, a link, or ours edited into something else), or null
    // for a state or model whose header cannot be read (damaged).
    private static bool? Ours(string path, string name)
    {
        const int MaxConfigBytes = 1 << 20, MetricsHeadBytes = 4096;
        if (new FileInfo(path).LinkTarget is not null || Data.RegularFile.Problem(path) is not null)
            return false;
        try
        {
            switch (name)
            {
                case StateFile:
                    var state = SafeTensors.ReadHeader(path).Metadata;
                    return state.TryGetValue("format", out var format) ? format == StateFormat : state.ContainsKey("global_step");
                case ModelFile:
                    return SafeTensors.ReadHeader(path).Metadata.TryGetValue("format", out var modelFormat) && modelFormat == VaeConfig.Format;
                case ConfigFile:
                    if (new FileInfo(path).Length > MaxConfigBytes)
                        return false;
                    ParseConfig(File.ReadAllText(path), path);
                    return true;
                default:
                    byte[] head = Data.AtomicFile.ReadUnlocked(path, MetricsHeadBytes) ?? [];
                    string text = Encoding.UTF8.GetString(head);
                    int end = text.IndexOf('\n');
                    return end >= 0 && text[..end].TrimEnd('\r') == MetricsHeader;
            }
        }
        catch (CheckpointFormatException)
        {
            return null;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Which of a run's file names (checkpoint, state, config.json, metrics) are taken in <paramref name="directory"/>.</summary>
    /// <param name="directory">The directory.</param>
    /// <returns>The names present.</returns>
    public static IEnumerable<string> RunFileNamesIn(string directory) =>
        RunFiles.Take(4).Where(name => System.IO.Path.Exists(System.IO.Path.Combine(directory, name)));

    /// <summary>Deletes the run's own files (a new run starts over on purpose); other files stay. Hold the lock.</summary>
    public void DeleteRun()
    {
        // The state first: from then on no resume can pick up a half-deleted run.
        File.Delete(PathOf(StateFile));
        foreach (string name in RunFiles.Where(name => name != StateFile))
            File.Delete(PathOf(name));
        Data.AtomicFile.SyncDirectory(Path);
    }

    /// <summary>The lock a training holds while it writes the directory (an OS lock, released when the process ends); it
    /// holds the writer's process id.</summary>
    public const string LockFile = ".lock";
    /// <summary>The state's format version: 2 holds the whole checkpoint.</summary>
    public const string StateFormatVersion = "2";
    /// <summary>The state's "format" metadata, which tells it from a model file or anything else.</summary>
    public const string StateFormat = "ilgpu-vae-training-state";
    /// <summary>The metadata key of the state's checksum: "sha256:" and the hex SHA-256 of <see cref="Checksum"/>.</summary>
    public const string ChecksumKey = "checksum";
    /// <summary>The prefix of the weights' tensors in the state.</summary>
    public const string WeightsPrefix = "model.";
    /// <summary>The metrics' header row.</summary>
    public const string MetricsHeader = "epoch,train_loss,test_loss,test_recon,test_kl,epoch_seconds,samples_per_second";

    /// <summary>Uses (and creates) <paramref name="path"/>.</summary>
    /// <param name="path">The directory.</param>
    /// <exception cref="IOException">The directory cannot be created or written.</exception>
    public RunDirectory(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        // Before anything is created: a path the OS cannot take fails now, not at the first save an epoch later.
        RunPaths.CheckLengths(Path);
        try
        {
            Directory.CreateDirectory(Path);
            // A new name opened exclusively (O_CREAT | O_EXCL) never follows a link planted under it.
            string probe = System.IO.Path.Combine(Path, $".write-test-{Guid.NewGuid():N}");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
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
    public void WriteConfig(TrainingOptions options) => WriteAtomic(ConfigFile, ConfigText(options));

    /// <summary>Reads config.json back.</summary>
    /// <returns>The options.</returns>
    public TrainingOptions ReadConfig()
    {
        string statePath = PathOf(StateFile);
        if (File.Exists(statePath))
        {
            // The checkpoint's own copy wins: config.json is an export and may be older or newer than the checkpoint.
            SafeTensorsFile? state = null;
            try
            {
                state = SafeTensors.Read(statePath);
            }
            catch (CheckpointFormatException)
            {
                // A damaged state is reported by the resume that needs it; config.json still describes the run.
            }
            // A state that reads but fails its checks cannot be resumed either: say so now, before the data is loaded,
            // rather than describe the run by options that may have been edited.
            if (state is not null)
                CheckState(state, statePath);
            if (state is not null && CheckpointConfig(state, statePath) is TrainingOptions fromState)
                return fromState;
        }
        return ReadConfigJson();
    }

    /// <summary>Reads the checkpoint a resume starts from: the state file and the options (its own copy in a
    /// version 2 state, config.json beside a version 1 state).</summary>
    /// <returns>The state file, its path and the options.</returns>
    /// <exception cref="FileNotFoundException">There is no checkpoint.</exception>
    /// <exception cref="InvalidDataException">The checkpoint or config.json is damaged.</exception>
    public (SafeTensorsFile State, string StatePath, TrainingOptions Options) ReadCheckpoint()
    {
        string statePath = PathOf(StateFile);
        if (!File.Exists(statePath))
        {
            // The state is written before the exports, so exports that show finished epochs mean it was lost since.
            string? finished = FinishedEpochsShownByExports();
            throw new FileNotFoundException(finished is null
                ? $"{statePath}: missing; nothing to resume (no epoch of this run finished)"
                : $"{statePath}: missing, though {finished}; the run cannot be resumed exactly without its state " +
                  $"(start a new run, or use {ModelFile} as it is)");
        }
        SafeTensorsFile state;
        try
        {
            state = SafeTensors.Read(statePath);
        }
        catch (CheckpointFormatException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        CheckState(state, statePath);
        return (state, statePath, CheckpointConfig(state, statePath) ?? ReadConfigJson());
    }

    // "model.safetensors and metrics.csv show 2 epochs finished" (whichever of them does), or null when neither shows any.
    private string? FinishedEpochsShownByExports()
    {
        var shown = new List<(string File, int Epochs)>();
        try
        {
            if (File.Exists(PathOf(ModelFile))
                && SafeTensors.ReadHeader(PathOf(ModelFile)).Metadata.TryGetValue("epochs_completed", out var completed)
                && int.TryParse(completed, NumberStyles.None, CultureInfo.InvariantCulture, out int epochs) && epochs > 0)
                shown.Add((ModelFile, epochs));
        }
        catch (Exception e) when (e is CheckpointFormatException or IOException or UnauthorizedAccessException)
        {
            // A damaged export shows nothing; the state's absence is the error either way.
        }
        try
        {
            if (ReadMetrics() is { Count: > 0 } rows)
                shown.Add((MetricsFile, rows[^1].Epoch));
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
        }
        if (shown.Count == 0)
            return null;
        int most = shown.Max(s => s.Epochs);
        return $"{string.Join(" and ", shown.Select(s => s.File))} show {most} epoch{(most == 1 ? "" : "s")} finished";
    }

    /// <summary>
    /// Refuses a state that is not one, is of a format version this code does not know, or fails its checksum (the file
    /// was edited or damaged after it was written). A state without a checksum (written before it existed) passes.
    /// </summary>
    /// <param name="state">The state file.</param>
    /// <param name="source">Its path, for messages.</param>
    /// <exception cref="InvalidDataException">The state cannot be trusted.</exception>
    public static void CheckState(SafeTensorsFile state, string source)
    {
        if (state.Metadata.TryGetValue("format", out var format) && format != StateFormat)
            throw new InvalidDataException($"{source}: metadata 'format' is '{format}', not {StateFormat}; not a training state");
        // Version 1 wrote no format_version.
        if (state.Metadata.TryGetValue("format_version", out var version) && version != StateFormatVersion)
            throw new InvalidDataException($"{source}: format version '{version}' is not one this version of ilgpu-vae reads (1 or {StateFormatVersion})");
        if (!state.Metadata.TryGetValue(ChecksumKey, out var recorded))
            return;
        string actual = Checksum(state.Metadata, state.Tensors);
        if (recorded != actual)
            throw new InvalidDataException($"{source}: checksum mismatch (the file was changed or damaged after it was written); " +
                "it cannot be trusted to resume from");
    }

    /// <summary>
    /// The state's checksum: "sha256:" and the SHA-256 of every metadata entry but the checksum itself (in ordinal key
    /// order) and every tensor's name, shape and float32 values (in name order), each length-prefixed. Computed on the
    /// parsed contents, so it covers the header and the data alike and does not depend on how the JSON was laid out.
    /// </summary>
    /// <param name="metadata">The metadata (<see cref="ChecksumKey"/> is skipped).</param>
    /// <param name="tensors">The tensors.</param>
    /// <returns>The checksum's text.</returns>
    public static string Checksum(IReadOnlyDictionary<string, string> metadata, IEnumerable<NamedTensor> tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] number = new byte[8];
        void Long(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(number, value);
            hash.AppendData(number);
        }
        void Text(string value)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(value);
            Long(bytes.Length);
            hash.AppendData(bytes);
        }
        foreach (var (key, value) in metadata.Where(p => p.Key != ChecksumKey).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Text(key);
            Text(value);
        }
        foreach (var tensor in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            Text(tensor.Name);
            Long(tensor.Shape.Length);
            foreach (int dim in tensor.Shape)
                Long(dim);
            Long(tensor.Data.Length);
            // The values as the file stores them, little-endian float32.
            if (BitConverter.IsLittleEndian)
                hash.AppendData(MemoryMarshal.AsBytes(tensor.Data.AsSpan()));
            else
                foreach (float value in tensor.Data)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(number, value);
                    hash.AppendData(number, 0, 4);
                }
        }
        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private TrainingOptions ReadConfigJson()
    {
        string path = PathOf(ConfigFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: missing; not a training run directory");
        return ParseConfig(File.ReadAllText(path), path);
    }

    /// <summary>The options stored in a version 2 state, or null for a version 1 state.</summary>
    /// <param name="state">The state file.</param>
    /// <param name="source">Its path, for messages.</param>
    /// <returns>The options, or null.</returns>
    public static TrainingOptions? CheckpointConfig(SafeTensorsFile state, string source)
    {
        if (!IsWholeCheckpoint(state))
            return null;
        if (!state.Metadata.TryGetValue("config", out var json))
            throw new InvalidDataException($"{source}: metadata lacks 'config'; the checkpoint is damaged");
        return ParseConfig(json, source);
    }

    /// <summary>Whether a state file is a whole checkpoint (format version 2), not a version 1 state beside a model file.</summary>
    /// <param name="state">The state file.</param>
    /// <returns>True for version 2.</returns>
    public static bool IsWholeCheckpoint(SafeTensorsFile state) =>
        state.Metadata.TryGetValue("format_version", out var version) && version == StateFormatVersion;

    /// <summary>Parses config.json's text.</summary>
    /// <param name="text">The JSON.</param>
    /// <param name="path">Where it came from, for messages.</param>
    /// <returns>The options.</returns>
    public static TrainingOptions ParseConfig(string text, string path)
    {
        try
        {
            var json = JsonSerializer.Deserialize<ConfigJson>(text, JsonOptions)
                ?? throw new InvalidDataException("empty");
            var options = new TrainingOptions
            {
                Epochs = json.Epochs,
                BatchSize = json.Batch,
                LearningRate = json.LearningRate,
                Schedule = Schedule(json.LrSchedule),
                // Runs written before the image size was recorded lack it: their images were square.
                Model = Architecture(json, new VaeConfig(json.InputSize, json.Hidden ?? throw new InvalidDataException("hidden sizes missing"), json.Latent, json.Classes)
                {
                    ConditionEveryLayer = ConditionEveryLayer(json.DecoderConditioning),
                    ImageHeight = json.ImageHeight ?? 0,
                    ImageWidth = json.ImageWidth ?? 0,
                    ImageChannels = json.ImageChannels ?? 1,
                    Activation = json.Activation is null ? HiddenActivation.Relu
                        : VaeConfig.TryParseActivation(json.Activation, out var activation) ? activation
                        : throw new InvalidDataException($"activation '{json.Activation}' is not relu or tanh"),
                    Likelihood = json.Likelihood is null ? DecoderLikelihood.Bernoulli
                        : VaeConfig.TryParseLikelihood(json.Likelihood, out var likelihood) ? likelihood
                        : throw new InvalidDataException($"likelihood '{json.Likelihood}' is not bernoulli, continuous-bernoulli or gaussian"),
                    Sigma = json.Sigma,
                    InputMean = json.InputMean,
                    InputStd = json.InputStd,
                    // Runs of one stochastic layer lack the second's sizes.
                    Hidden2 = json.Hidden2 ?? [],
                    Latent2 = json.Latent2 ?? 0,
                }),
                Objective = Objective(json.Objective, json.Gradient),
                Samples = json.Samples ?? 1,
                DynamicBinarization = json.Binarization switch
                {
                    null => false,
                    "dynamic" => true,
                    var other => throw new InvalidDataException($"binarization '{other}' is not dynamic"),
                },
                Beta = json.Beta,
                KlWarmupEpochs = json.KlWarmupEpochs,
                BetaStart = json.BetaStart,
                Seed = json.Seed,
                Limit = json.Limit,
                // Runs written before the option existed lack it: they used Adam's usual epsilon.
                Epsilon = json.AdamEps ?? TrainingSettings.DefaultEpsilon,
                // Runs written before the option existed lack it: their output bias was drawn like every tensor.
                OutputBiasFromData = json.OutputBias switch
                {
                    null or OutputBiasUniform => false,
                    OutputBiasDataMean => true,
                    var other => throw new InvalidDataException($"output_bias '{other}' is not {OutputBiasUniform} or {OutputBiasDataMean}"),
                },
            };
            // "model" is written as the kind the other fields make; another value was not written by ilgpu-vae.
            if (json.Model is not null && !VaeConfig.Kinds.Contains(json.Model))
                throw new InvalidDataException($"model '{json.Model}' is not {VaeConfig.KindList}");
            if (json.Model is not null && json.Model != options.Model.Kind)
                throw new InvalidDataException($"model '{json.Model}' but the other fields describe a {options.Model.Kind}");
            // Sizes that make no model (a missing hidden list, a zero input) are the file's fault, named here.
            options.Model.Validate();
            return options;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or NullReferenceException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: not a valid run configuration ({e.Message.Split('\n')[0]})");
        }
    }

    /// <summary>config.json's text for <paramref name="options"/>.</summary>
    /// <param name="options">The options.</param>
    /// <returns>The JSON.</returns>
    public static string ConfigText(TrainingOptions options) => JsonSerializer.Serialize(ToJson(options), JsonOptions);

    // Runs written before the option existed lack it: they kept the learning rate constant.
    private static LearningRateSchedule Schedule(string? name) =>
        name is null ? LearningRateSchedule.Constant
        : Enum.TryParse<LearningRateSchedule>(name, ignoreCase: true, out var schedule) && Enum.IsDefined(schedule) && !char.IsDigit(name[0]) ? schedule
        : throw new InvalidDataException($"lr_schedule '{name}' is not constant, cosine or burda");

    /// <summary>
    /// The config.json, metadata and option ("--objective") spelling of an objective's bound: "elbo" or "iwae" (for
    /// both gradients of the importance-weighted bound; <see cref="GradientName"/> tells them apart).
    /// </summary>
    /// <param name="objective">The objective.</param>
    /// <returns>The name.</returns>
    public static string ObjectiveName(TrainingObjective objective) => objective switch
    {
        TrainingObjective.Elbo => "elbo",
        TrainingObjective.ImportanceWeighted or TrainingObjective.ImportanceWeightedDreg => "iwae",
        _ => throw new ArgumentOutOfRangeException(nameof(objective)),
    };

    /// <summary>
    /// The config.json, metadata and option ("--gradient") spelling of an objective's encoder gradient: "dreg" for
    /// <see cref="TrainingObjective.ImportanceWeightedDreg"/>, else "standard".
    /// </summary>
    /// <param name="objective">The objective.</param>
    /// <returns>The name.</returns>
    public static string GradientName(TrainingObjective objective) => objective switch
    {
        TrainingObjective.Elbo or TrainingObjective.ImportanceWeighted => "standard",
        TrainingObjective.ImportanceWeightedDreg => "dreg",
        _ => throw new ArgumentOutOfRangeException(nameof(objective)),
    };

    /// <summary>Reads the spellings of <see cref="ObjectiveName"/> and <see cref="GradientName"/> back.</summary>
    /// <param name="name">The objective's name.</param>
    /// <param name="gradient">The gradient's name; null for "standard".</param>
    /// <param name="objective">The objective.</param>
    /// <returns>False for any other text, and for the DReG gradient with the ELBO.</returns>
    public static bool TryParseObjective(string name, string? gradient, out TrainingObjective objective) =>
        Spelling.TryParse((name, gradient ?? "standard"), o => (ObjectiveName(o), GradientName(o)), out objective);

    // Runs written before the options existed lack them: they trained on the one-sample ELBO, and an importance-weighted
    // run on the bound's own gradient.
    private static TrainingObjective Objective(string? name, string? gradient)
    {
        name ??= "elbo";
        if (TryParseObjective(name, gradient, out var objective))
            return objective;
        if (!Spelling.TryParse(name, ObjectiveName, out TrainingObjective _))
            throw new InvalidDataException($"objective '{name}' is not elbo or iwae");
        if (!Spelling.TryParse(gradient!, GradientName, out TrainingObjective _))
            throw new InvalidDataException($"gradient '{gradient}' is not standard or dreg");
        throw new InvalidDataException("the DReG gradient is for the importance-weighted objective (iwae), not the ELBO");
    }

    // Runs written before convolutional models existed lack "architecture": they are dense.
    private static VaeConfig Architecture(ConfigJson json, VaeConfig dense) => json.Architecture switch
    {
        null => dense,
        "conv" => dense with
        {
            Architecture = VaeArchitecture.Convolutional,
            Channels = json.Channels ?? throw new InvalidDataException("a conv model lacks channels"),
        },
        _ => throw new InvalidDataException($"architecture '{json.Architecture}' is not conv"),
    };

    // Runs written before the option existed lack it: their decoders read the label in the first layer only.
    private static bool ConditionEveryLayer(string? name) =>
        name is null ? false
        : VaeConfig.TryParseConditioning(name, out bool everyLayer) ? everyLayer
        : throw new InvalidDataException($"decoder_conditioning '{name}' is not first-layer or every-layer");

    /// <summary>Rewrites metrics.csv with every epoch so far.</summary>
    /// <param name="epochs">The metrics.</param>
    public void WriteMetrics(IEnumerable<EpochMetrics> epochs) => WriteAtomic(MetricsFile, MetricsText(epochs));

    /// <summary>metrics.csv's text: the header and one row per epoch.</summary>
    /// <param name="epochs">The metrics.</param>
    /// <returns>The CSV.</returns>
    public static string MetricsText(IEnumerable<EpochMetrics> epochs)
    {
        var text = new StringBuilder(MetricsHeader).Append('\n');
        foreach (var m in epochs)
            text.Append(string.Join(",", m.Epoch.ToString(CultureInfo.InvariantCulture),
                F(m.TrainLoss), F(m.TestLoss), F(m.TestReconstruction ?? double.NaN), F(m.TestKl ?? double.NaN), F(m.EpochSeconds),
                m.SamplesPerSecond.ToString("F0", CultureInfo.InvariantCulture))).Append('\n');
        return text.ToString();
    }

    /// <summary>Reads metrics.csv (empty when absent).</summary>
    /// <returns>The rows.</returns>
    public List<EpochMetrics> ReadMetrics()
    {
        string path = PathOf(MetricsFile);
        return File.Exists(path) ? ParseMetrics(File.ReadAllText(path), path) : [];
    }

    /// <summary>Parses metrics.csv's text: rows of epochs in increasing order from 1, finite losses, timings not negative
    /// (a training records no other: a loss that is not finite stops it before its epoch is recorded).</summary>
    /// <param name="text">The CSV.</param>
    /// <param name="path">Where it came from, for messages.</param>
    /// <returns>The rows.</returns>
    /// <exception cref="InvalidDataException">A row is malformed or out of order, or a value out of range.</exception>
    public static List<EpochMetrics> ParseMetrics(string text, string path)
    {
        var rows = new List<EpochMetrics>();
        foreach (var line in text.Split('\n').Skip(1).Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0))
        {
            var f = line.Split(',');
            if (f.Length != 7)
                throw new InvalidDataException($"{path}: malformed row '{line}'");
            // Losses are finite; the timings are also not negative.
            double D(int i) => double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && double.IsFinite(value) && (i < 5 || value >= 0)
                ? value : throw new InvalidDataException($"{path}: malformed row '{line}' ({MetricsHeader.Split(',')[i]} '{f[i]}')");
            if (!int.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out int epoch) || epoch < 1)
                throw new InvalidDataException($"{path}: malformed row '{line}'");
            if (rows.Count > 0 && epoch <= rows[^1].Epoch)
                throw new InvalidDataException($"{path}: row of epoch {epoch} follows that of epoch {rows[^1].Epoch}; epochs go in increasing order");
            rows.Add(new EpochMetrics(epoch, D(1), D(2), D(5), D(6)) { TestReconstruction = D(3), TestKl = D(4) });
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
        ImageChannels = o.Model.ImageChannels == 1 ? null : o.Model.ImageChannels,
        Hidden = o.Model.Hidden.ToArray(),
        Latent = o.Model.Latent,
        Classes = o.Model.Classes,
        DecoderConditioning = o.Model.IsConditional ? VaeConfig.ConditioningName(o.Model.ConditionEveryLayer) : null,
        Architecture = o.Model.IsConvolutional ? "conv" : null,
        Channels = o.Model.IsConvolutional ? o.Model.Channels.ToArray() : null,
        Activation = o.Model.Activation == HiddenActivation.Relu ? null : VaeConfig.ActivationName(o.Model.Activation),
        Likelihood = o.Model.Likelihood == DecoderLikelihood.Bernoulli ? null : VaeConfig.LikelihoodName(o.Model.Likelihood),
        Sigma = o.Model.Sigma,
        InputMean = o.Model.InputMean?.ToArray(),
        InputStd = o.Model.InputStd?.ToArray(),
        Hidden2 = o.Model.IsTwoLayer ? o.Model.Hidden2.ToArray() : null,
        Latent2 = o.Model.IsTwoLayer ? o.Model.Latent2 : null,
        Objective = o.Objective == TrainingObjective.Elbo && o.Samples == 1 ? null : ObjectiveName(o.Objective),
        Samples = o.Objective == TrainingObjective.Elbo && o.Samples == 1 ? null : o.Samples,
        Gradient = o.Objective == TrainingObjective.ImportanceWeightedDreg ? GradientName(o.Objective) : null,
        Binarization = o.DynamicBinarization ? "dynamic" : null,
        Epochs = o.Epochs,
        Batch = o.BatchSize,
        LearningRate = o.LearningRate,
        LrSchedule = o.Schedule == LearningRateSchedule.Constant ? null : o.Schedule.ToString().ToLowerInvariant(),
        Beta = o.Beta,
        KlWarmupEpochs = o.KlWarmupEpochs,
        BetaStart = o.BetaStart,
        Seed = o.Seed,
        Limit = o.Limit,
        AdamEps = o.Epsilon == TrainingSettings.DefaultEpsilon ? null : o.Epsilon,
        OutputBias = o.OutputBiasFromData ? OutputBiasDataMean : null,
    };

    /// <summary>config.json's and <c>train --output-bias</c>'s names of the two initial values of the output bias.</summary>
    internal const string OutputBiasUniform = "uniform", OutputBiasDataMean = "data-mean";

    private sealed class ConfigJson
    {
        // Null when absent (hand-written files): the other fields then say what the model is.
        public string? Model { get; set; }
        public int InputSize { get; set; }
        public int? ImageHeight { get; set; }
        public int? ImageWidth { get; set; }
        // Written only for colour images, so the config.json of a grey-scale run reads as before.
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public int? ImageChannels { get; set; }
        public int[] Hidden { get; set; } = [];
        public int Latent { get; set; }
        public int Classes { get; set; }
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? DecoderConditioning { get; set; }
        // The convolutional model's fields, absent for a dense one (so its config.json reads as before).
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Architecture { get; set; }
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public int[]? Channels { get; set; }
        // Written only when not the defaults (relu, the one-sample ELBO, grey levels), so older runs read as before.
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Activation { get; set; }
        // A model with two stochastic layers: q(z2|z1)'s hidden widths and Z2; absent for one layer.
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public int[]? Hidden2 { get; set; }
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public int? Latent2 { get; set; }
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Likelihood { get; set; }
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public float? Sigma { get; set; }
        // A model of vectors: the training rows' column means and standard deviations.
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public float[]? InputMean { get; set; }
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public float[]? InputStd { get; set; }
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Objective { get; set; }
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public int? Samples { get; set; }
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Gradient { get; set; }
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Binarization { get; set; }
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
        // Written only when not Adam's usual 1e-8, so a default run's config.json reads as before.
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public float? AdamEps { get; set; }
        // Written only for the data-mean initialisation, so other runs' config.json read as before.
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? OutputBias { get; set; }
    }

    /// <summary>
    /// Writes the checkpoint: one file holding the counters, the options, the metrics so far, the weights (prefixed
    /// <see cref="WeightsPrefix"/>), Adam's moments and the epoch's step losses. Its rename is the commit point: a
    /// crash before it leaves the previous checkpoint, after it the new one; the exports follow it.
    /// </summary>
    /// <param name="state">The counters.</param>
    /// <param name="options">The options.</param>
    /// <param name="history">The metrics of every finished epoch.</param>
    /// <param name="tensors">The weights, Adam's moments and the epoch's step losses.</param>
    /// <param name="extra">More metadata, e.g. the data set's name; null for none.</param>
    public void WriteCheckpoint(TrainingState state, TrainingOptions options, IEnumerable<EpochMetrics> history,
        IEnumerable<NamedTensor> tensors, IReadOnlyDictionary<string, string>? extra = null)
    {
        var metadata = state.ToMetadata();
        if (extra is not null)
            foreach (var (key, value) in extra)
                metadata[key] = value;
        metadata["format_version"] = StateFormatVersion;
        metadata["config"] = ConfigText(options);
        metadata["metrics"] = MetricsText(history);
        var list = tensors as IReadOnlyCollection<NamedTensor> ?? tensors.ToList();
        metadata[ChecksumKey] = Checksum(metadata, list);
        SafeTensors.Write(PathOf(StateFile), metadata, list);
    }

    /// <summary>
    /// Takes the directory's lock for a writer and removes the temporary files that a writer killed mid-save left.
    /// The lock is the OS's (released when the process ends, however it ends); the file holds the holder's process id.
    /// </summary>
    /// <returns>The lock; dispose it to release.</returns>
    /// <exception cref="IOException">Another process holds the lock (the message names its id), or the lock file
    /// cannot be created.</exception>
    public IDisposable Lock()
    {
        string path = PathOf(LockFile);
        // Opening follows links: a lock planted as a link (a run directory unpacked from someone else's archive)
        // would have us write our process id into whatever it names. Only a regular file, or nothing, is taken.
        if (new FileInfo(path).LinkTarget is not null || Directory.Exists(path))
            throw new IOException($"{path}: not a regular file (a link or a directory); remove it to train in {Path}");
        // A FIFO or a device would take our lock and process id somewhere else (or fail without naming the path).
        if (Data.RegularFile.Problem(path) is string problem)
            throw new IOException($"{path}: {problem}; remove it to train in {Path}");
        FileStream stream;
        try
        {
            // FileShare.None is an exclusive flock on Unix and a sharing lock on Windows: either way the OS drops it
            // with the process.
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException))
        {
            string holder = Data.AtomicFile.ReadUnlocked(path, 32) is { } bytes
                && int.TryParse(Encoding.ASCII.GetString(bytes).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                ? $"process {pid}" : "another process";
            throw new IOException($"{Path}: another training is writing this run directory ({holder} holds {LockFile}); " +
                "wait for it to finish or stop it first", e);
        }
        try
        {
            stream.SetLength(0);
            stream.Write(Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n"));
            stream.Flush(flushToDisk: true);
            Data.AtomicFile.DeleteLeftovers(Path);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return stream;
    }
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
        ["format"] = RunDirectory.StateFormat,
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
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new InvalidDataException($"{source}: training state counters are not numbers");
        }
    }

    /// <summary>
    /// Refuses counters that this run could not have written: the epoch outside 1 to <paramref name="epochs"/> + 1, the
    /// step outside the epoch (and none after the last epoch), a global step or Adam step other than the steps before
    /// this point, the epoch's seconds negative or not finite. An edited or damaged state would otherwise train on from
    /// a point the run never reached, rewrite its history or report nonsense speeds.
    /// </summary>
    /// <param name="epochs">The run's epoch count as the state's run wrote it.</param>
    /// <param name="stepsPerEpoch">Steps per epoch of this run's data and batch size.</param>
    /// <param name="source">The file, for messages.</param>
    /// <exception cref="InvalidDataException">A counter is out of range or inconsistent with the others.</exception>
    public void Validate(int epochs, int stepsPerEpoch, string source)
    {
        string? problem = null;
        long expected = (long)(Epoch - 1) * stepsPerEpoch + StepInEpoch;
        if (Epoch < 1 || Epoch > epochs + 1)
            problem = $"epoch {Epoch} is not in 1 to {epochs + 1} (the run has {epochs} epochs)";
        else if (StepInEpoch < 0 || StepInEpoch >= stepsPerEpoch)
            problem = $"step_in_epoch {StepInEpoch} is not in 0 to {stepsPerEpoch - 1} (an epoch has {stepsPerEpoch} steps)";
        else if (Epoch == epochs + 1 && StepInEpoch != 0)
            problem = $"step_in_epoch {StepInEpoch} is after the run's last epoch";
        else if (GlobalStep != expected)
            problem = $"global_step {GlobalStep} is not {expected}, the steps before epoch {Epoch}, step {StepInEpoch}";
        else if (AdamStep != GlobalStep)
            problem = $"adam_step {AdamStep} is not global_step {GlobalStep}";
        else if (!double.IsFinite(EpochSeconds) || EpochSeconds < 0)
            problem = $"epoch_seconds {EpochSeconds.ToString(CultureInfo.InvariantCulture)} is not a duration";
        if (problem is not null)
            throw new InvalidDataException($"{source}: {problem}; the training state is damaged");
    }
}
