using System.CommandLine;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using IlgpuVae.Models;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>reconstruct</c>: test digits above their reconstructions.</summary>
public static class ReconstructCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("reconstruct",
        "test digits above their reconstructions (decoded posterior means), in pairs of rows",
        [
            ModelOption,
            .. DataOptions,
            new("--indices", "test images to show, e.g. 0,7,42 (default: --count random ones)", "LIST"),
            CountOption("random test images to show when --indices is not given", "10"),
            SeedOption("seed of the random choice", "1"),
            new("--columns", "images per pair of rows", "N", "10"),
            OutOption("output file (default: reconstruct.png beside the model)"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli));

    private static int Run(ParsedOptions options, CliContext cli)
    {
        var (stdout, stderr, token) = cli;
        int columns = options.Int("--columns", 1);
        int? count = options.Given("--indices") ? null : options.Int("--count", 1);
        int seed = options.Int("--seed");
        int[]? chosen = count is null ? options.IntList("--indices", min: 0) : null;
        string path = ModelPath(options);
        using var device = OpenDevice(options);
        var data = LoadData(options, stderr, trainLimit: 1, token: token);
        int[] indices = count is int n
            ? RandomIndices(data.Test.Count, Math.Min(n, data.Test.Count), seed)
            : CheckIndices(chosen!, data.Test.Count, "--indices");
        using var model = VaeModel.Load(device, path);
        model.CheckCompatible(data.Test);
        // A model of binary images reconstructs the binarised test set it is evaluated on.
        var test = model.ImagesAsTrained(data.Test);
        var images = test.Gather(indices);
        var labels = indices.Select(i => (int)test.Labels[i]).ToArray();
        var reconstructions = model.Reconstruct(images, model.Config.IsConditional ? labels : default);
        string which = count is null ? $"test images {Abbreviate(indices)}" : $"{indices.Length} random test images (seed {seed})";
        var figure = DigitFigures.Reconstructions(images, reconstructions, model.Config.ImageHeight, model.Config.ImageWidth, columns,
            indices.Select(i => $"#{i}").ToArray(),
            $"Test digits (input rows) and their reconstructions (recon rows: decoded posterior means)\n{model.Config}, {which}",
            model.Config.ImageChannels);
        string output = options.String("--out") ?? BesideModel(path, "reconstruct.png");
        DigitFigureImage.Save(output, figure);
        Report(options, stdout, path, [output], $"wrote {indices.Length} test digits and their reconstructions to {output}",
            new { indices, labels });
        return 0;
    }

}
