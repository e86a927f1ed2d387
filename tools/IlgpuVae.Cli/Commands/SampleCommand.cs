using System.CommandLine;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using IlgpuVae.Models;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>sample</c>: draws from the prior as a labelled grid, an IDX file or a .npy array.</summary>
public static class SampleCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("sample",
        "decode draws from the prior z ~ N(0, I) (two stochastic layers: z2 ~ N(0, I), then z1 ~ p(z1|z2)) into a labelled grid, an IDX image file " +
        "or a .npy array (a model of vectors: rows in the data's units)",
        [
            ModelOption,
            CountOption("images to draw (a conditional model without --digit draws count/10 per digit)", "64"),
            new("--columns", "grid columns (default: a square grid)", "N"),
            SeedOption("noise seed", "7"),
            new("--class", "conditional models: draw only this digit (0-9; --digit D says the same)", "D"),
            new("--digit", "conditional models: draw only this digit", "D"),
            new("--format", "png; idx: an IDX image file of bytes round(255 p) that MNIST tooling reads (grey models); or npy: a NumPy " +
                "float32 array of the probabilities, N x H x W (grey) or N x C x H x W (colour); a model of vectors writes only npy, N x D values " +
                "in the data's units (its default)", "FORMAT", "png"),
            OutOption("output file (default: sample.png beside the model; sample.idx or sample.npy with --format idx or npy, or for a model of vectors)"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli));

    private static int Run(ParsedOptions options, CliContext cli)
    {
        var (stdout, _, _) = cli;
        int count = options.Int("--count", 1), seed = options.Int("--seed", 0);
        int? columns = options.OptionalInt("--columns", 1, count);
        string format = options.Choice("--format", new Dictionary<string, string> { ["png"] = "png", ["idx"] = "idx", ["npy"] = "npy" });
        // Before the model is read (a model of vectors given no --format is told the same: npy writes more).
        if (format == "png")
            CheckPicture(count, $"--count {count}", "--format idx or npy writes more");
        string path = ModelPath(options);
        using var device = OpenDevice(options);
        using var model = VaeModel.Load(device, path);
        // A model of vectors draws values in the data's units, which no picture or byte image holds: rows of a .npy array.
        bool vectors = model.Config.InputMean is not null;
        if (vectors && options.Given("--format") && format != "npy")
            throw new UsageException($"--format {format} writes images; this model draws vectors of {model.Config.InputSize} values: use --format npy");
        if (vectors && options.Given("--columns"))
            throw new UsageException("--columns lays out a picture; this model draws vectors, written as rows of a .npy array");
        if (vectors && options.String("--out") is { } named && !named.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"--out {named}: this model draws vectors, written as a .npy array: name a .npy file");
        if (vectors)
            format = "npy";
        if (format == "idx" && model.Config.ImageChannels != 1)
            throw new UsageException("--format idx holds grey images; this model draws colour: use --format npy or png");
        int? digit = DigitFor(options, model.Config, required: false);
        ImageBatch images;
        int[]? labels = null;
        GridLabels grid;
        int rows;
        string prior = $"{model.Config}, seed {seed}";
        if (model.Config.IsConditional && digit is null)
        {
            // One row per digit, count/classes draws each.
            int classes = model.Config.Classes;
            int perDigit = Math.Max(1, count / classes);
            labels = Enumerable.Range(0, classes * perDigit).Select(i => i / perDigit).ToArray();
            images = model.Sample(labels.Length, seed, labels, cli.Token);
            columns = perDigit;
            rows = classes;
            grid = new GridLabels
            {
                Title = $"{labels.Length} draws from the prior z ~ N(0, I), decoded for each digit\n{prior}",
                RowLabels = Enumerable.Range(0, classes).Select(d => $"digit {d}").ToArray(),
            };
        }
        else
        {
            labels = digit is int d ? Enumerable.Repeat(d, count).ToArray() : null;
            images = model.Sample(count, seed, labels, cli.Token);
            columns ??= (int)Math.Ceiling(Math.Sqrt(count));
            rows = (count + columns.Value - 1) / columns.Value;
            grid = new GridLabels
            {
                Title = $"{count} draws from the prior {(model.Config.IsTwoLayer ? "z2 ~ N(0, I), z1 ~ p(z1|z2)" : "z ~ N(0, I)")}, decoded{(digit is int c ? $" as digit {c}" : "")}\n{prior}",
            };
        }
        int drawn = images.Count;
        string output = options.String("--out") ?? BesideModel(path, $"sample.{format}");
        if (format == "npy")
        {
            if (vectors)
                ImageSet.WriteNpyRows(output, images, model.Config.InputSize);
            else
                ImageSet.WriteNpy(output, images, model.Config.ImageChannels, model.Config.ImageHeight, model.Config.ImageWidth);
        }
        else if (format == "idx")
        {
            ImageSet.WriteIdxImages(output, images, model.Config.ImageHeight, model.Config.ImageWidth);
        }
        else
        {
            DigitGrid.Save(output, images, rows, columns.Value, grid);
        }
        Report(options, stdout, path, [output], $"wrote {drawn} samples to {output}", new { samples = drawn, seed, format, labels });
        return 0;
    }

}
