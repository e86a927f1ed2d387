using IlgpuVae.Tests.Data;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace IlgpuVae.Tests.Packaging;

/// <summary>
/// What a package page shows: docs/package/README.md (not the repository's README, whose relative links and images
/// do not resolve there), its program the same text as samples/FirstProgram (which samples/run builds against the packed
/// IlgpuVae and IlgpuVae.Onnx and runs), a 128x128 icon, and every library and the tool a package. samples/run checks
/// the packed files themselves (README, icon, the tool without PDBs or XML docs).
/// </summary>
public sealed partial class PackageReadmeTests
{
    private static readonly string Root = TestData.RepositoryRoot();

    [Fact]
    public void PackageReadme_ProgramIsTheFirstProgramSampleVerbatim()
    {
        string readme = File.ReadAllText(Path.Combine(Root, "docs", "package", "README.md")).ReplaceLineEndings("\n");
        string program = File.ReadAllText(Path.Combine(Root, "samples", "FirstProgram", "Program.cs")).ReplaceLineEndings("\n");
        int start = readme.IndexOf("```csharp\n", StringComparison.Ordinal) + "```csharp\n".Length;
        int end = readme.IndexOf("```", start, StringComparison.Ordinal);
        Assert.Equal(program, readme[start..end]);
        string project = File.ReadAllText(Path.Combine(Root, "samples", "FirstProgram", "FirstProgram.csproj"));
        Assert.DoesNotContain("ProjectReference", project);
        Assert.Contains("<PackageReference Include=\"IlgpuVae.Onnx\"", project);
    }

    [Fact]
    public void PackageReadme_LinksAndImagesAreAbsolute_AndItIsShort()
    {
        string readme = File.ReadAllText(Path.Combine(Root, "docs", "package", "README.md"));
        var targets = MarkdownLink().Matches(readme).Select(m => m.Groups[1].Value).ToArray();
        Assert.NotEmpty(targets);
        Assert.All(targets, target => Assert.StartsWith("https://", target));
        Assert.DoesNotContain("<img", readme);
        Assert.True(readme.Length < 8000, $"the package README is {readme.Length} characters");
    }

    [Fact]
    public void Icon_IsA128x128Png()
    {
        byte[] png = File.ReadAllBytes(Path.Combine(Root, "docs", "package", "icon.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }, png[..8]);
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);
        Assert.Equal(128, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(128, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    [Fact]
    public void Packages_TakeThePackageReadmeIconAndReleaseNotes_AndOnnxIsOne()
    {
        var props = XDocument.Load(Path.Combine(Root, "Directory.Build.props"));
        string Property(string name) => props.Descendants(name).Single().Value;
        Assert.Equal("README.md", Property("PackageReadmeFile"));
        Assert.Equal("icon.png", Property("PackageIcon"));
        Assert.False(string.IsNullOrWhiteSpace(Property("PackageReleaseNotes")));
        var packed = props.Descendants("None").Select(n => n.Attribute("Include")!.Value).ToArray();
        Assert.Contains("$(MSBuildThisFileDirectory)docs/package/README.md", packed);
        Assert.Contains("$(MSBuildThisFileDirectory)docs/package/icon.png", packed);
        foreach (string project in new[] { "src/IlgpuVae/IlgpuVae.csproj", "src/IlgpuVae.Imaging/IlgpuVae.Imaging.csproj",
                     "src/IlgpuVae.Onnx/IlgpuVae.Onnx.csproj", "tools/IlgpuVae.Cli/IlgpuVae.Cli.csproj" })
            Assert.Equal("true", XDocument.Load(Path.Combine(Root, project)).Descendants("IsPackable").Single().Value);
    }

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex MarkdownLink();

}
