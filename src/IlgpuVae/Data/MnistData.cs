namespace IlgpuVae.Data;

/// <summary>
/// MNIST's training and test splits, loaded from a directory holding the four standard IDX
/// files (each raw or gzip-compressed). Loading checks the format, not the checksums, so other
/// data sets in the MNIST layout (such as Fashion-MNIST) load as well; <see cref="MnistFetcher"/>
/// is what checks that files are the genuine MNIST.
/// </summary>
public sealed class MnistData
{
    /// <summary>The height and width of an MNIST image.</summary>
    public const int ImageSize = 28;

    /// <summary>Creates the pair of splits.</summary>
    /// <param name="train">The training split.</param>
    /// <param name="test">The test split.</param>
    public MnistData(MnistSet train, MnistSet test)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        Train = train;
        Test = test;
    }

    /// <summary>The training split (60000 images unless limited).</summary>
    public MnistSet Train { get; }

    /// <summary>The test split (10000 images unless limited).</summary>
    public MnistSet Test { get; }

    /// <summary>Loads both splits from a directory holding the four standard MNIST files.</summary>
    /// <param name="directory">The directory; each file may be raw or have a <c>.gz</c> suffix.</param>
    /// <param name="trainLimit">If set, keep only the first this many training images.</param>
    /// <param name="testLimit">If set, keep only the first this many test images.</param>
    /// <returns>The loaded splits.</returns>
    /// <exception cref="DataUnavailableException">The directory or one of the files does not exist.</exception>
    /// <exception cref="DataFormatException">A file is malformed, or images and labels do not agree.</exception>
    public static MnistData Load(string directory, int? trainLimit = null, int? testLimit = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
        {
            throw new DataUnavailableException(
                $"MNIST directory {directory} does not exist");
        }

        MnistSet train = LoadSet(Require(directory, MnistFiles.TrainImages), Require(directory, MnistFiles.TrainLabels), trainLimit);
        MnistSet test = LoadSet(Require(directory, MnistFiles.TestImages), Require(directory, MnistFiles.TestLabels), testLimit);
        return new MnistData(train, test);
    }

    /// <summary>Loads one split from an image file and a label file.</summary>
    /// <param name="imagesPath">IDX file of 28x28 unsigned-byte images, raw or gzip.</param>
    /// <param name="labelsPath">IDX file of unsigned-byte labels 0-9, raw or gzip.</param>
    /// <param name="limit">If set, keep only the first this many images.</param>
    /// <returns>The split.</returns>
    /// <exception cref="DataFormatException">
    /// A file is malformed, images are not 28x28, a label is outside 0-9, or the files hold
    /// different numbers of items.
    /// </exception>
    public static MnistSet LoadSet(string imagesPath, string labelsPath, int? limit = null)
    {
        if (limit is int l)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(l, nameof(limit));
        }

        IdxArray images = IdxReader.ReadImages(imagesPath);
        int count = images.Dimensions[0], rows = images.Dimensions[1], cols = images.Dimensions[2];
        if (rows != ImageSize || cols != ImageSize)
        {
            throw new DataFormatException($"{imagesPath}: images are {rows}x{cols}, expected {ImageSize}x{ImageSize}");
        }

        IdxArray labels = IdxReader.ReadLabels(labelsPath);
        if (labels.Dimensions[0] != count)
        {
            throw new DataFormatException(
                $"{imagesPath} has {count} images but {labelsPath} has {labels.Dimensions[0]} labels");
        }

        // Checked over the whole file, not just the kept prefix, so a corrupt file is caught even
        // in quick runs that load only a few images.
        int bad = Array.FindIndex(labels.Data, label => label > 9);
        if (bad >= 0)
        {
            throw new DataFormatException($"{labelsPath}: label {labels.Data[bad]} at index {bad} is outside 0-9");
        }

        var set = new MnistSet(images.Data, labels.Data, rows, cols);
        return limit is int n ? set.Take(n) : set;
    }

    private static string Require(string directory, string name) =>
        MnistFiles.Find(directory, name)
        ?? throw new DataUnavailableException(
            $"{Path.Combine(directory, name)}(.gz) not found");
}
