namespace IlgpuVae.Data;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new content, never
/// a partial file: the data goes to a temporary file in the same directory (so the final rename
/// stays on one file system) and is moved over the target only on <see cref="Commit"/>. A
/// writer disposed without committing deletes its temporary file, so an interrupted download or
/// a failed check leaves the target untouched.
/// </summary>
internal sealed class AtomicFile : IDisposable
{
    private readonly string _targetPath;
    private bool _committed;

    private AtomicFile(string targetPath, string tempPath, FileStream stream)
    {
        _targetPath = targetPath;
        TempPath = tempPath;
        Stream = stream;
    }

    /// <summary>The stream to write the new content to; readable too, so it can be checked before committing.</summary>
    public FileStream Stream { get; }

    /// <summary>Where the content lives until it is committed.</summary>
    public string TempPath { get; }

    /// <summary>Starts writing <paramref name="path"/>, creating its directory if needed.</summary>
    public static AtomicFile Create(string path)
    {
        string target = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(target)
            ?? throw new ArgumentException($"{path}: has no parent directory", nameof(path));
        Directory.CreateDirectory(directory);
        // A leading dot keeps the temp file out of casual listings; the GUID keeps concurrent
        // writers of the same target from clobbering each other's half-written data.
        string temp = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16);
        return new AtomicFile(target, temp, stream);
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = Create(path);
        file.Stream.Write(bytes);
        file.Commit();
    }

    /// <summary>Flushes the content to disk and moves it over the target.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        // Without flushing to disk a crash right after the rename could leave an empty file
        // under the final name on some file systems.
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(TempPath, _targetPath, overwrite: true);
        _committed = true;
    }

    /// <summary>Deletes the temporary file unless the content was committed.</summary>
    public void Dispose()
    {
        if (_committed)
        {
            return;
        }

        Stream.Dispose();
        try
        {
            File.Delete(TempPath);
        }
        catch (IOException)
        {
            // Best effort: a stray temp file is harmless, and the original error matters more.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
