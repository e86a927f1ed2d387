using IlgpuVae.Checkpoints;
using IlgpuVae.Cli;
using IlgpuVae.Compute;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// Issue 22's case 12: a model whose finite weights overflow float32 gave "points must be finite (Parameter
/// 'trainPoints')", a JsonSerializer error with --json, NaN and exit 0 in text mode, and an empty HTTP 500 in the
/// explorer. Now every command says the same one line, naming the model file.
/// </summary>
public sealed class NonFiniteOutputCliTests
{
    private const string Fragment = "gives outputs that are not finite";

    // Finite weights, but so large that the encoder's means and the decoder's pixels overflow.
    private static string OverflowingModel(TempDirectory directory)
    {
        string path = directory.File("overflowing.safetensors");
        using (var device = ComputeDevice.Open(DeviceChoice.Cpu))
        using (var model = VaeModel.Create(device, new VaeConfig(784, [16], 2), capacity: 4))
            model.Save(path);
        var file = SafeTensors.Read(path);
        // Every weight near float32's largest: sums of their products overflow to infinities of both signs.
        var tensors = file.Tensors.Select(t => t.Name.EndsWith(".weight", StringComparison.Ordinal)
            ? t with { Data = t.Data.Select(v => v >= 0 ? 3e38f : -3e38f).ToArray() }
            : t).ToList();
        SafeTensors.Write(path, file.Metadata, tensors);
        return path;
    }

    [MnistTheory]
    [InlineData("evaluate", "--iw-samples", "5")]
    [InlineData("evaluate", "--iw-samples", "5", "--json")]
    [InlineData("evaluate", "--no-clustering")]
    [InlineData("reconstruct")]
    [InlineData("latent")]
    [InlineData("interpolate")]
    public void EveryCommand_SaysTheSameOneLine_NamingTheModel(params string[] command)
    {
        using var directory = new TempDirectory();
        string model = OverflowingModel(directory);
        var (code, output, err) = Run([.. command, "--model", model, "--data", TestData.MnistDirectory!, "--device", "cpu",
            .. command[0] == "evaluate" ? Array.Empty<string>() : ["--out", directory.File("picture.png")]]);
        Assert.Equal(1, code);
        AssertOneLineError(err, $"{model}: {Fragment}");
        Assert.DoesNotContain("NaN", output);
        Assert.False(File.Exists(directory.File("picture.png")));
    }

    // The explorer refuses to start (it encodes its scatter first) rather than serving NaN or empty 500s.
    [MnistFact]
    public void Explore_RefusesToStart_NamingTheModel()
    {
        using var directory = new TempDirectory();
        string model = OverflowingModel(directory);
        var stderr = new StringWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int code = Program.Run(["explore", "--model", model, "--data", TestData.MnistDirectory!, "--port", "0", "--device", "cpu"],
            TextWriter.Null, stderr, stop.Token);
        Assert.Equal(1, code);
        AssertOneLineError(stderr.ToString(), $"{model}: {Fragment}");
    }

    // The library gives an app the same error, from every call that returns model outputs.
    [Fact]
    public void Library_OutputsThatAreNotFinite_AreOneError()
    {
        using var directory = new TempDirectory();
        string path = OverflowingModel(directory);
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Load(device, path);
        var images = new float[3 * 784];
        Array.Fill(images, 0.5f);
        foreach (var call in new Action[] { () => model.Encode(images), () => model.Reconstruct(images), () => model.Decode([1e30f, -1e30f]) })
        {
            var e = Assert.Throws<InvalidDataException>(call);
            Assert.StartsWith($"{path}: {Fragment}", e.Message);
        }
    }
}
