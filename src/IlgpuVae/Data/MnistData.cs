using System.Globalization;

namespace IlgpuVae.Data;

/// <summary>
/// The training and test splits of an image data set: MNIST, or any set of IDX files in its format (unsigned-byte
/// images N x H x W of any H and W, labels optional). Loading checks the structure of the files, not their
/// checksums; <see cref="MnistFetcher"/> is what checks that files are a known data set.
/// </summary>
public sealed class MnistData
{
    /// <summary>The height and width of an MNIST image.</summary>
    public const int ImageSize = 28;

    /// <summary>Creates the pair of splits.</summary>
    /// <param name="train">The training split.</param>
    /// <param name="test">The test split: images of the same size, labelled exactly when the training split is.</param>
    /// <param name="name">The data set's name, recorded in checkpoints (default "mnist").</param>
    /// <exception cref="ArgumentException">The splits' image sizes differ, or one is labelled and the other not.</exception>
    public MnistData(MnistSet train, MnistSet test, string name = "mnist")
        : this(train, test, name, classes: null)
    {
    }

    /// <summary>The splits with the class count of the whole files, taken before any limit cut them.</summary>
    private MnistData(MnistSet train, MnistSet test, string name, int? classes)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (train.Rows != test.Rows || train.Cols != test.Cols || train.Channels != test.Channels)
            throw new ArgumentException($"training images are {train.Channels}x{train.Rows}x{train.Cols} but test images are {test.Channels}x{test.Rows}x{test.Cols}", nameof(test));
        if (train.HasLabels != test.HasLabels)
            throw new ArgumentException($"the {(train.HasLabels ? "training" : "test")} images have labels but the {(train.HasLabels ? "test" : "training")} images do not", nameof(test));
        Train = train;
        Test = test;
        Name = name;
        Classes = !train.HasLabels ? 0 : classes ?? ClassCount(train.Labels, test.Labels);
    }

    /// <summary>The training split (60000 images for MNIST unless limited).</summary>
    public MnistSet Train { get; }

    /// <summary>The test split (10000 images for MNIST unless limited).</summary>
    public MnistSet Test { get; }

    /// <summary>The data set's name: "mnist", "fashion-mnist", or for files of one's own, their directory's name.</summary>
    public string Name { get; }

    /// <summary>Whether the images have labels (required by the CVAE and the classifier, optional for a plain VAE).</summary>
    public bool HasLabels => Train.HasLabels;

    /// <summary>The number of classes C: one more than the largest label (10 for MNIST); 0 without labels.</summary>
    public int Classes { get; }

    /// <summary>The images' colour channels C: 1 (grey) or 3 (RGB).</summary>
    public int ImageChannels => Train.Channels;

    /// <summary>
    /// The name of each class, label i being ClassNames[i] (an image folder's sub-folder names, sorted ordinally), or
    /// null where the classes have no names (IDX and .npy labels are numbers). A trained model records them under
    /// <see cref="ClassNamesKey"/>.
    /// </summary>
    public IReadOnlyList<string>? ClassNames
    {
        get => _classNames;
        init
        {
            if (value is not null && value.Count != Classes)
                throw new ArgumentException($"{value.Count} class names for {Classes} classes", nameof(value));
            _classNames = value;
        }
    }

    private readonly IReadOnlyList<string>? _classNames;

    /// <summary>The model-file metadata key of <see cref="ClassNames"/>: a JSON array of strings.</summary>
    public const string ClassNamesKey = "class_names";

    /// <summary>
    /// The class names a model file records (<see cref="ClassNamesKey"/>), or null for none or an unreadable value.
    /// </summary>
    /// <param name="metadata">The file's metadata (<c>Model.Metadata</c>).</param>
    /// <returns>The names.</returns>
    public static IReadOnlyList<string>? ClassNamesIn(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (!metadata.TryGetValue(ClassNamesKey, out var json))
            return null;
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<string[]>(json);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>Image height H.</summary>
    public int ImageHeight => Train.Rows;

    /// <summary>Image width W.</summary>
    public int ImageWidth => Train.Cols;

    /// <summary>Loads both splits from a directory holding MNIST's four standard files (or, for another data set
    /// under those names, at least the training and test images).</summary>
    /// <param name="directory">The directory; each file may be raw or have a <c>.gz</c> suffix.</param>
    /// <param name="trainLimit">If set, keep only the first this many training images.</param>
    /// <param name="testLimit">If set, keep only the first this many test images.</param>
    /// <returns>The loaded splits, named "mnist".</returns>
    /// <exception cref="DataUnavailableException">The directory or one of the files does not exist.</exception>
    /// <exception cref="DataFormatException">A file is malformed, or the files do not agree.</exception>
    public static MnistData Load(string directory, int? trainLimit = null, int? testLimit = null) =>
        Load(DataFiles.InDirectory(directory), new DataLoadOptions { TrainLimit = trainLimit, TestLimit = testLimit, Name = "mnist" });

    /// <summary>
    /// Loads a data set from its IDX files, checking their structure: the IDX header (magic, element type, number of
    /// dimensions), that each file holds exactly the bytes its dimensions say, that images and labels count alike,
    /// that training and test images have one size, and that the test labels lie within the training labels' classes.
    /// </summary>
    /// <param name="files">The files.</param>
    /// <param name="options">Hold-out fraction, limits and name; null for none.</param>
    /// <returns>The splits.</returns>
    /// <exception cref="DataUnavailableException">A file does not exist, or there is no test split and no fraction to hold out.</exception>
    /// <exception cref="DataFormatException">A file is malformed or the files do not agree; the one-line message names the file and the fault.</exception>
    public static MnistData Load(DataFiles files, DataLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        options ??= new DataLoadOptions();
        if (options.TrainLimit is int tl)
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tl, nameof(options));
        if (options.TestLimit is int sl)
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sl, nameof(options));
        if (options.TestFraction is double f && !(f > 0 && f < 1))
            throw new ArgumentException($"test fraction must lie strictly between 0 and 1, got {f.ToString(CultureInfo.InvariantCulture)}", nameof(options));
        if (files.TestLabels is not null && files.TestImages is null)
            throw new ArgumentException($"test labels {files.TestLabels} but no test images", nameof(files));

        MnistSet train = LoadSet(files.TrainImages, files.TrainLabels);
        MnistSet test;
        if (files.TestImages is null)
        {
            if (options.TestFraction is not double fraction)
                throw new DataUnavailableException($"no test images beside {files.TrainImages}: name a test image file or hold out a fraction of the training images");
            // Rounded, not ceiled: 0.2 read as a float is a hair above 0.2, and 100 images should still give 20.
            int held = Math.Max(1, (int)Math.Round(fraction * train.Count));
            if (held >= train.Count)
                throw new DataFormatException($"{files.TrainImages}: holding out {held} of {train.Count} images leaves none to train on");
            test = train.Slice(train.Count - held, held);
            train = train.Slice(0, train.Count - held);
        }
        else
        {
            if (options.TestFraction is not null)
                throw new ArgumentException("a test fraction is for data without test images; these have " + files.TestImages, nameof(options));
            if ((files.TrainLabels is null) != (files.TestLabels is null))
            {
                throw files.TrainLabels is null
                    ? new DataFormatException($"{files.TestLabels}: test labels, but the training images {files.TrainImages} have none")
                    : new DataFormatException($"{files.TestImages}: no test labels, but the training images have {files.TrainLabels}");
            }
            test = LoadSet(files.TestImages, files.TestLabels);
            if (test.Rows != train.Rows || test.Cols != train.Cols)
                throw new DataFormatException($"{files.TestImages}: images are {test.Rows}x{test.Cols}, but the training images ({files.TrainImages}) are {train.Rows}x{train.Cols}");
            if (files.TrainLabels is not null)
            {
                int classes = ClassCount(train.Labels, []);
                int bad = Array.FindIndex(test.Labels, label => label >= classes);
                if (bad >= 0)
                    throw new DataFormatException($"{files.TestLabels}: label {test.Labels[bad]} at index {bad} is outside the training labels' classes 0-{classes - 1}");
            }
        }

        int? allClasses = train.HasLabels ? ClassCount(train.Labels, test.Labels) : null;
        if (options.TrainLimit is int trainLimit)
            train = train.Take(trainLimit);
        if (options.TestLimit is int testLimit)
            test = test.Take(testLimit);
        return new MnistData(train, test, options.Name ?? DefaultName(files.TrainImages), allClasses);
    }

    /// <summary>Loads one split from an image file and a label file.</summary>
    /// <param name="imagesPath">IDX file of unsigned-byte images N x H x W, raw or gzip.</param>
    /// <param name="labelsPath">IDX file of N unsigned-byte labels, raw or gzip, or null for unlabelled images.</param>
    /// <param name="limit">If set, keep only the first this many images.</param>
    /// <returns>The split.</returns>
    /// <exception cref="DataFormatException">A file is malformed or the files hold different numbers of items.</exception>
    public static MnistSet LoadSet(string imagesPath, string? labelsPath, int? limit = null)
    {
        if (limit is int l)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(l, nameof(limit));
        }

        RequireFile(imagesPath);
        if (labelsPath is not null)
        {
            // Both headers before either body: a header that claims 40000 x 50000 images must not cost the minutes
            // and gigabytes of decompressing them before the labels show that the two files do not belong together.
            RequireFile(labelsPath);
            int imageCount = IdxReader.ReadHeader(imagesPath, 3, contentName: "pixels").Dimensions[0];
            int labelCount = IdxReader.ReadHeader(labelsPath, 1, contentName: "labels").Dimensions[0];
            if (labelCount != imageCount)
                throw CountMismatch(imagesPath, labelsPath, imageCount, labelCount);
        }

        IdxArray images = IdxReader.ReadImages(imagesPath);
        int count = images.Dimensions[0], rows = images.Dimensions[1], cols = images.Dimensions[2];
        MnistSet set;
        if (labelsPath is null)
        {
            set = MnistSet.Unlabelled(images.Data, rows, cols);
        }
        else
        {
            IdxArray labels = IdxReader.ReadLabels(labelsPath);
            if (labels.Dimensions[0] != count)
            {
                // The files changed since their headers were read.
                throw CountMismatch(imagesPath, labelsPath, count, labels.Dimensions[0]);
            }

            set = new MnistSet(images.Data, labels.Data, rows, cols);
        }

        return limit is int n ? set.Take(n) : set;
    }

    private static DataFormatException CountMismatch(string imagesPath, string labelsPath, int images, int labels) =>
        new($"{labelsPath}: {labels} labels for the {images} images of {imagesPath} (labels of another set?)");

    private static void RequireFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        // Path.Exists, not File.Exists: a directory given as a data file is reported as one by the reader, not as missing.
        if (!Path.Exists(path))
            throw new DataUnavailableException($"{path} not found");
    }

    // Checked over whole files, not just a kept prefix, so the class count does not depend on a limit.
    private static int ClassCount(byte[] train, byte[] test)
    {
        int max = 0;
        foreach (byte label in train)
            max = Math.Max(max, label);
        foreach (byte label in test)
            max = Math.Max(max, label);
        return max + 1;
    }

    private static string DefaultName(string trainImages)
    {
        string? directory = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(trainImages)));
        return string.IsNullOrWhiteSpace(directory) ? "data" : directory;
    }
}
