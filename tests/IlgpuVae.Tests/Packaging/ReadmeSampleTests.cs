using IlgpuVae.Tests.Data;
using Xunit;

namespace IlgpuVae.Tests.Packaging;

/// <summary>
/// README's library program is samples/EmbedVae/Program.cs, which CI builds against the packed packages and runs
/// (samples/run): the two must stay the same text, so the README's snippet is one that compiles and runs.
/// </summary>
public sealed class ReadmeSampleTests
{
    [Fact]
    public void Readme_LibrarySection_IsTheSampleProgramVerbatim()
    {
        string root = TestData.RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        string program = File.ReadAllText(Path.Combine(root, "samples", "EmbedVae", "Program.cs")).ReplaceLineEndings("\n");

        int section = readme.IndexOf("## As a library", StringComparison.Ordinal);
        Assert.True(section >= 0, "README has no 'As a library' section");
        int start = readme.IndexOf("```csharp\n", section, StringComparison.Ordinal) + "```csharp\n".Length;
        int end = readme.IndexOf("```", start, StringComparison.Ordinal);
        Assert.Equal(program, readme[start..end]);
    }

    [Fact]
    public void SampleProject_ReferencesPackagesOnly_NeverTheRepositorysProjects()
    {
        string project = File.ReadAllText(Path.Combine(TestData.RepositoryRoot(), "samples", "EmbedVae", "EmbedVae.csproj"));
        Assert.DoesNotContain("ProjectReference", project);
        Assert.Contains("<PackageReference Include=\"IlgpuVae\"", project);
    }

}
