using System.CommandLine;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using static IlgpuVae.Cli.Commands.CvaeCommand;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>cvae style</c>: style transfer, each test digit decoded as every digit.</summary>
public static class CvaeStyleCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("style",
        "style transfer: encode test digits with their labels, decode each as every digit (one row per input)",
        [
            CvaeModelOption,
            CountOption("test digits (default 10)", null),
            OutOption("the .png (default cvae-style.png)"),
            .. DataOptions,
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli));

    private static int Run(ParsedOptions options, CliContext cli)
    {
        var (stdout, stderr, token) = cli;
        string path = options.RequiredString("--model");
        int count = options.OptionalInt("--count", 1) ?? 10;
        string output = options.String("--out") ?? "cvae-style.png";
        using var device = OpenDevice(options);
        var data = LoadData(options, stderr, token: token);
        if (count > data.Test.Count)
            throw new UsageException($"--count {count} is more than the {data.Test.Count} test images");
        using var model = LoadConditional(device, path);
        model.CheckCompatible(data.Test);
        int d = model.Config.InputSize, classes = model.Config.Classes;
        var images = data.Test.Gather(Enumerable.Range(0, count).ToArray());
        var labels = data.Test.Labels.Take(count).Select(l => (int)l).ToArray();
        var transferred = model.TransferStyle(images, labels);
        // One row per input: the test digit itself, then its code decoded as every digit.
        var figure = DigitFigures.StyleTransfer(images, transferred, classes, model.Config.ImageHeight, model.Config.ImageWidth, $"Style transfer: each test digit (left) decoded as 0-{classes - 1}",
            model.Config.ImageChannels, ImageData.ClassNamesIn(model.Metadata));
        CreateParentDirectory(output);
        DigitFigureImage.Save(output, figure);
        stdout.WriteLine($"wrote {output}: {count} test digits, each decoded as 0-{classes - 1}");
        return 0;
    }
}
