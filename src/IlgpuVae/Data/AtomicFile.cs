using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace IlgpuVae.Data;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new content, never
/// a partial file: the data goes to a temporary file in the same directory (so the final rename
/// stays on one file system) and is moved over the target only on <see cref="Commit"/>, after the
/// file is flushed to disk; the directory is flushed after the rename, so the new name survives a
/// power cut too. A writer disposed without committing deletes its temporary file, so an
/// interrupted download or a failed check leaves the target untouched. Any I/O error of a write
/// made through <see cref="Write"/> or <see cref="WriteAllBytes"/> becomes one
/// <see cref="IOException"/> naming the target, not the temporary file.
/// </summary>
internal sealed partial class AtomicFile : IDisposable
{
    private readonly string _targetPath;
    private bool _committed;

    private AtomicFile(string targetPath, string tempPath, FileStream stream)
    {
        _targetPath = targetPath;
        TempPath = tempPath;
        Stream = stream;
    }

    /// <summary>
    /// Tests only: called with a stage ("fsync" before the file is flushed to disk, "rename" before it is moved into
    /// place, "committed" once it is in place and its directory flushed) and the target's full path. An exception
    /// thrown from it stands for an I/O error at that stage, or, at "committed", for the process dying right after
    /// the file became visible. Per asynchronous flow, so parallel tests do not see each other's faults.
    /// </summary>
    internal static readonly AsyncLocal<Action<string, string>?> FaultInjection = new();

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
    /// <exception cref="IOException">The file could not be written; the message names <paramref name="path"/>.</exception>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Writes <paramref name="path"/> atomically with <paramref name="write"/>, which fills the stream.</summary>
    /// <param name="path">The target.</param>
    /// <param name="write">Writes the content.</param>
    /// <exception cref="IOException">The file could not be written (disk full, read-only, a failed flush); the
    /// message names <paramref name="path"/>, and the target keeps its old content.</exception>
    public static void Write(string path, Action<FileStream> write) => WriteAll([path], (_, stream) => write(stream));

    /// <summary>
    /// Writes several files all or nothing: each is written in full to its temporary file first (a full disk shows
    /// there), then they take their places in order; if one cannot, those already in place get their old content back
    /// (or are removed where there was none), so a failure leaves every target as it was.
    /// </summary>
    /// <param name="paths">The targets.</param>
    /// <param name="write">Writes the content of the file at an index of <paramref name="paths"/>.</param>
    /// <exception cref="IOException">A file could not be written or take its place; the message names it; no target
    /// changed.</exception>
    public static void WriteAll(IReadOnlyList<string> paths, Action<int, FileStream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        WriteAll(paths, 0, write, static (index, stream, _, write) => write(index, stream));
    }

    /// <summary>Writes <paramref name="path"/> atomically from <paramref name="state"/>, which may be a span: content
    /// too large to copy into one more array is written straight from where it lies.</summary>
    /// <typeparam name="TState">What <paramref name="write"/> reads.</typeparam>
    /// <param name="path">The target.</param>
    /// <param name="state">Passed to <paramref name="write"/>.</param>
    /// <param name="write">Writes the content.</param>
    /// <exception cref="IOException">As <see cref="Write(string, Action{FileStream})"/>.</exception>
    public static void Write<TState>(string path, TState state, Action<FileStream, TState> write) where TState : allows ref struct
    {
        ArgumentNullException.ThrowIfNull(write);
        WriteAll([path], state, write, static (_, stream, state, write) => write(stream, state));
    }

    // The one implementation: write(index, stream, state, argument) fills the file at each index of paths.
    private static void WriteAll<TState, TArgument>(IReadOnlyList<string> paths, TState state, TArgument argument,
        Action<int, FileStream, TState, TArgument> write) where TState : allows ref struct
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(write);
        string[] targets = [.. paths.Select(Path.GetFullPath)];
        var files = new List<AtomicFile>();
        // The old content of each target but the last, kept until the last is in place.
        var backups = new string?[targets.Length];
        int current = 0;
        string? temp = null;
        try
        {
            for (current = 0; current < targets.Length; current++)
            {
                var file = Create(targets[current]);
                files.Add(file);
                temp = file.TempPath;
                write(current, file.Stream, state, argument);
            }
            for (int i = 0; i < targets.Length - 1; i++)
                if (File.Exists(targets[i]))
                {
                    backups[i] = files[i].TempPath + ".previous";
                    File.Copy(targets[i], backups[i]!);
                }
            for (current = 0; current < targets.Length; current++)
            {
                temp = files[current].TempPath;
                try
                {
                    files[current].Commit();
                }
                catch when (File.Exists(files[current].TempPath))
                {
                    // This one did not take its place: put back the old content of those that did (or none, as before).
                    for (int i = 0; i < current; i++)
                    {
                        if (backups[i] is string backup)
                            File.Move(backup, targets[i], overwrite: true);
                        else
                            File.Delete(targets[i]);
                        backups[i] = null;
                    }
                    throw;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e.Data[TranslatedKey] is null)
        {
            string target = targets[Math.Min(current, targets.Length - 1)];
            string message = e.Message;
            if (temp is not null)
                message = message.Replace($" : '{temp}'", "").Replace($"'{temp}'", "").Replace(temp, target);
            var error = new IOException($"{target}: not saved: {message.TrimEnd('.', ' ')}", e);
            error.Data[TranslatedKey] = true;
            throw error;
        }
        finally
        {
            foreach (var file in files)
                file.Dispose();
            foreach (string? backup in backups)
                if (backup is not null)
                    File.Delete(backup);
        }
    }

    private const string TranslatedKey = "IlgpuVae.AtomicFile";

    /// <summary>Flushes the content to disk, moves it over the target, and flushes the directory.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        // Without flushing to disk a crash right after the rename could leave an empty file
        // under the final name on some file systems.
        Inject("fsync");
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        Inject("rename");
        File.Move(TempPath, _targetPath, overwrite: true);
        _committed = true;
        SyncDirectory(Path.GetDirectoryName(_targetPath)!);
        Inject("committed");
    }

    /// <summary>Deletes the temporary file unless the content was committed.</summary>
    public void Dispose()
    {
        if (_committed)
        {
            return;
        }

        try
        {
            // Closing flushes what is buffered, which fails again on a full disk; the handle closes regardless.
            Stream.Dispose();
        }
        catch (IOException)
        {
        }
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

    /// <summary>
    /// Deletes the temporary files that writers killed mid-write left in <paramref name="directory"/> (this class's
    /// <c>.NAME.GUID.tmp</c> and the <c>NAME.tmp-HEX</c> of earlier versions). Call it only while no other writer
    /// can be at work there (under the run directory's lock).
    /// </summary>
    /// <param name="directory">The directory.</param>
    /// <returns>The files deleted.</returns>
    public static IReadOnlyList<string> DeleteLeftovers(string directory)
    {
        var deleted = new List<string>();
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            if (!LeftoverName().IsMatch(Path.GetFileName(path)))
                continue;
            try
            {
                File.Delete(path);
                deleted.Add(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left for the next start: it is garbage either way, never read.
            }
        }
        return deleted;
    }

    [GeneratedRegex(@"^(\..+\.[0-9a-f]{32}\.tmp|.+\.tmp-[0-9a-f]{16})$")]
    private static partial Regex LeftoverName();

    /// <summary>Flushes a directory's entries (a rename into it) to disk; where directories cannot be opened
    /// (Windows) the rename is durable once the file system says so.</summary>
    /// <param name="directory">The directory.</param>
    /// <exception cref="IOException">The flush failed.</exception>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
            return;
        int fd = Native.Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
            return; // Not allowed to open it: the rename stands, only its durability is the file system's.
        try
        {
            if (Native.Fsync(fd) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                // EINVAL: the file system does not sync directories (some FUSE and network mounts).
                if (errno != 22)
                    throw new IOException($"{directory}: flushing the directory failed ({Marshal.GetPInvokeErrorMessage(errno)})");
            }
        }
        finally
        {
            _ = Native.Close(fd);
        }
    }

    /// <summary>Reads up to <paramref name="maxBytes"/> bytes of a file without the advisory lock that .NET takes
    /// on every open (so a file another process holds locked can still be read); null when it cannot be read.</summary>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">The most bytes to read.</param>
    /// <returns>The bytes read, or null.</returns>
    public static byte[]? ReadUnlocked(string path, int maxBytes)
    {
        if (OperatingSystem.IsWindows())
            return null;
        int fd = Native.Open(path, 0);
        if (fd < 0)
            return null;
        try
        {
            var buffer = new byte[maxBytes];
            nint read = Native.Read(fd, buffer, maxBytes);
            return read < 0 ? null : buffer[..(int)read];
        }
        finally
        {
            _ = Native.Close(fd);
        }
    }

    private void Inject(string stage) => FaultInjection.Value?.Invoke(stage, _targetPath);

    private static partial class Native
    {
        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static partial int Fsync(int fd);

        [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
        public static partial nint Read(int fd, byte[] buffer, nint count);

        [LibraryImport("libc", EntryPoint = "close")]
        public static partial int Close(int fd);
    }
}
