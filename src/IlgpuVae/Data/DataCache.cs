namespace IlgpuVae.Data;

/// <summary>Where data sets are kept: the directory named by the user or by <c>ILGPU_VAE_DATA</c>, else a per-user
/// cache (one folder per known data set).</summary>
internal static class DataCache
{
    /// <summary>The environment variable naming MNIST's directory when none is given.</summary>
    internal const string DataEnvironmentVariable = "ILGPU_VAE_DATA";

    /// <summary>
    /// The data directory to use: <paramref name="explicitDirectory"/> if given, else the
    /// <c>ILGPU_VAE_DATA</c> environment variable, else <see cref="DefaultCacheDirectory()"/>.
    /// </summary>
    /// <param name="explicitDirectory">The <c>--data DIR</c> argument, or null if not given.</param>
    /// <returns>An absolute path; the directory may not exist yet.</returns>
    internal static string ResolveDataDirectory(string? explicitDirectory) =>
        ResolveDataDirectory(explicitDirectory, Environment.GetEnvironmentVariable, OperatingSystem.IsWindows());

    /// <summary>
    /// The per-user cache directory for MNIST: <c>$XDG_CACHE_HOME/ilgpu-vae/mnist</c>, else
    /// <c>~/.cache/ilgpu-vae/mnist</c>; on Windows <c>%LOCALAPPDATA%\ilgpu-vae\mnist</c>.
    /// </summary>
    /// <returns>An absolute path; the directory may not exist yet.</returns>
    internal static string DefaultCacheDirectory() =>
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
    /// The per-user cache directory of a known data set: MNIST's is <see cref="DefaultCacheDirectory()"/>, and the
    /// others lie beside it, named as the set (<c>~/.cache/ilgpu-vae/fashion-mnist</c>).
    /// </summary>
    /// <param name="dataSet">A name from <see cref="DataFiles.KnownSets"/>.</param>
    /// <returns>An absolute path; the directory may not exist yet.</returns>
    /// <exception cref="ArgumentException">The name is not a known data set.</exception>
    internal static string CacheDirectory(string dataSet)
    {
        _ = DataFiles.KnownSetSha256(dataSet);
        string mnist = DefaultCacheDirectory();
        return dataSet == DataFiles.Mnist ? mnist : Path.Combine(Path.GetDirectoryName(mnist)!, dataSet);
    }
}
