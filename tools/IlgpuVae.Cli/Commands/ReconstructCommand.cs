using System.CommandLine;
using System.Globalization;
using IlgpuVae.Analysis;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using IlgpuVae.Models;
using IlgpuVae.Training;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>reconstruct</c>: test digits above their reconstructions.</summary>
public static class ReconstructCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("reconstruct",
        "test digits above their reconstructions (decoded posterior means), in pairs of rows",
        [
            ModelOption,
            DataOption,
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
        var data = LoadData(options, stderr, trainLimit: 1, token: token);
        var test = data.Test;
        int[] indices = count is int n
            ? RandomIndices(test.Count, Math.Min(n, test.Count), seed)
            : CheckIndices(chosen!, test.Count, "--indices");
        using var device = OpenDevice(options);
        using var model = VaeModel.Load(device, path);
        var images = Pixels.Gather(test, indices);
        var labels = indices.Select(i => (int)test.Labels[i]).ToArray();
        var reconstructions = model.Reconstruct(images, model.Config.IsConditional ? labels : default);
        columns = Math.Min(columns, indices.Length);
        int pairs = (indices.Length + columns - 1) / columns, d = model.Config.InputSize;
        // Rows alternate inputs and reconstructions; the last pair's unused cells are drawn empty.
        var cells = new float[2 * pairs * columns * d];
        var empty = new List<int>();
        for (int p = 0; p < pairs; p++)
            for (int c = 0; c < columns; c++)
            {
                int i = p * columns + c, inputCell = 2 * p * columns + c, reconCell = inputCell + columns;
                if (i >= indices.Length)
                {
                    empty.AddRange([inputCell, reconCell]);
                    continue;
                }
                images.AsSpan(i * d, d).CopyTo(cells.AsSpan(inputCell * d, d));
                reconstructions.AsSpan(i * d, d).CopyTo(cells.AsSpan(reconCell * d, d));
            }
        string which = count is null ? $"test images {Abbreviate(indices)}" : $"{indices.Length} random test images (seed {seed})";
        var grid = new GridLabels
        {
            Title = $"Test digits (input rows) and their reconstructions (recon rows: decoded posterior means)\n{model.Config}, {which}",
            RowLabels = Enumerable.Range(0, 2 * pairs).Select(r => r % 2 == 0 ? "input" : "recon").ToArray(),
            ColumnLabels = pairs == 1 ? indices.Select(i => $"#{i}").ToArray() : null,
        };
        string output = options.String("--out") ?? BesideModel(path, "reconstruct.png");
        SaveGrid(output, cells, 2 * pairs, columns, grid, empty);
        Report(options, stdout, path, [output], $"wrote {indices.Length} test digits and their reconstructions to {output}",
            new { indices, labels });
        return 0;
    }

    // A digit grid whose cells in `empty` are drawn as empty cells rather than as black images.
    private static void SaveGrid(string path, float[] cells, int rows, int columns, GridLabels labels, IReadOnlyList<int> empty)
    {
        var image = DigitGrid.Render(cells, rows, columns, labels);
        var layout = DigitGrid.ComputeLayout(rows, columns, labels);
        foreach (int cell in empty)
        {
            var (x, y) = layout.CellOrigin(cell / columns, cell % columns);
            image.FillRect(x, y, layout.CellPixels, layout.CellPixels, DigitGrid.EmptyCellColor);
        }
        Png.Write(path, image);
    }
}
