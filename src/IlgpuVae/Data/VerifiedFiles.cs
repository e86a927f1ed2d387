using System.IO.Compression;
using System.Security.Cryptography;

namespace IlgpuVae.Data;

/// <summary>Checks files against their known SHA-256 (of the uncompressed content, so raw and .gz agree), and stores
/// a fetched file only once it has passed.</summary>
internal static class VerifiedFiles
{
    // Far above the largest file (47 MB raw): a misbehaving server must not fill the disk.
    private const long MaxDownloadBytes = 128L << 20;

    /// <summary>Whether a file's uncompressed content is the file <paramref name="name"/> of the known data set <paramref name="dataSet"/>.</summary>
    /// <param name="dataSet">A name from <see cref="DataFiles.KnownSets"/>.</param>
    /// <param name="path">The file, raw or gzip.</param>
    /// <param name="name">A base name from <see cref="MnistFiles.All"/>.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>True if the SHA-256 matches; false if it differs or the file is unreadable or corrupt gzip.</returns>
    /// <exception cref="InvalidDataException">The path is not a regular file.</exception>
    internal static async Task<bool> IsGenuineAsync(string dataSet, string path, string name, CancellationToken cancellationToken = default)
    {
        if (!DataFiles.KnownSetSha256(dataSet).TryGetValue(name, out string? expected))
            throw new ArgumentException($"{name} is not a standard file name", nameof(name));
        // Not a regular file (a FIFO, a directory): an error to report, not a mismatch to repair.
        IdxReader.RequireRegular(path);
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
    /// SHA-256 (lowercase hex) of a file's uncompressed content: a gzip file is hashed after
    /// decompression, so a raw file and its compressed form give the same hash.
    /// </summary>
    /// <param name="path">The file, raw or gzip.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The hex digest.</returns>
    /// <exception cref="InvalidDataException">The file looks like gzip but is corrupt.</exception>
    internal static async Task<string> ComputeSha256Async(string path, CancellationToken cancellationToken = default)
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
    /// <exception cref="InvalidDataException">The path is not a regular file.</exception>
    internal static async Task<bool> IsGenuineAsync(string path, string name, CancellationToken cancellationToken = default)
    {
        if (!MnistFiles.Sha256.TryGetValue(name, out string? expected))
        {
            throw new ArgumentException($"{name} is not a standard MNIST file name", nameof(name));
        }

        // Not a regular file (a FIFO, a directory): an error to report, not a mismatch to repair.
        IdxReader.RequireRegular(path);
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
    /// True if the file that <see cref="ImageData"/> would load for <paramref name="name"/> is
    /// genuine. If a raw copy fails but a .gz copy passes, the bad raw copy is removed, since it
    /// would otherwise shadow the good one when loading.
    /// </summary>
    internal static async Task<bool> CheckPresentAsync(string directory, string name, IProgress<string>? log, CancellationToken cancellationToken)
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

    /// <summary>
    /// Writes <paramref name="source"/> to a temporary file beside <paramref name="target"/>,
    /// checks its uncompressed SHA-256, and only then moves it into place, removing the other
    /// variant (raw or .gz) of the same file, which was found bad and would shadow or confuse.
    /// </summary>
    /// <exception cref="InvalidDataException">The content is not the genuine file.</exception>
    internal static async Task StoreVerifiedAsync(Stream source, string target, string name, CancellationToken cancellationToken)
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
}
