using System.CommandLine;
using IlgpuVae.Compute;
using IlgpuVae.Models;
using IlgpuVae.Onnx;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>export</c>: writes a model as ONNX files (encoder.onnx, decoder.onnx) for ONNX Runtime.</summary>
public static class ExportCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("export",
        "write the model as encoder.onnx and decoder.onnx (float32, dynamic batch, ONNX opset " + ModelExport.Opset + " unless --opset says otherwise)",
        [
            ModelOption,
            new("--format", "the file format: onnx", "FORMAT", "onnx"),
            new("--opset", $"the ONNX operator set to import, {ModelExport.MinimumOpset} to {ModelExport.MaximumOpset}, with its IR version; " +
                $"{ModelExport.Opset}, the lowest that holds the graphs, is read by the most runtimes and checkers", "N", ModelExport.Opset.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("--out", "output directory (default: onnx/ beside the model)", "DIR") { Aliases = ["-o"] },
            JsonOption,
        ],
        options => Run(options, cli));

    private static int Run(ParsedOptions options, CliContext cli)
    {
        options.Choice("--format", new Dictionary<string, string> { ["onnx"] = "onnx" });
        int opset = options.Int("--opset");
        if (ModelExport.OpsetProblem(opset) is string problem)
            throw new UsageException($"option '--opset': {problem}");
        string path = ModelPath(options);
        string directory = options.String("--out") ?? BesideModel(path, "onnx");
        // Export reads the weights once; the CPU accelerator loads them fastest.
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Load(device, path, capacity: 1);
        if (model.Config.IsTwoLayer)
            throw new UsageException($"{path}: ONNX export is built for one stochastic layer; a model with two (--preset burda2) is not exported");
        // The last moment a stop can take effect: the export itself is all or nothing and over in milliseconds.
        cli.Token.ThrowIfCancellationRequested();
        var files = ModelExport.ToOnnx(model, directory, opset);
        int ir = ModelExport.IrVersionOf(opset);
        Report(options, cli.Out, path, [files.Encoder, files.Decoder],
            $"wrote {files.Encoder} and {files.Decoder} ({model.Config}, opset {opset}, IR version {ir})",
            new { format = "onnx", opset, ir_version = ir, config = model.Config.ToMetadata() });
        return 0;
    }
}
