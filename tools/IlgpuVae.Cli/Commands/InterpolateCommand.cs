using System.CommandLine;
using IlgpuVae.Analysis;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using IlgpuVae.Models;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>interpolate</c>: decoded latent paths between test images or digit classes.</summary>
public static class InterpolateCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("interpolate",
        "decoded images along latent paths between two test images or two digit classes' mean codes, one row per path",
        [
            ModelOption,
            .. DataOptions,
            new("--images", "pairs of test images by index, e.g. 3:10,42:7 (their posterior means)", "PAIRS"),
            new("--digits", "pairs of digit classes, e.g. 1:7,3:8 (the mean code of each class over the test set); default 0:1,2:3,4:5,6:7,8:9 without --images", "PAIRS"),
            new("--steps", "decoded points per path, ends included", "N", "10"),
            new("--method", "linear, slerp (spherical) or both (two rows per pair)", "METHOD", "both"),
            DigitOption,
            OutOption("output file (default: interpolate.png beside the model)"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli));

    private static int Run(ParsedOptions options, CliContext cli)
    {
        var (stdout, stderr, token) = cli;
        int steps = options.Int("--steps", 2);
        var (linear, spherical) = options.Choice("--method", new Dictionary<string, (bool Linear, bool Spherical)>
        {
            ["linear"] = (true, false), ["slerp"] = (false, true), ["both"] = (true, true),
        });
        int methods = (linear ? 1 : 0) + (spherical ? 1 : 0);
        var imagePairs = options.Given("--images") ? Pairs(options, "--images") : [];
        var digitPairs = options.Given("--digits") ? Pairs(options, "--digits") : [];
        string path = ModelPath(options);
        using var device = OpenDevice(options);
        var data = LoadData(options, stderr, trainLimit: 1, token: token);
        var test = data.Test;
        if (digitPairs.Count > 0 && !data.HasLabels)
            throw new UsageException($"--digits interpolates between class means, and the {data.Name} images have no labels; use --images A:B");
        // The default: paths between consecutive classes, or between test images where there are no labels.
        if (imagePairs.Count == 0 && digitPairs.Count == 0)
        {
            var pairs = Enumerable.Range(0, 5).Select(i => (2 * i, 2 * i + 1));
            if (data.HasLabels)
                digitPairs = pairs.Where(p => p.Item2 < data.Classes).ToList();
            else
                imagePairs = pairs.Where(p => p.Item2 < test.Count).ToList();
        }
        foreach (var (a, b) in digitPairs)
            if (Math.Max(a, b) >= data.Classes)
                throw new UsageException($"--digits: unknown class {Math.Max(a, b)}; the classes are 0-{data.Classes - 1}");
        foreach (var (a, b) in imagePairs)
            CheckIndices([a, b], test.Count, "--images");
        CheckPicture((long)steps * methods * (imagePairs.Count + digitPairs.Count), $"--steps {steps}");
        using var model = VaeModel.Load(device, path);
        model.CheckCompatible(data.Test);
        int? digit = DigitFor(options, model.Config, required: true);
        int z = model.Config.Latent;
        var paths = new List<LatentPathEnds>();
        if (imagePairs.Count > 0)
        {
            var indices = imagePairs.SelectMany(p => new[] { p.A, p.B }).ToArray();
            var labels = indices.Select(i => (int)test.Labels[i]).ToArray();
            var (mu, _) = model.Encode(test.Gather(indices), model.Config.IsConditional ? labels : default);
            foreach (var (p, (a, b)) in imagePairs.Index())
                paths.Add(new LatentPathEnds($"#{a}->#{b}", mu[(2 * p * z)..((2 * p + 1) * z)], mu[((2 * p + 1) * z)..((2 * p + 2) * z)],
                    test.Gather([a]).Values, test.Gather([b]).Values));
        }
        if (digitPairs.Count > 0)
        {
            var (means, _) = LatentPaths.ClassMeans(model.LatentMeans(test), test.Labels.Select(l => (int)l).ToArray(), z, data.Classes);
            foreach (var (a, b) in digitPairs)
                paths.Add(new LatentPathEnds($"{a}->{b}", means[(a * z)..((a + 1) * z)], means[(b * z)..((b + 1) * z)]));
        }
        // With image pairs only, the test images themselves frame each row.
        bool framed = digitPairs.Count == 0;
        string legend = string.Join("; ", new[]
        {
            imagePairs.Count == 0 ? null : framed ? "#a->#b: test images a and b (their posterior means), shown at both ends"
                : "#a->#b: test images a and b (their posterior means)",
            digitPairs.Count > 0 ? "a->b: mean codes of digits a and b over the test set" : null,
        }.Where(s => s is not null));
        string title = $"Decoded latent paths, t = 0 to 1 across; lin: straight line, slerp: spherical\n{legend}\n" +
            $"{model.Config}{(digit is int k ? $", decoded as digit {k}" : "")}";
        var figure = DigitFigures.Interpolations(model, paths, steps, linear, spherical, digit, title);
        var rowLabels = figure.RowLabels!;
        string output = options.String("--out") ?? BesideModel(path, "interpolate.png");
        DigitFigureImage.Save(output, figure);
        Report(options, stdout, path, [output], $"wrote {rowLabels.Count} paths of {steps} steps to {output}",
            new { rows = rowLabels, steps });
        return 0;
    }
}
