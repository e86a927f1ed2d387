using System.Globalization;
using System.Text.Json;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;

namespace IlgpuVae.Cli;

/// <summary>Options and helpers that several commands share. Parsing and printing only: no math.</summary>
public static class Common
{
    public static readonly Dictionary<string, DeviceChoice> DeviceChoices = new()
    {
        ["auto"] = DeviceChoice.Auto, ["cuda"] = DeviceChoice.Cuda, ["opencl"] = DeviceChoice.OpenCL, ["cpu"] = DeviceChoice.Cpu,
    };

    /// <summary>--cpu-ops: whether the CPU accelerator runs the ILGPU kernels (ComputeDevice.Open's cpuKernels).</summary>
    public static readonly Dictionary<string, bool> CpuOpsChoices = new()
    {
        ["vectorized"] = false, ["kernels"] = true,
    };

    public static OptionSpec DeviceOption => new("--device", "accelerator: auto (a CUDA or OpenCL GPU, else the CPU), cuda, opencl or cpu", "KIND", "auto") { Aliases = ["-d"] };
    public static OptionSpec CpuOpsOption => new("--cpu-ops", "on the CPU accelerator: vectorized host code or the ILGPU kernels", "MODE", "vectorized");
    /// <summary>Where the images come from: a known data set by name, a directory of IDX files, or the files themselves.</summary>
    public static OptionSpec[] DataOptions =>
    [
        new("--data", "a directory of IDX files named like MNIST's (raw or .gz), of any image size, labels optional; or a folder of " +
            "pictures (PNG, JPEG, BMP, GIF, TGA; class sub-folders give labels; train/ and test/ sub-folders give the split); " +
            "or a NumPy .npy file of images (N x H x W, N x H x W x C or N x C x H x W; uint8 or float32 in [0, 1]); " +
            "or real-valued vectors: a CSV file (a header row, numeric columns) or an N x D float32 .npy array (a VAE over D " +
            "values, columns standardised by the training rows' mean and standard deviation); " +
            $"with --dataset, where that set is kept (default: ${DataFiles.DataEnvironmentVariable} for mnist, else a per-user cache)", "DIR|FILE"),
        new("--dataset", $"a data set by name, fetched and SHA-256 checked: {string.Join(", ", DataFiles.KnownSets)} (default: mnist, when no data is named)", "NAME"),
        new("--train-images", "IDX file of training images (N x H x W bytes), for files not named like MNIST's", "FILE"),
        new("--train-labels", "IDX file of the training images' labels", "FILE"),
        new("--test-images", "IDX file of test images", "FILE"),
        new("--test-labels", "IDX file of the test images' labels", "FILE"),
        new("--test-fraction", "for data without test images: hold out this fraction of the training images for testing " +
            $"(IDX: the last ones; pictures and .npy: chosen at random with the fixed seed {DataLoadOptions.HoldOutSeed})", "F"),
        new("--label-column", "with --data FILE.csv: the column of integer labels (0-255), not a feature", "NAME"),
        new("--labels", "with --data FILE.npy: a .npy file of one integer label (0-255) per image", "FILE"),
        new("--image-size", "folders of pictures: resize every picture to HxW (bilinear, keeping the aspect ratio: scaled to " +
            "cover HxW, then cropped about the centre); without it all pictures must have one size", "HxW"),
        new("--image-channels", "folders of pictures: 1 to read them as grey, 3 as RGB (default: RGB if any picture has colour, else grey)", "C"),
    ];
    public static OptionSpec JsonOption => new("--json", "print one JSON object on stdout instead of text") { Aliases = ["-j"] };
    public static OptionSpec ModelOption => new("--model", "a model.safetensors written by 'train'", "FILE") { Aliases = ["-m"], Required = true };
    public static OptionSpec OutOption(string what) => new("--out", what, "FILE") { Aliases = ["-o"] };
    public static OptionSpec EpochsOption(string what, string? defaultValue = null) => new("--epochs", what, "N", defaultValue) { Aliases = ["-e"] };
    public static OptionSpec SeedOption(string what, string? defaultValue) => new("--seed", what, "N", defaultValue) { Aliases = ["-s"] };
    public static OptionSpec CountOption(string what, string? defaultValue) => new("--count", what, "N", defaultValue) { Aliases = ["-n"] };
    public static OptionSpec DigitOption => new("--digit", "conditional models: the digit the decoder is conditioned on", "D");
    public static OptionSpec BatchOption => new("--batch", "images per step", "N", "128") { Aliases = ["-b"] };

    public static ComputeDevice OpenDevice(ParsedOptions options) =>
        ComputeDevice.Open(options.Choice("--device", DeviceChoices), cpuKernels: options.Choice("--cpu-ops", CpuOpsChoices));

    /// <summary>Finds, fetches or reads the data the user named and loads it: a known data set (verified by SHA-256),
    /// or any IDX image set in a directory or in named files (checked for structure only).</summary>
    /// <remarks>What the library throws about the data comes out as a <see cref="DataLoadException"/>.</remarks>
    public static ImageData LoadData(ParsedOptions options, TextWriter log, int? trainLimit = null, CancellationToken token = default) =>
        DataLoadException.Run(() => LoadNamedData(options, log, trainLimit, token));

    private static ImageData LoadNamedData(ParsedOptions options, TextWriter log, int? trainLimit, CancellationToken token)
    {
        string? dataset = options.String("--dataset"), given = options.String("--data");
        string[] fileOptions = ["--train-images", "--train-labels", "--test-images", "--test-labels"];
        string[] filesGiven = fileOptions.Where(options.Given).ToArray();
        double? testFraction = options.Given("--test-fraction") ? options.Float("--test-fraction", 0, exclusiveMin: true) : null;
        // A usage error before anything is read (it was found only after the data loaded, as a runtime error).
        if (testFraction >= 1)
            throw new UsageException($"option '--test-fraction' must be less than 1, got {options.String("--test-fraction")}");
        if (dataset is not null && !DataFiles.IsKnownSet(dataset))
            throw new UsageException($"--dataset: unknown data set '{dataset}'; known: {string.Join(", ", DataFiles.KnownSets)}");
        if (dataset is not null && filesGiven.Length > 0)
            throw new UsageException($"--dataset names a whole data set; {filesGiven[0]} is for files of your own");
        if (dataset is null && given is null && filesGiven.Length == 0)
            dataset = DataFiles.Mnist;
        var load = new DataLoadOptions { TestFraction = testFraction, TrainLimit = trainLimit, Name = dataset };
        // Given first: fetch-data shares this loader without these options.
        string? labelsFile = options.Given("--labels") ? options.String("--labels") : null;
        (int Height, int Width)? imageSize = options.Given("--image-size") ? ImageSize(options.RequiredString("--image-size")) : null;
        int? imageChannels = options.Given("--image-channels")
            ? options.Choice("--image-channels", new Dictionary<string, int> { ["1"] = 1, ["3"] = 3 }) : null;
        string? pictureOption = imageSize is not null ? "--image-size" : imageChannels is not null ? "--image-channels" : null;
        string? labelColumn = options.Given("--label-column") ? options.String("--label-column") : null;
        // A file the user named and mistyped: a usage error naming the option, not the hint for finding a data set.
        foreach (string option in filesGiven.Append("--labels").Where(options.Given))
            if (options.String(option) is { } named && !Path.Exists(named))
                throw new UsageException($"{option}: no such file '{named}'");
        if (given is not null && given.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            if (dataset is not null || filesGiven.Length > 0 || labelsFile is not null || pictureOption is not null)
                throw new UsageException($"--data {given} is a CSV file of vectors; {(dataset is not null ? "--dataset" : filesGiven.FirstOrDefault() ?? (labelsFile is not null ? "--labels" : pictureOption))} is for other data");
            if (!File.Exists(given))
                throw new UsageException($"--data: no such file '{given}'");
            return ImageData.LoadVectors(given, labelColumn, load);
        }
        if (labelColumn is not null)
            throw new UsageException("--label-column names a column of --data FILE.csv");
        if (given is not null && given.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            if (dataset is not null || filesGiven.Length > 0)
                throw new UsageException($"--data {given} is a .npy file of its own; {(dataset is not null ? "--dataset" : filesGiven[0])} is for other data");
            if (pictureOption is not null)
                throw new UsageException($"{pictureOption} is for folders of pictures; a .npy array has its own shape");
            if (!File.Exists(given))
                throw new UsageException($"--data: no such file '{given}'");
            return ImageData.LoadNpy(given, labelsFile, load);
        }
        if (labelsFile is not null)
            throw new UsageException("--labels gives the labels of --data FILE.npy; IDX files take --train-labels and --test-labels");
        // Downloads go into the default cache or a directory that exists: a mistyped --data must not create one.
        if (given is not null && File.Exists(given))
            throw new UsageException($"--data: '{given}' is a file; --data takes a directory (IDX files or pictures), a .csv file of vectors or a .npy array (an IDX file alone: --train-images)");
        if (given is not null && !Directory.Exists(given))
            throw new UsageException($"--data: no such directory '{given}'" + (dataset is null ? "" : $" (create it first to fetch {dataset} into it)"));
        // A folder without MNIST-named IDX files is a folder of pictures.
        if (dataset is null && given is not null && filesGiven.Length == 0 && ImageData.HoldsPictures(given))
            return ImageData.LoadFolder(given, load with { ImageSize = imageSize, ImageChannels = imageChannels });
        if (pictureOption is not null)
            throw new UsageException($"{pictureOption} is for folders of pictures; IDX files have their own size and one channel");
        if (dataset is null)
        {
            // Files of the user's own: any IDX image set, checked for structure, never against a known set's hashes.
            DataFiles? files = given is not null ? DataFiles.InDirectory(given) : null;
            string? trainImages = options.String("--train-images");
            if (files is null && trainImages is null)
                throw new UsageException($"{filesGiven[0]} needs --train-images (or --data DIR for the rest)");
            files = files?.With(trainImages, options.String("--train-labels"), options.String("--test-images"), options.String("--test-labels"))
                ?? new DataFiles(trainImages!, options.String("--train-labels"), options.String("--test-images"), options.String("--test-labels"));
            // A fraction replaces the test split: test files found in the directory are then not used.
            if (testFraction is not null && !options.Given("--test-images"))
                files = files with { TestImages = null, TestLabels = null };
            return ImageData.Load(files, load);
        }

        if (testFraction is not null)
            throw new UsageException($"--test-fraction is for data without a test split; {dataset} has one");
        return ImageData.LoadKnownAsync(dataset, given, load, new LineLog(log), token).GetAwaiter().GetResult();
    }

    /// <summary>--image-size's HxW, e.g. 32x32.</summary>
    private static (int Height, int Width) ImageSize(string text)
    {
        var parts = text.Split('x', 'X');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int height)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int width)
            || height <= 0 || width <= 0 || (long)height * width > 1 << 24)
            throw new UsageException($"option '--image-size' expects HxW, two positive sizes of at most {1 << 24} pixels together, e.g. 32x32; got '{text}'");
        return (height, width);
    }

    /// <summary>The directory a known data set is kept in, as <see cref="LoadData"/> resolves it.</summary>
    public static string DataDirectory(ParsedOptions options, string dataset) =>
        DataFiles.KnownSetDirectory(dataset, options.String("--data"));

    /// <summary>Stops a command that needs labels (the CVAE, the classifier) on unlabelled data, saying what to give.</summary>
    public static void RequireLabels(ImageData data, string what)
    {
        if (!data.HasLabels)
            throw new UsageException($"{what} learns from labels, and the {data.Name} images have none; give --train-labels and --test-labels");
    }

    /// <summary>The most images one PNG grid holds: past it a picture is unreadable and its canvas takes gigabytes.</summary>
    public const int MaxPictureImages = 10_000;

    /// <summary>The most generated digits per class an agreement check draws (its default is 1,000).</summary>
    public const int MaxAgreementSamples = 100_000;

    /// <summary>Refuses, as a usage error before any work, a picture of more than <see cref="MaxPictureImages"/> images.</summary>
    /// <param name="images">The images the picture would show.</param>
    /// <param name="option">The option that chose the count, as the user typed it.</param>
    /// <param name="instead">What writes more, or null.</param>
    public static void CheckPicture(long images, string option, string? instead = null)
    {
        if (images > MaxPictureImages)
            throw new UsageException($"{option} asks for a picture of {images:N0} images; one picture shows at most {MaxPictureImages:N0}" +
                (instead is null ? "" : $" ({instead})"));
    }

    public static string ModelPath(ParsedOptions options) => RequireInputFile(options.RequiredString("--model"), "model");

    /// <summary>Checks a model or classifier file before anything else is done (data loaded, a device opened): it
    /// exists, and it is a regular file (a FIFO would block the read, a directory is no model).</summary>
    public static string RequireInputFile(string path, string what)
    {
        if (!Path.Exists(path))
            throw new FileNotFoundException($"{path}: no such {what} file");
        RegularFile.Require(path);
        return path;
    }

    /// <summary>Writes UTF-8 text whole or not at all (the library's atomic write: a temporary file renamed over the target).</summary>
    public static void WriteTextAtomically(string path, string content) =>
        RegularFile.WriteAtomically(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(content)));

    public static string BesideModel(string modelPath, string name) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? ".", name);

    public static void CreateParentDirectory(string path)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
    }

    /// <summary>The text line, or with --json one object naming the model, the files written and the details.</summary>
    public static void Report(ParsedOptions options, TextWriter stdout, string modelPath, string[] written, string text, object details)
    {
        if (!options.Flag("--json"))
        {
            stdout.WriteLine(text);
            return;
        }
        stdout.WriteLine(JsonSerializer.Serialize(new { model = modelPath, wrote = written, details }));
    }

    /// <summary>--digit (or sample's --class) for a conditional model; a usage error for a plain one.</summary>
    public static int? DigitFor(ParsedOptions options, VaeConfig config, bool required)
    {
        int? digit = options.OptionalInt(options.Given("--class") ? "--class" : "--digit", 0);
        // A conditional model knows its classes; for a plain one the check below says --digit does not apply.
        int classes = config.IsConditional ? config.Classes : 10;
        if (digit is int d && d >= classes)
            throw new UsageException($"--digit: unknown class {d}; the classes are 0-{classes - 1}");
        if (!config.IsConditional)
        {
            if (digit is not null)
                throw new UsageException($"--digit conditions a conditional model's decoder; this is a plain {config.Kind}");
            return null;
        }
        if (digit is null && required)
            throw new UsageException("a conditional model decodes for one digit: pass --digit D");
        return digit;
    }

    public static int[] CheckIndices(int[] indices, int count, string option)
    {
        foreach (int i in indices)
            if (i >= count)
                throw new UsageException($"{option}: test image {i} does not exist; the test set holds 0-{count - 1}");
        return indices;
    }

    public static int[] RandomIndices(int count, int take, int seed)
    {
        var all = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(all);
        return all[..take];
    }

    public static List<(int A, int B)> Pairs(ParsedOptions options, string name)
    {
        string text = options.RequiredString(name);
        var pairs = new List<(int, int)>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var ends = part.Split(':', StringSplitOptions.TrimEntries);
            if (ends.Length != 2
                || !int.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out int a)
                || !int.TryParse(ends[1], NumberStyles.None, CultureInfo.InvariantCulture, out int b))
                throw new UsageException($"option '{name}' expects pairs like 3:8,1:7 of non-negative integers, got '{text}'");
            pairs.Add((a, b));
        }
        return pairs;
    }

    public static string Abbreviate(int[] indices) =>
        indices.Length <= 12 ? string.Join(", ", indices) : $"{string.Join(", ", indices[..12])}, ... ({indices.Length} in all)";

    public static string F(double value, string format = "F2") => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>A figure a model may not have (a VAE's accuracy, a classifier's KL): "-" when absent.</summary>
    public static string F(double? value, string format = "F2") => value is double v ? F(v, format) : "-";

    public static string Percent(double ratio) => (100 * ratio).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    public static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F1} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F0} MiB",
        _ => $"{bytes} B",
    };

    /// <summary>Writes each report at once, in order (Progress&lt;T&gt; would post it to the thread pool).</summary>
    private sealed class LineLog(TextWriter writer) : IProgress<string>
    {
        public void Report(string value) => writer.WriteLine(value);
    }
}
