namespace IlgpuVae.Data;

/// <summary>
/// The IDX files of one image data set: training images, and where the data set has them, training labels, test
/// images and test labels. Each file may be raw or gzip-compressed. Without test images, <see cref="ImageData.Load(DataFiles, DataLoadOptions?)"/>
/// holds out a fraction of the training set instead; without labels, only a plain VAE can train.
/// The data sets that come by name (<see cref="KnownSets"/>: MNIST, Fashion-MNIST) get their files through the one
/// data-source policy, <see cref="EnsureKnownAsync"/>: where they are kept, verified and fetched.
/// </summary>
/// <param name="TrainImages">Training images: an IDX file of unsigned bytes, N x H x W.</param>
/// <param name="TrainLabels">Training labels: an IDX file of N unsigned bytes, or null for an unlabelled set.</param>
/// <param name="TestImages">Test images, M x H x W (the same H and W), or null.</param>
/// <param name="TestLabels">Test labels, M of them, or null; present exactly when <paramref name="TrainLabels"/> is
/// and there are test images.</param>
public sealed partial record DataFiles(string TrainImages, string? TrainLabels = null, string? TestImages = null, string? TestLabels = null)
{
    /// <summary>
    /// The files of a directory laid out like MNIST's distribution: <see cref="MnistFiles.TrainImages"/> and, where
    /// present, the other three standard names, each raw or with a <c>.gz</c> suffix.
    /// </summary>
    /// <param name="directory">The directory.</param>
    /// <returns>The files found.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">The directory holds no training images.</exception>
    public static DataFiles InDirectory(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"data directory {directory} does not exist");
        string trainImages = MnistFiles.Find(directory, MnistFiles.TrainImages)
            ?? throw new FileNotFoundException($"{Path.Combine(directory, MnistFiles.TrainImages)}(.gz) not found", Path.Combine(directory, MnistFiles.TrainImages));
        return new DataFiles(trainImages, MnistFiles.Find(directory, MnistFiles.TrainLabels),
            MnistFiles.Find(directory, MnistFiles.TestImages), MnistFiles.Find(directory, MnistFiles.TestLabels));
    }

    /// <summary>These files with any given replacement (a null argument keeps the file here).</summary>
    /// <param name="trainImages">Replaces <see cref="TrainImages"/>, or null.</param>
    /// <param name="trainLabels">Replaces <see cref="TrainLabels"/>, or null.</param>
    /// <param name="testImages">Replaces <see cref="TestImages"/>, or null.</param>
    /// <param name="testLabels">Replaces <see cref="TestLabels"/>, or null.</param>
    /// <returns>The combined files.</returns>
    public DataFiles With(string? trainImages = null, string? trainLabels = null, string? testImages = null, string? testLabels = null) =>
        new(trainImages ?? TrainImages, trainLabels ?? TrainLabels, testImages ?? TestImages, testLabels ?? TestLabels);
}

/// <summary>How <see cref="ImageData.Load(DataFiles, DataLoadOptions?)"/> cuts and names a data set.</summary>
public sealed record DataLoadOptions
{
    /// <summary>
    /// For a data set without test images: the fraction of the training images that becomes the test set, in (0, 1):
    /// the last round(fraction x N) of them (at least one), so the split is the same every time. Must be null when
    /// there are test images.
    /// </summary>
    public double? TestFraction { get; init; }

    /// <summary>If set, keep only the first this many training images (after any hold-out).</summary>
    public int? TrainLimit { get; init; }

    /// <summary>If set, keep only the first this many test images.</summary>
    public int? TestLimit { get; init; }

    /// <summary>The data set's name (recorded in checkpoints), or null for the training images' directory name.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Pictures and arrays only: the height and width every image is brought to (pictures: scaled bilinearly to cover
    /// it, keeping the aspect ratio, then cropped about the centre), or null to require one size throughout.
    /// </summary>
    public (int Height, int Width)? ImageSize { get; init; }

    /// <summary>
    /// Pictures only: 1 to read every picture as grey, 3 as RGB, or null for the pictures' own (RGB when any has colour).
    /// </summary>
    public int? ImageChannels { get; init; }

    /// <summary>
    /// The seed with which <see cref="TestFraction"/> picks the test images of a folder of pictures or a .npy array
    /// (<see cref="ImageSet.Split"/>): fixed, so a folder splits the same way every time.
    /// </summary>
    public const int HoldOutSeed = 23;
}
