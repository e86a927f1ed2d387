using IlgpuVae.Data;
using Xunit;

namespace IlgpuVae.Tests.Data;

/// <summary>
/// Locates the real MNIST files for tests. The repository's CI and developer machines keep them
/// in <c>shared/mnist</c> beside the clone, so the lookup walks up from the test binaries
/// rather than hard-coding a path.
/// </summary>
public static class TestData
{
    private static readonly Lazy<string?> s_mnistDirectory = new(FindMnistDirectory);

    /// <summary>The directory holding the four MNIST files, or null if there is none.</summary>
    public static string? MnistDirectory => s_mnistDirectory.Value;

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

        return null;
    }
}

/// <summary>A fact that is skipped, rather than failed, where the real MNIST files are not available.</summary>
public sealed class MnistFactAttribute : FactAttribute
{
    public MnistFactAttribute()
    {
        if (TestData.MnistDirectory is null)
        {
            Skip = "real MNIST not found: expected shared/mnist beside the repository";
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
