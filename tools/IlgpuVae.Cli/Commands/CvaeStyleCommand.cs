using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using IlgpuVae.Classification;
using IlgpuVae.Conditional;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using IlgpuVae.Models;
using IlgpuVae.Training;
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
            DataOption,
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
        var data = LoadData(options, stderr, token: token);
        if (count > data.Test.Count)
            throw new UsageException($"--count {count} is more than the {data.Test.Count} test images");
        using var device = OpenDevice(options);
        using var model = LoadConditional(device, path);
        int d = model.Config.InputSize, classes = model.Config.Classes;
        var images = data.Test.Images.AsSpan(0, count * d).ToArray().Select(p => p / 255f).ToArray();
        var labels = data.Test.Labels.Take(count).Select(l => (int)l).ToArray();
        var transferred = ConditionalGeneration.TransferStyle(model, images, labels);
        // One row per input: the test digit itself, then its code decoded as every digit.
        var grid = new float[count * (classes + 1) * d];
        for (int i = 0; i < count; i++)
        {
            images.AsSpan(i * d, d).CopyTo(grid.AsSpan(i * (classes + 1) * d));
            transferred.AsSpan(i * classes * d, classes * d).CopyTo(grid.AsSpan((i * (classes + 1) + 1) * d));
        }
        CreateParentDirectory(output);
        DigitGrid.Save(output, grid, count, classes + 1, new GridLabels
        {
            Title = "Style transfer: each test digit (left) decoded as 0-9",
            ColumnLabels = ["input", .. Enumerable.Range(0, classes).Select(c => c.ToString(CultureInfo.InvariantCulture))],
        });
        stdout.WriteLine($"wrote {output}: {count} test digits, each decoded as 0-{classes - 1}");
        return 0;
    }
}
