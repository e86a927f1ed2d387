using System.Text.Json;
using IlgpuVae.Compute;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using Microsoft.ML.OnnxRuntime;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

[Collection(SharedDevices.Name)]
public sealed class ExportCliTests
{
    [Fact]
    public void Export_Cvae_WritesTwoFilesThatOnnxRuntimeLoads()
    {
        using var directory = new TempDirectory();
        string path = directory.File("model.safetensors");
        using (var device = ComputeDevice.Open(DeviceChoice.Cpu))
        using (var model = VaeModel.Create(device, new VaeConfig(784, [16], 2, 10), capacity: 4))
            model.Save(path);
        string output = directory.File("exported");

        var (code, stdout, stderr) = Run("export", "--model", path, "--format", "onnx", "--out", output, "--json");

        Assert.True(code == 0, stderr);
        var wrote = JsonDocument.Parse(stdout).RootElement.GetProperty("wrote").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal([Path.Combine(output, "encoder.onnx"), Path.Combine(output, "decoder.onnx")], wrote);
        using var decoder = new InferenceSession(wrote[1]);
        Assert.Equal("cvae", decoder.ModelMetadata.CustomMetadataMap["model"]);
    }

    [Fact]
    public void Export_DefaultOut_IsOnnxBesideTheModel()
    {
        using var directory = new TempDirectory();
        string path = directory.File("model.safetensors");
        using (var device = ComputeDevice.Open(DeviceChoice.Cpu))
        using (var model = VaeModel.Create(device, new VaeConfig(784, [16], 2), capacity: 4))
            model.Save(path);

        var (code, stdout, stderr) = Run("export", "--model", path);

        Assert.True(code == 0, stderr);
        Assert.Contains("encoder.onnx", stdout);
        Assert.True(File.Exists(directory.File("onnx/encoder.onnx")));
        Assert.True(File.Exists(directory.File("onnx/decoder.onnx")));
    }

    [Fact]
    public void Export_Opset_WritesThatOpsetAndItsIrVersion_DefaultIs13()
    {
        using var directory = new TempDirectory();
        string path = directory.File("model.safetensors");
        using (var device = ComputeDevice.Open(DeviceChoice.Cpu))
        using (var model = VaeModel.Create(device, new VaeConfig(784, [16], 2), capacity: 4))
            model.Save(path);

        foreach (var (args, opset, ir) in new (string[] Args, int Opset, int Ir)[] { ([], 13, 7), (["--opset", "17"], 17, 8), (["--opset", "23"], 23, 11) })
        {
            string output = directory.File($"opset-{opset}");
            var (code, stdout, stderr) = Run(["export", "--model", path, "--out", output, "--json", .. args]);

            Assert.True(code == 0, stderr);
            var details = JsonDocument.Parse(stdout).RootElement.GetProperty("details");
            Assert.Equal(opset, details.GetProperty("opset").GetInt32());
            Assert.Equal(ir, details.GetProperty("ir_version").GetInt32());
            var proto = IlgpuVae.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(output, "decoder.onnx")));
            Assert.Equal(opset, proto.OpsetImport.Single().Version);
            Assert.Equal(ir, proto.IrVersion);
        }
    }

    [Theory]
    [InlineData("option '--opset': ONNX opset 12 cannot hold the exported graphs", "export", "--model", "m.safetensors", "--opset", "12")]
    [InlineData("option '--opset': ONNX opset 24 is newer than the exporter knows", "export", "--model", "m.safetensors", "--opset", "24")]
    [InlineData("option '--opset' expects an integer", "export", "--model", "m.safetensors", "--opset", "latest")]
    public void Export_OpsetItCannotWrite_IsAUsageError(string fragment, params string[] args)
    {
        var (code, _, stderr) = Run(args);
        Assert.Equal(2, code);
        AssertOneLineError(stderr, fragment);
    }

    [Theory]
    [InlineData("must be one of", "export", "--model", "m.safetensors", "--format", "tflite")]
    [InlineData("option '--model' is required", "export")]
    [InlineData("no such model file", "export", "--model", "missing.safetensors")]
    public void Export_BadArguments_AreOneLineErrors(string fragment, params string[] args)
    {
        var (code, _, stderr) = Run(args);
        Assert.NotEqual(0, code);
        AssertOneLineError(stderr, fragment);
    }
}
