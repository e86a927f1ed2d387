using System.Text.Json;
using IlgpuVae.Compute;
using Xunit;
using static IlgpuVae.Tests.Benchmarks.BenchRunner;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Benchmarks;

/// <summary>
/// The benchmarks tool (tools/IlgpuVae.Benchmarks): its command line (its commands' own help, typos, bare runs,
/// one-line errors, the ops table), ilgpu-vae without the benchmarks it used to hold, and no benchmark code in what
/// ships.
/// </summary>
public sealed class BenchToolTests
{
    [Fact]
    public void BenchmarkCode_IsTheToolsAlone_AndInternal()
    {
        var tool = typeof(global::IlgpuVae.Benchmarks.Program).Assembly;
        Assert.Equal("IlgpuVae.Benchmarks", tool.GetName().Name);
        Assert.Empty(tool.GetExportedTypes());
        Assert.Contains(tool.GetTypes(), t => t.Name == "Benchmark" && t.Namespace == "IlgpuVae.Benchmarks");
        // The assemblies the packages carry hold none of it.
        foreach (string name in new[] { "IlgpuVae", "IlgpuVae.Imaging", "IlgpuVae.Onnx", "IlgpuVae.Explorer", "ilgpu-vae" })
        {
            var product = System.Reflection.Assembly.Load(name);
            Assert.DoesNotContain(product.GetTypes(), t => t.Namespace?.StartsWith("IlgpuVae.Benchmarks", StringComparison.Ordinal) == true
                || t.Name.Contains("Benchmark", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("ops", "--repeats", "--profile")]
    [InlineData("train", "--profile", "--repeats")]
    public void CommandHelp_IsItsOwn(string command, string ownOption, string othersOption)
    {
        var (code, output, _) = Bench(command, "--help");
        Assert.Equal(0, code);
        Assert.Contains($"IlgpuVae.Benchmarks {command} [options]", output);
        Assert.Contains(ownOption, output);
        Assert.DoesNotContain(othersOption, output);
    }

    [Fact]
    public void Help_ListsBothCommands_AndBareIsAUsageError()
    {
        var (code, output, _) = Bench("--help");
        Assert.Equal(0, code);
        Assert.Contains("ops", output);
        Assert.Contains("train", output);
        Assert.DoesNotContain("--device", output);
        (code, output, _) = Bench();
        Assert.Equal(2, code);
        Assert.Contains("train", output);
    }

    [Fact]
    public void Typo_SuggestsTheNearestCommandAndExitsTwo()
    {
        var (code, _, err) = Bench("opz");
        Assert.Equal(2, code);
        AssertOneLineError(err, "did you mean 'ops'?");
        (code, _, err) = Bench("ops", "--repeat", "3");
        Assert.Equal(2, code);
        AssertOneLineError(err, "did you mean '--repeats'?");
        (code, _, err) = Bench("ops", "--repeats", "0");
        Assert.Equal(2, code);
        AssertOneLineError(err, "'--repeats' must be at least 1");
    }

    [Fact]
    public void MissingDevice_OneLineErrorWithTheDeviceHint()
    {
        if (ComputeDevice.List(out _).Any(d => d.Kind == DeviceChoice.OpenCL))
            return;
        var (code, _, err) = Bench("ops", "--device", "opencl", "--repeats", "1");
        Assert.Equal(1, code);
        AssertOneLineError(err, "use --device auto or --device cpu");
    }

    [Fact]
    public void Ops_PrintsThePeakThenOneRowPerOp_OrOneJsonObject()
    {
        var (code, output, err) = Bench("ops", "--device", "cpu", "--cpu-ops", "vectorized", "--repeats", "1");
        Assert.True(code == 0, err);
        var lines = output.TrimEnd().Split('\n');
        Assert.Matches(@"^host FP32 peak: \d+\.\d GFLOP/s \(FMA loop on \d+ threads\)$", lines[0].TrimEnd());
        Assert.StartsWith("device: ", lines[1]);
        // The default VAE's nine ops, each a row: implementation, label, rate, unit, microseconds.
        Assert.Equal(9, lines.Length - 2);
        Assert.All(lines[2..], line => Assert.Matches(@"^  vectorized +\S.* +\d+\.\d (GFLOP/s|GB/s ) +\d+\.\d us$", line.TrimEnd()));
        Assert.Contains(lines, line => line.Contains("gemm NT 128x400x784 (forward)", StringComparison.Ordinal));

        (code, output, err) = Bench("ops", "--device", "cpu", "--cpu-ops", "vectorized", "--repeats", "1", "--json");
        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(output);
        Assert.True(json.RootElement.GetProperty("peak_gflops").GetDouble() > 0);
        var ops = json.RootElement.GetProperty("ops").EnumerateArray().ToArray();
        Assert.Equal(9, ops.Length);
        Assert.All(ops, op => Assert.Equal("cpu", op.GetProperty("device").GetString()));
        Assert.All(ops, op => Assert.True(op.GetProperty("rate").GetDouble() > 0));
    }

    [Fact]
    public void IlgpuVae_HasNoBenchCommand_AndItsHelpSaysWhereTheBenchmarksAre()
    {
        var (code, _, err) = Run("bench", "ops");
        Assert.Equal(2, code);
        AssertOneLineError(err, "unknown command 'bench'");
        (code, var output, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("tools/IlgpuVae.Benchmarks", output);
    }
}
