using System.Runtime.InteropServices;

namespace IlgpuVae.Data;

/// <summary>
/// Tells whether a path names a regular file without opening it. Opening a FIFO for reading blocks until a writer
/// appears (and the process then ignores the first Ctrl+C or SIGTERM, which only ask to stop after the current step),
/// a device streams forever, and a directory fails with a message about access: every input file (a model, a data
/// file) is checked here first, so each of those is one line naming the path instead. A final symbolic link is
/// followed, as reading the file would. And writes files atomically (<see cref="WriteAtomically(string, Action{Stream})"/>),
/// so that what a reader finds at a path is always a complete file.
/// </summary>
public static partial class RegularFile
{
    /// <summary>What is at <paramref name="path"/> if it is not a regular file: "is a directory" or
    /// "not a regular file (a FIFO)" and the like; null for a regular file, or for nothing at all (the open that
    /// follows reports a missing file as it always has).</summary>
    /// <param name="path">The path.</param>
    /// <returns>The problem, or null.</returns>
    public static string? Problem(string path) => Kind(path) switch
    {
        null or "a regular file" => null,
        "a directory" => "is a directory, not a file",
        string kind => $"not a regular file ({kind})",
    };

    /// <summary>Throws if <paramref name="path"/> exists and is not a regular file.</summary>
    /// <param name="path">The path.</param>
    /// <exception cref="IOException">"PATH: not a regular file (a FIFO)", "PATH: is a directory, not a file".</exception>
    public static void Require(string path)
    {
        if (Problem(path) is string problem)
            throw new IOException($"{path}: {problem}");
    }

    /// <summary>What <paramref name="path"/> names, following a final link: "a regular file", "a directory",
    /// "a FIFO", "a character device", "a block device", "a socket"; null if nothing is there (or a link that
    /// leads nowhere).</summary>
    /// <param name="path">The path.</param>
    /// <returns>The kind, or null.</returns>
    public static string? Kind(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
            return "a directory";
        if (!File.Exists(path))
            return null;
        // .NET reports a FIFO or a device as an ordinary file (FileAttributes.Normal): ask stat(2). It goes through
        // the runtime's own native shim, which every .NET on Unix ships and which gives st_mode in one layout on
        // every Unix (glibc's struct stat differs by architecture). Windows has no FIFOs or devices in the file system.
        if (OperatingSystem.IsWindows())
            return "a regular file";
        int mode;
        try
        {
            var status = new byte[256]; // FileStatus is under 160 bytes; Mode is the int at offset 4
            if (Native.Stat(path, status) != 0)
                return File.Exists(path) ? "a regular file" : null; // gone meanwhile, or not ours to stat: the open decides
            mode = BitConverter.ToInt32(status, 4);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return "a regular file"; // no shim (never seen): the file is opened as before
        }
        return (mode & 0xF000) switch
        {
            0x8000 => "a regular file",
            0x4000 => "a directory",
            0x1000 => "a FIFO",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => $"a file of type 0{Convert.ToString(mode & 0xF000, 8)}",
        };
    }

    /// <summary>
    /// Writes <paramref name="path"/> so that readers see either its old content or the complete new one, never a
    /// partial file: <paramref name="write"/> fills a temporary file in the same directory (created if missing), which
    /// is flushed to disk and then renamed over the target, the directory flushed after it. The way every file of the
    /// library is written (checkpoints, pictures, data).
    /// </summary>
    /// <param name="path">The target.</param>
    /// <param name="write">Writes the content to the stream it is given.</param>
    /// <exception cref="IOException">The file could not be written (disk full, read-only, a failed flush); one line,
    /// "PATH: not saved: why"; the target keeps its old content and no temporary file is left.</exception>
    public static void WriteAtomically(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        AtomicFile.Write(path, write);
    }

    /// <summary>
    /// Writes several files all or nothing, each as <see cref="WriteAtomically(string, Action{Stream})"/> does: all are
    /// written in full first, then they take their places in order, and if one cannot, those already in place get
    /// their old content back (or are removed where there was none). A pair that only makes sense together (an
    /// encoder and its decoder) is never left mixed.
    /// </summary>
    /// <param name="paths">The targets.</param>
    /// <param name="write">Writes the content of the file at the given index of <paramref name="paths"/>.</param>
    /// <exception cref="IOException">A file could not be written or take its place; one line, "PATH: not saved: why",
    /// naming it; no target changed.</exception>
    public static void WriteAtomically(IReadOnlyList<string> paths, Action<int, Stream> write)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(write);
        foreach (string path in paths)
            ArgumentException.ThrowIfNullOrEmpty(path, nameof(paths));
        AtomicFile.WriteAll(paths, write);
    }

    private static partial class Native
    {
        // int32_t SystemNative_Stat(const char* path, FileStatus* output): stat(2), following links.
        [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int Stat(string path, [Out] byte[] status);
    }
}
