namespace IlgpuVae.Data;

/// <summary>
/// The names and known content of the four files of the standard MNIST distribution.
/// </summary>
internal static class MnistFiles
{
    /// <summary>Training images, 60000 x 28 x 28.</summary>
    public const string TrainImages = "train-images-idx3-ubyte";

    /// <summary>Training labels, 60000.</summary>
    public const string TrainLabels = "train-labels-idx1-ubyte";

    /// <summary>Test images, 10000 x 28 x 28.</summary>
    public const string TestImages = "t10k-images-idx3-ubyte";

    /// <summary>Test labels, 10000.</summary>
    public const string TestLabels = "t10k-labels-idx1-ubyte";

    /// <summary>The four base names; each may be stored raw or with a <c>.gz</c> suffix.</summary>
    public static IReadOnlyList<string> All { get; } = [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>
    /// SHA-256 (lowercase hex) of the uncompressed content of each file. Hashing the uncompressed
    /// bytes lets one table vouch for the gzip files of the mirrors and for raw copies alike,
    /// since the same data compressed by different tools gives different gzip bytes.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Sha256 { get; } = new Dictionary<string, string>
    {
        [TrainImages] = "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        [TrainLabels] = "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        [TestImages] = "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        [TestLabels] = "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    };

    /// <summary>
    /// The path of <paramref name="name"/> in <paramref name="directory"/>, raw or <c>.gz</c>, or null if neither
    /// exists. Anything at a name counts, so a directory or a FIFO there is refused by the reader with its path rather
    /// than passed over. When both exist they must hold the same data (compared after decompressing either), and then
    /// the raw file is given, as it loads faster: <c>gunzip -k</c> leaves such a pair, and either file gives the same
    /// data set. Two that differ are an error, since which one the user meant cannot be told.
    /// </summary>
    /// <param name="directory">The directory to look in.</param>
    /// <param name="name">A base name from <see cref="All"/>.</param>
    /// <returns>The existing file, or null.</returns>
    /// <exception cref="InvalidDataException">Both exist and hold different data, or one cannot be read to compare.</exception>
    public static string? Find(string directory, string name)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(name);
        string raw = Path.Combine(directory, name);
        string gz = raw + ".gz";
        bool rawExists = Path.Exists(raw), gzExists = Path.Exists(gz);
        if (rawExists && gzExists && File.Exists(raw) && File.Exists(gz) && !SameData(raw, gz))
            throw new InvalidDataException($"{raw} and {gz} both exist and hold different data; remove the one that is wrong");
        return rawExists ? raw : gzExists ? gz : null;
    }

    /// <summary>Whether two files hold the same data once each is decompressed (if it is gzip).</summary>
    private static bool SameData(string first, string second)
    {
        // Not a regular file: reported as such, not as corrupt gzip data.
        IdxReader.RequireRegular(first);
        IdxReader.RequireRegular(second);
        try
        {
            using Stream a = IdxReader.OpenDecompressed(first);
            using Stream b = IdxReader.OpenDecompressed(second);
            byte[] bufferA = new byte[1 << 16], bufferB = new byte[1 << 16];
            while (true)
            {
                int readA = a.ReadAtLeast(bufferA, bufferA.Length, throwOnEndOfStream: false);
                int readB = b.ReadAtLeast(bufferB, bufferB.Length, throwOnEndOfStream: false);
                if (!bufferA.AsSpan(0, readA).SequenceEqual(bufferB.AsSpan(0, readB)))
                    return false;
                if (readA == 0)
                    return true;
            }
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{first} and {second} both exist, and they cannot be compared (corrupt gzip data); remove the one that is wrong", e);
        }
    }
}
