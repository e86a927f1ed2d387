using System.Text;
using IlgpuVae.Compute;

namespace IlgpuVae.Training;

/// <summary>
/// What a run directory must allow before the first step, so that a run does not train for an epoch and then fail on
/// its first save: every path the run will write within the OS's limits, and room for a checkpoint where the OS tells
/// the free space.
/// </summary>
internal static class RunPaths
{
    // The longest name a run writes in its directory: a temporary file of the state, ".training-state.safetensors.<32 hex>.tmp"
    // (AtomicFile's pattern), with room for the longer names of the pictures' and exports' temporaries.
    internal const int LongestNameWritten = 80;

    // Linux's PATH_MAX (4096 bytes with the terminating NUL) and NAME_MAX; Windows' long paths.
    private static int MaxPathBytes => OperatingSystem.IsWindows() ? 32_767 : 4_095;
    private const int MaxNameBytes = 255;

    /// <summary>Refuses a run directory whose path, or the path of a file the run writes in it, the OS cannot take.</summary>
    /// <param name="directory">The run directory's full path.</param>
    /// <exception cref="IOException">A path is too long; one line, before anything is created.</exception>
    internal static void CheckLengths(string directory)
    {
        foreach (var part in directory.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar))
        {
            int bytes = Encoding.UTF8.GetByteCount(part);
            if (bytes > MaxNameBytes)
                throw new IOException($"run directory '{Shorten(directory)}': its part '{Shorten(part)}' is {bytes} bytes long; a name may have at most {MaxNameBytes}");
        }
        int longest = Encoding.UTF8.GetByteCount(directory) + 1 + LongestNameWritten;
        if (longest > MaxPathBytes)
            throw new IOException($"run directory '{Shorten(directory)}': the files of a run there would have paths of up to {longest} bytes; " +
                $"the system takes at most {MaxPathBytes}: choose a shorter --out");
    }

    /// <summary>
    /// Refuses to start a run where the free space the OS reports cannot hold its checkpoint and model (written beside
    /// the previous ones before they are replaced). Where the OS tells nothing, nothing is refused.
    /// </summary>
    /// <param name="directory">The run directory's full path (it need not exist yet).</param>
    /// <param name="parameters">The model's parameters.</param>
    /// <exception cref="IOException">Not enough room; one line naming the directory.</exception>
    internal static void CheckFreeSpace(string directory, long parameters)
    {
        long needed = BytesPerSave(parameters);
        long? free = FreeSpace(directory);
        if (free is long available && available < needed)
            throw new IOException($"{directory}: {ComputeDevice.FormatBytes(available)} free, and a checkpoint of this model with its " +
                $"exported weights needs {ComputeDevice.FormatBytes(needed)}");
    }

    /// <summary>The bytes one save writes: the state (weights and Adam's two moments), the model, and a megabyte for
    /// metadata, metrics and pictures.</summary>
    internal static long BytesPerSave(long parameters) => parameters * sizeof(float) * 4 + (1L << 20);

    private static long? FreeSpace(string directory)
    {
        // The directory may not exist yet: its nearest existing ancestor is on the same file system.
        string? existing = directory;
        while (existing is not null && !Directory.Exists(existing))
            existing = Path.GetDirectoryName(existing);
        if (existing is null)
            return null;
        try
        {
            return new DriveInfo(existing).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : $"{text[..28]}...{text[^28..]}";
}
