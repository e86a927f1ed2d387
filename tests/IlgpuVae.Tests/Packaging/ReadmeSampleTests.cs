using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
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

    // "Your own images": the C# block is OwnImagesSnippet's body, which runs; every "ilgpu-vae train" line runs on small
    // data of the names it uses (with --epochs 1, an --out and --device cpu added).
    [Fact]
    public void Readme_YourOwnImages_SnippetAndCommandsRun()
    {
        string root = TestData.RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        int section = readme.IndexOf("## Your own images", StringComparison.Ordinal);
        Assert.True(section >= 0, "README has no 'Your own images' section");
        int sectionEnd = readme.IndexOf("\n## ", section + 1, StringComparison.Ordinal);
        string text = readme[section..sectionEnd];

        string source = File.ReadAllText(Path.Combine(root, "tests", "IlgpuVae.Tests", "Packaging", "OwnImagesSnippet.cs")).ReplaceLineEndings("\n");
        int begin = source.IndexOf("// README begin\n", StringComparison.Ordinal) + "// README begin\n".Length;
        int stop = source.LastIndexOf('\n', source.IndexOf("// README end", StringComparison.Ordinal)) + 1;
        string snippet = string.Concat(source[begin..stop].Split('\n').Select(line => line.Length >= 8 ? line[8..] + "\n" : line));
        int start = text.IndexOf("```csharp\n", StringComparison.Ordinal) + "```csharp\n".Length;
        Assert.Equal(snippet.TrimEnd(), text[start..text.IndexOf("```", start, StringComparison.Ordinal)].TrimEnd());

        // 110 images: a tenth held out still fills the ten test pictures drawn after each epoch.
        var (images, labels) = ColouredShapes.Make(110, 1);
        var (result, samples) = OwnImagesSnippet.Run(images.Select(b => b / 255f).ToArray(), labels, 110);
        Assert.Equal(2, result.Epochs.Count);
        Assert.Equal((16, 3, 32, 32, 16 * 3 * 32 * 32), (samples.Count, samples.Channels, samples.Height, samples.Width, samples.Values.Length));

        using var dir = new TempDirectory();
        ColouredShapes.WriteFolder(dir.File("shapes"), 24, 12);
        // Pictures of many sizes for --image-size.
        Directory.CreateDirectory(dir.File("photos"));
        for (int i = 0; i < 110; i++)
            IlgpuVae.Imaging.Png.WriteGray(dir.File($"photos/{i}.png"), 40 + i % 7, 70 - i % 5, new byte[(40 + i % 7) * (70 - i % 5)]);
        ImageSourceTests.WriteNpyBytes(dir.File("images.npy"), [110, 32, 32, 3], images);
        ImageSourceTests.WriteNpyLabels(dir.File("labels.npy"), labels);
        var commands = text.Split('\n').Where(line => line.StartsWith("ilgpu-vae train ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, commands.Length);
        for (int i = 0; i < commands.Length; i++)
        {
            var args = commands[i].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..]
                .Select(arg => Path.Exists(dir.File(arg)) ? dir.File(arg) : arg).ToArray();
            var (code, _, err) = IlgpuVae.Tests.Cli.CliRunner.Run([.. args, "--epochs", "1", "--out", dir.File($"run{i}"), "--device", "cpu"]);
            Assert.True(code == 0, $"{commands[i]}: {err}");
            Assert.True(File.Exists(Path.Combine(dir.File($"run{i}"), "model.safetensors")));
        }
    }

    // "As a library": the progress block is ProgressSnippet's body, which runs on a small VAE.
    [Fact]
    public void Readme_ProgressSnippet_IsCompiledAndRuns()
    {
        string root = TestData.RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        int section = readme.IndexOf("## As a library", StringComparison.Ordinal);
        Assert.True(section >= 0, "README has no 'As a library' section");
        int at = readme.IndexOf("var progress = new Progress<WorkProgress>", section, StringComparison.Ordinal);
        Assert.True(at >= 0, "README's 'As a library' has no progress snippet");
        int start = readme.LastIndexOf("```csharp\n", at, StringComparison.Ordinal) + "```csharp\n".Length;
        string block = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];

        string source = File.ReadAllText(Path.Combine(root, "tests", "IlgpuVae.Tests", "Packaging", "ProgressSnippet.cs")).ReplaceLineEndings("\n");
        int begin = source.IndexOf("// README begin\n", StringComparison.Ordinal) + "// README begin\n".Length;
        int stop = source.LastIndexOf('\n', source.IndexOf("// README end", StringComparison.Ordinal)) + 1;
        string snippet = string.Concat(source[begin..stop].Split('\n').Select(line => line.Length >= 8 ? line[8..] + "\n" : line));
        Assert.Equal(snippet.TrimEnd(), block.TrimEnd());

        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var trainer = new VaeTrainer(device, SyntheticIdx.InMemory(200, 20),
            new TrainingOptions { Epochs = 2, Model = new VaeConfig(SyntheticIdx.Height * SyntheticIdx.Width, [8], 2) });
        var run = ProgressSnippet.Run(trainer);
        Assert.False(run.Diverged);
        Assert.Null(run.Divergence);
        Assert.Equal([1, 2], run.Epochs.Select(e => e.Epoch));
    }

    [Fact]
    public void SampleProject_ReferencesPackagesOnly_NeverTheRepositorysProjects()
    {
        string project = File.ReadAllText(Path.Combine(TestData.RepositoryRoot(), "samples", "EmbedVae", "EmbedVae.csproj"));
        Assert.DoesNotContain("ProjectReference", project);
        Assert.Contains("<PackageReference Include=\"IlgpuVae\"", project);
    }

}
