using System.CommandLine;
using System.Globalization;
using IlgpuVae.Compute;
using IlgpuVae.Models;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>cvae</c>: groups a conditional VAE's <c>sample</c>, <c>style</c> and <c>agreement</c>, and what they share.</summary>
public static class CvaeCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Group("cvae",
        "a conditional VAE's digits on request: 'cvae sample', 'cvae style' (style transfer) or 'cvae agreement' (with a classifier)",
        "say 'cvae sample', 'cvae style' or 'cvae agreement'",
        CvaeSampleCommand.Create(cli),
        CvaeStyleCommand.Create(cli),
        CvaeAgreementCommand.Create(cli));

    public static OptionSpec CvaeModelOption => new("--model", "a CVAE model.safetensors written by 'train --kind cvae'", "FILE") { Aliases = ["-m"], Required = true };

    public static VaeModel LoadConditional(ComputeDevice device, string path)
    {
        RequireInputFile(path, "model");
        var model = VaeModel.Load(device, path);
        var config = model.Config;
        if (!config.IsConditional)
        {
            model.Dispose();
            throw new InvalidDataException($"{path}: holds a {config} model, which takes no labels; train one with 'train --kind cvae'");
        }
        return model;
    }

    public static float[] Scales(ParsedOptions options, bool single)
    {
        string text = options.RequiredString("--scale");
        var scales = text.Split(',', StringSplitOptions.TrimEntries).Select(part =>
            float.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out float s) && float.IsFinite(s) && s >= 0
                ? s
                : throw new UsageException($"option '--scale' expects numbers >= 0, got '{text}'")).ToArray();
        if (scales.Length > 1 && single)
            throw new UsageException($"option '--scale' takes one number here, got '{text}'");
        return scales;
    }
}
