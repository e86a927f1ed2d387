using System.CommandLine;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using static IlgpuVae.Cli.Commands.CvaeCommand;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>cvae sample</c>: digits of the requested classes, as a grid or MNIST-format IDX files.</summary>
public static class CvaeSampleCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("sample",
        "draw digits of the requested classes: one row per digit 0-9, or --count of one --class",
        [
            CvaeModelOption,
            new("--class", "only this digit (0-9)", "N"),
            CountOption("images per digit (default 10, or 64 with --class)", null),
            new("--format", "png (a grid) or idx (MNIST-format images and their requested labels)", "KIND", "png"),
            OutOption("the .png, or with --format idx the prefix of PREFIX-images-idx3-ubyte and PREFIX-labels-idx1-ubyte (default cvae-samples[.png])") with { ValueName = "PATH" },
            SeedOption("seed of the codes z", "1"),
            new("--scale", "draw z ~ N(0, s^2 I); 1 is the prior", "S", "1"),
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli));

    private static int Run(ParsedOptions options, CliContext cli)
    {
        var (stdout, _, _) = cli;
        string path = options.RequiredString("--model");
        int? only = options.OptionalInt("--class");
        int count = options.OptionalInt("--count", 1) ?? (only is null ? 10 : 64);
        float scale = Scales(options, single: true).Single();
        int seed = options.Int("--seed", 0);
        bool idx = options.Choice("--format", new Dictionary<string, bool> { ["png"] = false, ["idx"] = true });
        string output = options.String("--out") ?? (idx ? "cvae-samples" : "cvae-samples.png");
        using var device = OpenDevice(options);
        using var model = LoadConditional(device, path);
        int classes = model.Config.Classes;
        if (only is int requested && (requested < 0 || requested >= classes))
            throw new UsageException($"--class {requested} is outside 0-{classes - 1}");
        var rows = only is int digit ? [digit] : Enumerable.Range(0, classes).ToArray();
        if (!idx)
            CheckPicture((long)rows.Length * count, $"--count {count}", "--format idx writes more");
        var (images, labels) = model.SampleClasses(rows, count, seed, scale);
        if (idx)
        {
            string imagesPath = output + "-images-idx3-ubyte", labelsPath = output + "-labels-idx1-ubyte";
            CreateParentDirectory(imagesPath);
            ImageSet.WriteIdxImages(imagesPath, images, model.Config.ImageHeight, model.Config.ImageWidth);
            ImageSet.WriteIdxLabels(labelsPath, labels);
            stdout.WriteLine($"wrote {imagesPath} and {labelsPath}: {labels.Length} generated digits and their requested labels");
            return 0;
        }
        CreateParentDirectory(output);
        string where = scale == 1f ? "z ~ N(0, I)" : $"z ~ N(0, {F(scale)}^2 I)";
        if (only is int single)
        {
            int columns = (int)Math.Ceiling(Math.Sqrt(count));
            DigitGrid.Save(output, images, (count + columns - 1) / columns, columns,
                new GridLabels { Title = $"CVAE samples of digit {single}, {where}" });
        }
        else
        {
            DigitGrid.Save(output, images, rows.Length, count, new GridLabels
            {
                Title = $"CVAE samples, one row per requested digit, {where}",
                RowLabels = rows.Select(r => (string?)(ImageData.ClassNamesIn(model.Metadata) is { } names && r < names.Count ? names[r] : $"digit {r}")).ToArray(),
            });
        }
        stdout.WriteLine($"wrote {output}: {labels.Length} generated digits ({(only is int d ? $"digit {d}" : $"{count} of each digit 0-{classes - 1}")})");
        return 0;
    }
}
