using System.Globalization;

namespace IlgpuVae.Data;

/// <summary>
/// The training and test splits of an image data set: MNIST or Fashion-MNIST (<see cref="LoadKnownAsync"/>),
/// any set of IDX files in their format (unsigned-byte images N x H x W of any H and W, labels optional), a folder of
/// pictures, a .npy array, or arrays of one's own. Loading checks the structure of the files, not their checksums;
/// <see cref="DataFiles.EnsureKnownAsync"/> is what checks that files are a known data set.
/// </summary>
public sealed class ImageData
{
    /// <summary>The height and width of an MNIST image.</summary>
    public const int ImageSize = 28;

    /// <summary>Creates the pair of splits.</summary>
    /// <param name="train">The training split.</param>
    /// <param name="test">The test split: images of the same size, labelled exactly when the training split is.</param>
    /// <param name="name">The data set's name, recorded in checkpoints (default "mnist").</param>
    /// <exception cref="ArgumentException">The splits' image sizes differ, or one is labelled and the other not.</exception>
    public ImageData(ImageSet train, ImageSet test, string name = "mnist")
        : this(train, test, name, classes: null)
    {
    }

    /// <summary>The splits with the class count of the whole files, taken before any limit cut them.</summary>
    private ImageData(ImageSet train, ImageSet test, string name, int? classes)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (train.Rows != test.Rows || train.Cols != test.Cols || train.Channels != test.Channels)
            throw new ArgumentException($"training images are {train.Channels}x{train.Rows}x{train.Cols} but test images are {test.Channels}x{test.Rows}x{test.Cols}", nameof(test));
        if (train.IsVectors != test.IsVectors)
            throw new ArgumentException("one split holds images, the other real-valued vectors", nameof(test));
        if (train.HasLabels != test.HasLabels)
            throw new ArgumentException($"the {(train.HasLabels ? "training" : "test")} images have labels but the {(train.HasLabels ? "test" : "training")} images do not", nameof(test));
        Train = train;
        Test = test;
        Name = name;
        Classes = !train.HasLabels ? 0 : classes ?? ClassCount(train.Labels, test.Labels);
    }

    /// <summary>The training split (60000 images for MNIST unless limited).</summary>
    public ImageSet Train { get; }

    /// <summary>The test split (10000 images for MNIST unless limited).</summary>
    public ImageSet Test { get; }

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
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">One of the files does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, or the files do not agree.</exception>
    public static ImageData Load(string directory, int? trainLimit = null, int? testLimit = null) =>
        Load(DataFiles.InDirectory(directory), new DataLoadOptions { TrainLimit = trainLimit, TestLimit = testLimit, Name = "mnist" });

    /// <summary>Gets a known data set's files as <see cref="DataFiles.EnsureKnownAsync"/> does (the directory given,
    /// <c>$ILGPU_VAE_DATA</c> for MNIST, else the per-user cache; verified, and fetched where missing), and loads them.</summary>
    /// <example><code>
    /// ImageData data = await ImageData.LoadKnownAsync(DataFiles.Mnist, options: new DataLoadOptions { TrainLimit = 6000 });
    /// </code></example>
    /// <param name="name">A name from <see cref="DataFiles.KnownSets"/>.</param>
    /// <param name="directory">A directory the user chose, or null for <c>$ILGPU_VAE_DATA</c> (MNIST) or the cache.</param>
    /// <param name="options">Limits (a known set has its own test split, so no test fraction); the name is the set's.</param>
    /// <param name="log">Receives one-line progress messages, or null.</param>
    /// <param name="cancellationToken">Cancels the checks and downloads.</param>
    /// <returns>The training and test sets.</returns>
    /// <exception cref="ArgumentException">The name is not known, or the options give a test fraction.</exception>
    /// <exception cref="DirectoryNotFoundException">The chosen directory does not exist.</exception>
    /// <exception cref="InvalidDataException">A file in the chosen directory is not the data set's.</exception>
    /// <exception cref="FileNotFoundException">A missing file could not be fetched from any source.</exception>
    public static async Task<ImageData> LoadKnownAsync(string name, string? directory = null, DataLoadOptions? options = null,
        IProgress<string>? log = null, CancellationToken cancellationToken = default)
    {
        _ = DataFiles.KnownSetSha256(name);
        if (options?.TestFraction is not null)
            throw new ArgumentException($"a test fraction is for data without a test split; {name} has one", nameof(options));
        var files = await DataFiles.EnsureKnownAsync(name, directory, log, cancellationToken).ConfigureAwait(false);
        return Load(files, (options ?? new DataLoadOptions()) with { Name = name });
    }

    /// <summary>
    /// Loads a data set from its IDX files, checking their structure: the IDX header (magic, element type, number of
    /// dimensions), that each file holds exactly the bytes its dimensions say, that images and labels count alike,
    /// that training and test images have one size, and that the test labels lie within the training labels' classes.
    /// </summary>
    /// <param name="files">The files.</param>
    /// <param name="options">Hold-out fraction, limits and name; null for none.</param>
    /// <returns>The splits.</returns>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="ArgumentException">There are no test images and <paramref name="options"/> gives no fraction to hold
    /// out (or gives one although there are test images).</exception>
    /// <exception cref="InvalidDataException">A file is malformed or the files do not agree; the one-line message names the file and the fault.</exception>
    public static ImageData Load(DataFiles files, DataLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        options ??= new DataLoadOptions();
        CheckOptions(options);
        if (files.TestLabels is not null && files.TestImages is null)
            throw new ArgumentException($"test labels {files.TestLabels} but no test images", nameof(files));

        ImageSet train = LoadSet(files.TrainImages, files.TrainLabels);
        ImageSet test;
        if (files.TestImages is null)
        {
            if (options.TestFraction is not double fraction)
                throw new ArgumentException($"no test images beside {files.TrainImages}: name a test image file or hold out a fraction of the training images");
            // Rounded, not ceiled: 0.2 read as a float is a hair above 0.2, and 100 images should still give 20.
            int held = Math.Max(1, (int)Math.Round(fraction * train.Count));
            if (held >= train.Count)
                throw new InvalidDataException($"{files.TrainImages}: holding out {held} of {train.Count} images leaves none to train on");
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
                    ? new InvalidDataException($"{files.TestLabels}: test labels, but the training images {files.TrainImages} have none")
                    : new InvalidDataException($"{files.TestImages}: no test labels, but the training images have {files.TrainLabels}");
            }
            test = LoadSet(files.TestImages, files.TestLabels);
            if (test.Rows != train.Rows || test.Cols != train.Cols)
                throw new InvalidDataException($"{files.TestImages}: images are {test.Rows}x{test.Cols}, but the training images ({files.TrainImages}) are {train.Rows}x{train.Cols}");
            if (files.TrainLabels is not null)
            {
                int classes = ClassCount(train.Labels, []);
                int bad = Array.FindIndex(test.Labels, label => label >= classes);
                if (bad >= 0)
                    throw new InvalidDataException($"{files.TestLabels}: label {test.Labels[bad]} at index {bad} is outside the training labels' classes 0-{classes - 1}");
            }
        }

        int? allClasses = train.HasLabels ? ClassCount(train.Labels, test.Labels) : null;
        if (options.TrainLimit is int trainLimit)
            train = train.Take(trainLimit);
        if (options.TestLimit is int testLimit)
            test = test.Take(testLimit);
        return new ImageData(train, test, options.Name ?? DefaultName(files.TrainImages), allClasses);
    }

    /// <summary>
    /// Loads a folder of pictures (PNG, JPEG, BMP, GIF or TGA). With <c>train</c> and <c>test</c> sub-folders those are
    /// the splits (the same class folders in each); otherwise the folder is one set from which
    /// <see cref="DataLoadOptions.TestFraction"/> holds out a seeded random share (<see cref="DataLoadOptions.HoldOutSeed"/>).
    /// A folder of class folders is labelled (label i is the i-th name in ordinal order, kept as <see cref="ClassNames"/>);
    /// a folder of pictures alone is unlabelled. Every file is checked before anything is returned.
    /// </summary>
    /// <param name="directory">The folder.</param>
    /// <param name="options">Hold-out fraction, image size, channels, limits and name; null for none.</param>
    /// <returns>The splits, named after the folder unless a name is given.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="ArgumentException">The folder has no test split and <paramref name="options"/> gives no fraction to
    /// hold out (or gives one although it has a split).</exception>
    /// <exception cref="InvalidDataException">A file is no decodable picture, sizes differ without an image size, a class
    /// folder is empty, the folder holds no pictures, or the splits' classes differ; the message names the file or folder.</exception>
    public static ImageData LoadFolder(string directory, DataLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        options ??= new DataLoadOptions();
        CheckOptions(options);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"data directory {directory} does not exist");
        string trainDirectory = Path.Combine(directory, "train"), testDirectory = Path.Combine(directory, "test");
        ImageSet train, test;
        string[]? classes;
        if (Directory.Exists(trainDirectory) && Directory.Exists(testDirectory))
        {
            if (options.TestFraction is not null)
                throw new ArgumentException($"a test fraction is for data without a test split; {directory} has test/", nameof(options));
            var trainFiles = ImageFolder.List(trainDirectory, out classes);
            var testFiles = ImageFolder.List(testDirectory, out var testClasses);
            if (!(classes ?? []).SequenceEqual(testClasses ?? []) || (classes is null) != (testClasses is null))
                throw new InvalidDataException($"{testDirectory}: class folders [{string.Join(", ", testClasses ?? [])}] differ from {trainDirectory}'s [{string.Join(", ", classes ?? [])}]");
            // One size and one channel count for both splits: read as one list, then cut.
            var both = ImageFolder.Read([.. trainFiles, .. testFiles], classes is not null, options.ImageSize, options.ImageChannels);
            train = both.Slice(0, trainFiles.Count);
            test = both.Slice(trainFiles.Count, testFiles.Count);
        }
        else
        {
            var files = ImageFolder.List(directory, out classes);
            if (options.TestFraction is not double fraction)
                throw new ArgumentException($"no test images in {directory} (no train/ and test/ sub-folders): hold out a fraction of the pictures");
            var all = ImageFolder.Read(files, classes is not null, options.ImageSize, options.ImageChannels);
            (train, test) = HoldOut(all, fraction, directory);
        }
        return Finish(train, test, options, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))), classes);
    }

    /// <summary>
    /// Loads images from a NumPy .npy file, and their labels from a second one, holding out
    /// <see cref="DataLoadOptions.TestFraction"/> of them (seeded, <see cref="DataLoadOptions.HoldOutSeed"/>) for testing.
    /// Images are uint8 (0-255) or float32 in [0, 1] (a value outside, or NaN, is refused naming its index), shaped
    /// N x H x W (grey), N x H x W x C or N x C x H x W: a 4-dimensional array is channels-last when its last size is 1
    /// or 3, else channels-first when its second is; an N x D float32 array is N real-valued vectors (as <see cref="LoadVectors"/>). Labels are N integers (uint8, int8, int32 or int64) in 0-255.
    /// </summary>
    /// <param name="imagesPath">The images' .npy file.</param>
    /// <param name="labelsPath">The labels' .npy file, or null for unlabelled images.</param>
    /// <param name="options">The test fraction (required), limits and name.</param>
    /// <returns>The splits, named after the file unless a name is given.</returns>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> gives no test fraction, or gives an image size or channels.</exception>
    /// <exception cref="InvalidDataException">A file is no .npy array of a shape and type above, or the two do not agree.</exception>
    public static ImageData LoadNpy(string imagesPath, string? labelsPath, DataLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(imagesPath);
        options ??= new DataLoadOptions();
        CheckOptions(options);
        if (options.ImageSize is not null || options.ImageChannels is not null)
            throw new ArgumentException("an image size or channel count is for pictures; a .npy array has its own shape", nameof(options));
        var all = ReadNpySet(imagesPath, labelsPath);
        if (options.TestFraction is not double fraction)
            throw new ArgumentException($"no test images beside {imagesPath}: hold out a fraction of the training images");
        var (train, test) = HoldOut(all, fraction, imagesPath);
        return Finish(train, test, options, Path.GetFileNameWithoutExtension(imagesPath), null);
    }

    /// <summary>
    /// Every row of a file of real-valued vectors, in file order: a CSV file (a header row of column names, then numbers;
    /// the column named <paramref name="labelColumn"/>, if any, holds integer labels 0-255) or an N x D float32 .npy
    /// array. The values are kept as they are; a model standardises them (<see cref="Models.VaeConfig.ForVectors"/>).
    /// </summary>
    /// <param name="path">The .csv or .npy file.</param>
    /// <param name="labelColumn">The CSV label column's name, or null for none.</param>
    /// <returns>The set (<see cref="ImageSet.IsVectors"/>).</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// A missing value, text in a numeric column, a value that is not finite, a row of another length or a constant column;
    /// the message is one line naming the row and the column.
    /// </exception>
    public static ImageSet LoadVectorSet(string path, string? labelColumn = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return VectorFile.Read(path, labelColumn);
    }

    /// <summary>
    /// A file of real-valued vectors (<see cref="LoadVectorSet"/>) split into training and test rows: the test fraction
    /// (required) held out at random with the fixed seed <see cref="DataLoadOptions.HoldOutSeed"/>.
    /// </summary>
    /// <param name="path">The .csv or .npy file.</param>
    /// <param name="labelColumn">The CSV label column's name, or null for none.</param>
    /// <param name="options">The test fraction (required), limits and name.</param>
    /// <returns>The splits, named after the file unless a name is given.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> gives no test fraction.</exception>
    /// <exception cref="InvalidDataException">As for <see cref="LoadVectorSet"/>.</exception>
    public static ImageData LoadVectors(string path, string? labelColumn = null, DataLoadOptions? options = null)
    {
        options ??= new DataLoadOptions();
        CheckOptions(options);
        var all = LoadVectorSet(path, labelColumn);
        if (options.TestFraction is not double fraction)
            throw new ArgumentException($"{path}: no test rows: hold out a fraction of the rows (--test-fraction)");
        var (train, test) = HoldOut(all, fraction, path);
        return Finish(train, test, options, Path.GetFileNameWithoutExtension(path), null);
    }

    private static ImageSet ReadNpySet(string imagesPath, string? labelsPath)
    {
        var array = Npy.Read(imagesPath);
        // N x D: real-valued vectors, not images.
        if (array.Shape is [int vectorCount, _])
            return VectorFile.FromNpy(imagesPath, array, labelsPath is null ? null : ReadNpyLabels(labelsPath, imagesPath, vectorCount));
        string shape = $"({string.Join(", ", array.Shape)})";
        int count, channels, height, width;
        bool channelsLast = false;
        switch (array.Shape)
        {
            case [int n, int h, int w]:
                (count, channels, height, width) = (n, 1, h, w);
                break;
            case [int n, int h, int w, int c] when c is 1 or 3:
                (count, channels, height, width, channelsLast) = (n, c, h, w, true);
                break;
            case [int n, int c, int h, int w] when c is 1 or 3:
                (count, channels, height, width) = (n, c, h, w);
                break;
            default:
                throw new InvalidDataException($"{imagesPath}: shape {shape} is not N x H x W, N x H x W x C or N x C x H x W with C = 1 or 3");
        }
        if (count == 0 || height == 0 || width == 0)
            throw new InvalidDataException($"{imagesPath}: shape {shape} holds no images");
        byte[] bytes;
        if (array.Type == "u1")
        {
            bytes = array.Data;
        }
        else if (array.Type == "f4")
        {
            var floats = array.Floats();
            if (Pixels.FirstOutsideUnit(floats) is int bad)
                throw new InvalidDataException($"{imagesPath}: value {floats[bad].ToString(CultureInfo.InvariantCulture)} at index {bad} is outside [0, 1] (float32 images must lie in [0, 1]; uint8 ones in 0-255)");
            bytes = Pixels.ToBytes(floats);
        }
        else
        {
            throw new InvalidDataException($"{imagesPath}: images of {array.Type}; give uint8 (0-255) or float32 (0-1)");
        }
        if (channelsLast && channels > 1)
            bytes = ChannelsFirst(bytes, count, height * width, channels);
        byte[]? labels = labelsPath is null ? null : ReadNpyLabels(labelsPath, imagesPath, count);
        return ImageSet.FromBytes(bytes, count, channels, height, width, labels);
    }

    private static byte[] ReadNpyLabels(string labelsPath, string imagesPath, int count)
    {
        {
            var labelArray = Npy.Read(labelsPath);
            if (labelArray.Shape is not [int labelCount] || labelArray.Type == "f4")
                throw new InvalidDataException($"{labelsPath}: labels must be one integer per image, a 1-dimensional integer array; got ({string.Join(", ", labelArray.Shape)}) of {labelArray.Type}");
            if (labelCount != count)
                throw new InvalidDataException($"{labelsPath}: {labelCount} labels for the {count} images of {imagesPath}");
            var values = labelArray.Integers();
            int outside = Array.FindIndex(values, v => v is < 0 or > 255);
            if (outside >= 0)
                throw new InvalidDataException($"{labelsPath}: label {values[outside]} at index {outside} is outside 0-255");
            return values.Select(v => (byte)v).ToArray();
        }
    }

    // N x (H W) x C interleaved to N x C x (H W) planes.
    private static byte[] ChannelsFirst(byte[] interleaved, int count, int pixels, int channels)
    {
        var planes = new byte[interleaved.Length];
        int d = pixels * channels;
        for (int n = 0; n < count; n++)
            Pixels.ToPlanes(interleaved.AsSpan(n * d, d), channels, planes.AsSpan(n * d, d));
        return planes;
    }

    /// <summary>Whether <paramref name="directory"/> is one for <see cref="LoadFolder"/>: it exists and holds no
    /// IDX training images under MNIST's name (such a directory is <see cref="Load(string, int?, int?)"/>'s).</summary>
    /// <param name="directory">The directory.</param>
    /// <returns>True for a folder of pictures (or an empty one, which <see cref="LoadFolder"/> reports).</returns>
    public static bool HoldsPictures(string directory) => ImageFolder.HoldsPictures(directory);

    // The seeded random hold-out of pictures and arrays, with the data error that names the source.
    private static (ImageSet Train, ImageSet Test) HoldOut(ImageSet all, double fraction, string source)
    {
        int held = Math.Max(1, (int)Math.Round(fraction * all.Count));
        if (held >= all.Count)
            throw new InvalidDataException($"{source}: holding out {held} of {all.Count} images leaves none to train on");
        return all.Split(fraction, DataLoadOptions.HoldOutSeed);
    }

    private static void CheckOptions(DataLoadOptions options)
    {
        if (options.TrainLimit is int tl)
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tl, nameof(options));
        if (options.TestLimit is int sl)
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sl, nameof(options));
        if (options.TestFraction is double f && !(f > 0 && f < 1))
            throw new ArgumentException($"test fraction must lie strictly between 0 and 1, got {f.ToString(CultureInfo.InvariantCulture)}", nameof(options));
        if (options.ImageSize is { } size && (size.Height <= 0 || size.Width <= 0 || (long)size.Height * size.Width > int.MaxValue / 3))
            throw new ArgumentException($"image size {size.Height}x{size.Width} is not a positive size of at most {int.MaxValue / 3} pixels", nameof(options));
        if (options.ImageChannels is int c && c is not (1 or 3))
            throw new ArgumentException($"image channels must be 1 or 3, got {c}", nameof(options));
    }

    // The limits and the name, the class count taken before any limit.
    private static ImageData Finish(ImageSet train, ImageSet test, DataLoadOptions options, string defaultName, string[]? classNames)
    {
        int? allClasses = train.HasLabels ? Math.Max(ClassCount(train.Labels, test.Labels), classNames?.Length ?? 0) : null;
        if (options.TrainLimit is int trainLimit)
            train = train.Take(trainLimit);
        if (options.TestLimit is int testLimit)
            test = test.Take(testLimit);
        return new ImageData(train, test, options.Name ?? (string.IsNullOrWhiteSpace(defaultName) ? "data" : defaultName), allClasses)
        {
            ClassNames = classNames,
        };
    }

    /// <summary>Loads one split from an image file and a label file.</summary>
    /// <param name="imagesPath">IDX file of unsigned-byte images N x H x W, raw or gzip.</param>
    /// <param name="labelsPath">IDX file of N unsigned-byte labels, raw or gzip, or null for unlabelled images.</param>
    /// <param name="limit">If set, keep only the first this many images.</param>
    /// <returns>The split.</returns>
    /// <exception cref="InvalidDataException">A file is malformed or the files hold different numbers of items.</exception>
    public static ImageSet LoadSet(string imagesPath, string? labelsPath, int? limit = null)
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
        ImageSet set;
        if (labelsPath is null)
        {
            set = ImageSet.Unlabelled(images.Data, rows, cols);
        }
        else
        {
            IdxArray labels = IdxReader.ReadLabels(labelsPath);
            if (labels.Dimensions[0] != count)
            {
                // The files changed since their headers were read.
                throw CountMismatch(imagesPath, labelsPath, count, labels.Dimensions[0]);
            }

            set = new ImageSet(images.Data, labels.Data, rows, cols);
        }

        return limit is int n ? set.Take(n) : set;
    }

    private static InvalidDataException CountMismatch(string imagesPath, string labelsPath, int images, int labels) =>
        new($"{labelsPath}: {labels} labels for the {images} images of {imagesPath} (labels of another set?)");

    private static void RequireFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        // Path.Exists, not File.Exists: a directory given as a data file is reported as one by the reader, not as missing.
        if (!Path.Exists(path))
            throw new FileNotFoundException($"{path} not found", path);
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
