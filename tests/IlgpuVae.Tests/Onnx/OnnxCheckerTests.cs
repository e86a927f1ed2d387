using System.Diagnostics;
using IlgpuVae.Models;
using IlgpuVae.Onnx;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using Xunit;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Onnx;

/// <summary>
/// The reference checker, onnx.checker.check_model with full_check (shape inference included), accepts the files
/// of every model kind, at the default opset and at every opset from 13 up to the newest that checker knows. On CI
/// that is Debian's python3-onnx 1.12 (opsets up to 17, IR up to 8), which .ci/run installs; the files that opset 23
/// made (IR 11) were refused by it ("Your model ir_version is higher than the checker's").
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class OnnxCheckerTests(ITestOutputHelper output)
{
    private const string Script = """
        import sys, onnx
        failed = 0
        for path in sys.argv[1:]:
            model = onnx.load(path)
            try:
                onnx.checker.check_model(model, full_check=True)
                print("OK", path, "ir", model.ir_version, "opset", model.opset_import[0].version)
            except Exception as e:
                failed += 1
                print("REFUSED", path, str(e).splitlines()[0] if str(e) else type(e).__name__)
        sys.exit(1 if failed else 0)
        """;

    [OnnxCheckerFact]
    public void OnnxChecker_AcceptsEveryKind_AtEveryOpsetItKnows()
    {
        var (python, version, newest) = OnnxChecker.Found!.Value;
        output.WriteLine($"{python}: onnx {version}, opsets up to {newest}");
        Assert.True(newest >= ModelExport.Opset, $"onnx {version} knows opsets up to {newest}, older than the default {ModelExport.Opset}");
        VaeConfig[] kinds =
        [
            new VaeConfig(784, [16], 2) { Activation = HiddenActivation.Tanh },
            new VaeConfig(784, [16], 2, 10),
            VaeConfig.Convolutional(latent: 2, channels: [4, 8], dense: [16]),
            ..OnnxOpsetTests.EveryOperator,
        ];
        using var directory = new TempDirectory();
        var files = new List<string>();
        for (int opset = ModelExport.MinimumOpset; opset <= Math.Min(newest, ModelExport.MaximumOpset); opset++)
        {
            for (int k = 0; k < kinds.Length; k++)
            {
                using var model = VaeModel.Create(OpsHarness.Device("vectorized"), kinds[k], seed: 3, capacity: 4);
                var pair = ModelExport.ToOnnx(model, directory.File($"{model.Config.Kind}-{k}-opset{opset}"), opset);
                files.AddRange([pair.Encoder, pair.Decoder]);
            }
        }

        var (code, text) = OnnxChecker.Run(python, ["-c", Script, .. files]);

        output.WriteLine(text);
        Assert.True(code == 0, text);
        Assert.Equal(files.Count, text.Split('\n').Count(line => line.StartsWith("OK ", StringComparison.Ordinal)));
    }
}

/// <summary>Finds a python3 with the onnx module: the one on PATH, else Debian's /usr/bin/python3.</summary>
internal static class OnnxChecker
{
    private static readonly Lazy<(string Python, string Version, int NewestOpset)?> Probe = new(() =>
    {
        foreach (string python in new[] { "python3", "/usr/bin/python3" })
        {
            var (code, text) = Run(python, ["-c", "import onnx, onnx.defs; print(onnx.__version__, onnx.defs.onnx_opset_version())"]);
            var parts = text.Trim().Split(' ');
            if (code == 0 && parts.Length == 2 && int.TryParse(parts[1], out int newest))
                return (python, parts[0], newest);
        }
        return null;
    });

    public static (string Python, string Version, int NewestOpset)? Found => Probe.Value;

    public static (int Code, string Output) Run(string python, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"{python} did not finish in 2 minutes");
            }
            return (process.ExitCode, stdout + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"{python}: {e.Message}");
        }
    }
}

/// <summary>A fact that is skipped, visibly, where no python3 has the onnx module (.ci/run installs Debian's python3-onnx).</summary>
public sealed class OnnxCheckerFactAttribute : FactAttribute
{
    public OnnxCheckerFactAttribute()
    {
        if (OnnxChecker.Found is null)
            Skip = "no python3 with the onnx module (Debian: apt-get install python3-onnx); the ONNX checker test needs it";
    }
}
