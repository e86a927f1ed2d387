using System.Diagnostics;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Packaging;

/// <summary>
/// README's library program is samples/EmbedVae/Program.cs, which CI builds against the packed packages and runs
/// (samples/run): the two must stay the same text, so the README's snippet is one that compiles and runs. Every other C#
/// block of README is the text of a snippet class in this folder (<see cref="ReadmeSnippets"/>), so it compiles, and
/// runs where it can.
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
        ReadmeSnippets.AssertBlockIsSnippet("## Your own images", "var all = ImageSet.FromFloats(", "OwnImagesSnippet.cs");

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
        ReadmeSnippets.AssertBlockIsSnippet("## As a library", "var progress = new Progress<WorkProgress>", "ProgressSnippet.cs");

        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var trainer = new VaeTrainer(device, SyntheticIdx.InMemory(200, 20),
            new TrainingOptions { Epochs = 2, Model = new VaeConfig(SyntheticIdx.Height * SyntheticIdx.Width, [8], 2) });
        var run = ProgressSnippet.Run(trainer);
        Assert.False(run.Diverged);
        Assert.Null(run.Divergence);
        Assert.Equal([1, 2], run.Epochs.Select(e => e.Epoch));
    }

    // "As a library": the ImageBatch block is ImageBatchSnippet's body, which runs on a small VAE.
    [Fact]
    public void Readme_ImageBatchSnippet_IsCompiledAndRuns()
    {
        ReadmeSnippets.AssertBlockIsSnippet("## As a library", "var digits = model.Sample(16, seed: 1);", "ImageBatchSnippet.cs");

        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Create(device, new VaeConfig(784, [16], 3));
        var (digits, first, codes) = ImageBatchSnippet.Run(model);
        Assert.Equal((16, 1, 28, 28), (digits.Count, digits.Channels, digits.Height, digits.Width));
        Assert.Equal(digits.Values[..784], first);
        Assert.Equal(model.LatentMeans(digits.Values), codes);
        Assert.Equal(16 * 3, codes.Length);
    }

    // "As a library": the IlgpuVae.Imaging block and the conditional-model block are ImagingSnippet's and
    // ConditionalSnippet's regions, which compile with the tests (they write to, and load from, the README's paths, so
    // they are not run; what they call has its own tests).
    [Fact]
    public void Readme_ImagingAndConditionalSnippets_AreCompiled()
    {
        ReadmeSnippets.AssertBlockIsSnippet("## As a library", "using IlgpuVae.Imaging;", "ImagingSnippet.cs");
        ReadmeSnippets.AssertBlockIsSnippet("## As a library", "using IlgpuVae.Classification;", "ConditionalSnippet.cs");
    }

    // "Exporting to ONNX": the ONNX Runtime block is OnnxRuntimeSnippet's text, run on an exported VAE of Z = 2, and
    // docs/examples/onnx-decode.cs builds and runs as its README line says, drawing the same digit.
    [Fact]
    public async Task Readme_OnnxRuntimeSnippet_AndExample_RunOnAnExportedModel()
    {
        ReadmeSnippets.AssertBlockIsSnippet("## Exporting to ONNX", "new InferenceSession(", "OnnxRuntimeSnippet.cs");

        using var dir = new TempDirectory();
        float[] ours;
        using (var device = ComputeDevice.Open(DeviceChoice.Cpu))
        using (var model = VaeModel.Create(device, new VaeConfig(784, [32], 2)))
        {
            IlgpuVae.Onnx.ModelExport.ToOnnx(model, dir.Path);
            ours = model.Decode([0.5f, -1f]).Values;
        }
        float[] pixels = OnnxRuntimeSnippet.Run(dir.Path);
        Assert.Equal(784, pixels.Length);
        for (int i = 0; i < pixels.Length; i++)
            Assert.True(Math.Abs(pixels[i] - ours[i]) <= 1e-5f, $"pixel {i}: ONNX Runtime {pixels[i]}, ours {ours[i]}");

        string root = TestData.RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        Assert.Contains("dotnet run docs/examples/onnx-decode.cs -- runs/vae/onnx 0.5 -1", readme);
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in (string[])["run", "docs/examples/onnx-decode.cs", "--", dir.Path, "0.5", "-1"])
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        using var kill = timeout.Token.Register(() => process.Kill(entireProcessTree: true)); // a hung build ends with the test
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        string stdout = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"onnx-decode.cs exited with {process.ExitCode}: {stdout}{await stderr}");
        string[] lines = stdout.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Matches(@"-2, z = \[0[.,]5, -1\]$", lines[^29]);
        string[] rows = [.. Enumerable.Range(0, 28).Select(r => string.Concat(pixels.Skip(r * 28).Take(28).Select(p => " .:-=+*#%@"[(int)Math.Min(9, p * 10)])))];
        Assert.Equal(rows, lines[^28..]);
    }

    [Fact]
    public void SampleProject_ReferencesPackagesOnly_NeverTheRepositorysProjects()
    {
        string project = File.ReadAllText(Path.Combine(TestData.RepositoryRoot(), "samples", "EmbedVae", "EmbedVae.csproj"));
        Assert.DoesNotContain("ProjectReference", project);
        Assert.Contains("<PackageReference Include=\"IlgpuVae\"", project);
    }

}
