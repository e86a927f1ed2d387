using System.Globalization;
using System.Text.Json;
using IlgpuVae.Analysis;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using IlgpuVae.Models;
using IlgpuVae.Training;

namespace IlgpuVae.Cli;

/// <summary>Commands that look into a trained model's latent space: sample, reconstruct, interpolate, manifold, latent.</summary>
public static partial class Commands
{
    internal static OptionSpec ModelOption => new("--model", "a model.safetensors written by 'train'", "FILE");

    private static OptionSpec OutOption(string name) => new("--out", $"output file (default: {name} beside the model)", "FILE");

    private static OptionSpec DigitOption => new("--digit", "conditional models: the digit the decoder is conditioned on", "D");

    private static CommandSpec Sample(TextWriter stdout, TextWriter stderr) => new("sample",
        "decode draws from the prior z ~ N(0, I) into a labelled grid, or into an IDX image file",
        [
            ModelOption,
            new("--count", "images to draw (a conditional model without --digit draws count/10 per digit)", "N", "64"),
            new("--columns", "grid columns (default: a square grid)", "N"),
            new("--seed", "noise seed", "N", "7"),
            new("--class", "conditional models: draw only this digit (0-9; --digit D says the same)", "D"),
            new("--digit", "conditional models: draw only this digit", "D"),
            new("--format", "png, or idx: an IDX image file of bytes round(255 p) that MNIST tooling reads", "FORMAT", "png"),
            OutOption("sample.png, or sample.idx with --format idx"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        (options, _) =>
        {
            int count = options.Int("--count", 1), seed = options.Int("--seed", 0);
            int? columns = options.OptionalInt("--columns", 1);
            string format = options.Choice("--format", new Dictionary<string, string> { ["png"] = "png", ["idx"] = "idx" });
            string path = ModelPath(options);
            using var device = OpenDevice(options);
            using var model = LoadModel(device, path);
            int? digit = DigitFor(options, model.Config, required: false);
            float[] images;
            int[]? labels = null;
            GridLabels grid;
            int rows;
            string prior = $"{model.Config}, seed {seed}";
            if (model.Config.IsConditional && digit is null)
            {
                // One row per digit, count/10 draws each.
                int perDigit = Math.Max(1, count / 10);
                labels = Enumerable.Range(0, 10 * perDigit).Select(i => i / perDigit).ToArray();
                images = model.Sample(labels.Length, (ulong)seed, labels);
                columns = perDigit;
                rows = 10;
                grid = new GridLabels
                {
                    Title = $"{labels.Length} draws from the prior z ~ N(0, I), decoded for each digit\n{prior}",
                    RowLabels = Enumerable.Range(0, 10).Select(d => $"digit {d}").ToArray(),
                };
            }
            else
            {
                labels = digit is int d ? Enumerable.Repeat(d, count).ToArray() : null;
                images = model.Sample(count, (ulong)seed, labels);
                columns ??= (int)Math.Ceiling(Math.Sqrt(count));
                rows = (count + columns.Value - 1) / columns.Value;
                grid = new GridLabels
                {
                    Title = $"{count} draws from the prior z ~ N(0, I), decoded{(digit is int c ? $" as digit {c}" : "")}\n{prior}",
                };
            }
            int drawn = images.Length / model.Config.InputSize;
            string output = options.String("--out") ?? BesideModel(path, format == "idx" ? "sample.idx" : "sample.png");
            if (format == "idx")
            {
                int side = ImageSide(model.Config);
                IdxWriter.WriteImages(output, Pixels.ToBytes(images), drawn, side, side);
            }
            else
            {
                DigitGrid.Save(output, images, rows, columns.Value, grid);
            }
            Report(options, stdout, path, [output], $"wrote {drawn} samples to {output}", new { samples = drawn, seed, format, labels });
            return 0;
        });

    private static CommandSpec Reconstruct(TextWriter stdout, TextWriter stderr) => new("reconstruct",
        "test digits above their reconstructions (decoded posterior means), in pairs of rows",
        [
            ModelOption,
            DataOption,
            new("--indices", "test images to show, e.g. 0,7,42 (default: --count random ones)", "LIST"),
            new("--count", "random test images to show when --indices is not given", "N", "10"),
            new("--seed", "seed of the random choice", "N", "1"),
            new("--columns", "images per pair of rows", "N", "10"),
            OutOption("reconstruct.png"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        (options, token) =>
        {
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
            using var model = LoadModel(device, path);
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
        });

    private static CommandSpec Interpolate(TextWriter stdout, TextWriter stderr) => new("interpolate",
        "decoded images along latent paths between two test images or two digit classes' mean codes, one row per path",
        [
            ModelOption,
            DataOption,
            new("--images", "pairs of test images by index, e.g. 3:10,42:7 (their posterior means)", "PAIRS"),
            new("--digits", "pairs of digit classes, e.g. 1:7,3:8 (the mean code of each class over the test set); default 0:1,2:3,4:5,6:7,8:9 without --images", "PAIRS"),
            new("--steps", "decoded points per path, ends included", "N", "10"),
            new("--method", "linear, slerp (spherical) or both (two rows per pair)", "METHOD", "both"),
            DigitOption,
            OutOption("interpolate.png"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        (options, token) =>
        {
            int steps = options.Int("--steps", 2);
            var methods = options.Choice("--method", new Dictionary<string, PathKind[]>
            {
                ["linear"] = [PathKind.Linear], ["slerp"] = [PathKind.Spherical], ["both"] = [PathKind.Linear, PathKind.Spherical],
            });
            var imagePairs = options.Given("--images") ? Pairs(options, "--images") : [];
            var digitPairs = options.Given("--digits") ? Pairs(options, "--digits")
                : imagePairs.Count == 0 ? [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)] : [];
            foreach (var (a, b) in digitPairs)
                if (Math.Max(a, b) > 9)
                    throw new UsageException($"--digits: unknown class {Math.Max(a, b)}; digits are 0-9");
            string path = ModelPath(options);
            var data = LoadData(options, stderr, trainLimit: 1, token: token);
            var test = data.Test;
            foreach (var (a, b) in imagePairs)
                CheckIndices([a, b], test.Count, "--images");
            using var device = OpenDevice(options);
            using var model = LoadModel(device, path);
            int? digit = DigitFor(options, model.Config, required: true);
            int z = model.Config.Latent, d = model.Config.InputSize;
            var codes = new List<(string Label, float[] From, float[] To)>();
            if (imagePairs.Count > 0)
            {
                var indices = imagePairs.SelectMany(p => new[] { p.A, p.B }).ToArray();
                var labels = indices.Select(i => (int)test.Labels[i]).ToArray();
                var (mu, _) = model.Encode(Pixels.Gather(test, indices), model.Config.IsConditional ? labels : default);
                for (int p = 0; p < imagePairs.Count; p++)
                    codes.Add(($"#{imagePairs[p].A}->#{imagePairs[p].B}", mu[(2 * p * z)..((2 * p + 1) * z)], mu[((2 * p + 1) * z)..((2 * p + 2) * z)]));
            }
            if (digitPairs.Count > 0)
            {
                var (means, _) = LatentPaths.ClassMeans(model.LatentMeans(test), test.Labels.Select(l => (int)l).ToArray(), z, 10);
                foreach (var (a, b) in digitPairs)
                    codes.Add(($"{a}->{b}", means[(a * z)..((a + 1) * z)], means[(b * z)..((b + 1) * z)]));
            }
            // With image pairs only, the test images themselves frame each row.
            bool framed = digitPairs.Count == 0;
            int columns = steps + (framed ? 2 : 0);
            var cells = new List<float>();
            var rowLabels = new List<string>();
            int framedRow = 0;
            foreach (var (label, from, to) in codes)
            {
                foreach (var method in methods)
                {
                    var pathCodes = LatentPaths.Interpolate(from, to, steps, method);
                    var decoded = model.Decode(pathCodes, digit is int c ? Enumerable.Repeat(c, steps).ToArray() : default);
                    if (framed)
                        cells.AddRange(Pixels.Gather(test, [imagePairs[framedRow].A]));
                    cells.AddRange(decoded);
                    if (framed)
                        cells.AddRange(Pixels.Gather(test, [imagePairs[framedRow].B]));
                    rowLabels.Add($"{label} {(method == PathKind.Linear ? "lin" : "slerp")}");
                }
                framedRow++;
            }
            var columnLabels = Enumerable.Range(0, steps).Select(i => (i / (double)(steps - 1)).ToString("0.00", CultureInfo.InvariantCulture)).ToList();
            if (framed)
            {
                // "test" fits a cell at the grid's text scale, so the t labels stay legible.
                columnLabels.Insert(0, "test");
                columnLabels.Add("test");
            }
            string legend = string.Join("; ", new[]
            {
                imagePairs.Count == 0 ? null : framed ? "#a->#b: test images a and b (their posterior means), shown at both ends"
                    : "#a->#b: test images a and b (their posterior means)",
                digitPairs.Count > 0 ? "a->b: mean codes of digits a and b over the test set" : null,
            }.Where(s => s is not null));
            var grid = new GridLabels
            {
                Title = $"Decoded latent paths, t = 0 to 1 across; lin: straight line, slerp: spherical\n{legend}\n" +
                    $"{model.Config}{(digit is int k ? $", decoded as digit {k}" : "")}",
                RowLabels = rowLabels,
                ColumnLabels = columnLabels,
            };
            string output = options.String("--out") ?? BesideModel(path, "interpolate.png");
            DigitGrid.Save(output, cells.ToArray(), rowLabels.Count, columns, grid);
            Report(options, stdout, path, [output], $"wrote {rowLabels.Count} paths of {steps} steps to {output}",
                new { rows = rowLabels, steps });
            return 0;
        });

    private static CommandSpec Manifold(TextWriter stdout, TextWriter stderr) => new("manifold",
        "decoded images over a grid of latent codes spaced by the inverse normal CDF (Kingma and Welling): for Z=2 the " +
        "whole latent plane, for Z>2 the plane of two latent axes or of the two leading principal directions",
        [
            ModelOption,
            DataOption,
            new("--size", "grid cells per side", "N", "20"),
            new("--dims", "two latent axes (1-based) spanning the plane, e.g. 1,2 (default: z1,z2 for Z=2, else the test means' two leading principal directions)", "I,J"),
            new("--scale", "pixels per image pixel", "N", "2"),
            DigitOption,
            OutOption("manifold.png"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        (options, token) =>
        {
            int size = options.Int("--size", 2), scale = options.Int("--scale", 1);
            int[]? dims = options.Given("--dims") ? options.IntList("--dims", min: 1) : null;
            if (dims is not null && (dims.Length != 2 || dims[0] == dims[1]))
                throw new UsageException($"--dims takes two different latent axes, e.g. 1,2; got '{options.String("--dims")}'");
            string path = ModelPath(options);
            using var device = OpenDevice(options);
            using var model = LoadModel(device, path);
            int z = model.Config.Latent;
            if (z < 2)
                throw new UsageException($"a manifold needs a latent plane; {path} has Z = 1");
            if (dims is not null && dims.Any(i => i > z))
                throw new UsageException($"--dims: axis {dims.Max()} is outside 1-{z}");
            int? digit = DigitFor(options, model.Config, required: true);
            float[] across, down;
            string acrossName, downName, plane;
            double[]? explained = null;
            if (dims is null && z > 2)
            {
                var data = LoadData(options, stderr, trainLimit: 1, token: token);
                var pca = Pca.Fit(model.LatentMeans(data.Test), z, 2);
                across = pca.Components[..z];
                down = pca.Components[z..];
                explained = pca.ExplainedVarianceRatio;
                (acrossName, downName) = ("u", "v");
                plane = $"z = u PC1 + v PC2 (PC1, PC2: the test means' leading principal\ndirections, {Percent(explained[0])} and {Percent(explained[1])} of their variance)";
            }
            else
            {
                dims ??= [1, 2];
                across = LatentPaths.Axis(z, dims[0] - 1);
                down = LatentPaths.Axis(z, dims[1] - 1);
                (acrossName, downName) = ($"z{dims[0]}", $"z{dims[1]}");
                plane = z == 2 ? "the whole latent plane" : $"the plane of z{dims[0]} and z{dims[1]}, the other {z - 2} components 0";
            }
            var coordinates = NormalQuantile.Grid(size);
            var codes = LatentPaths.Plane(coordinates, across, down);
            var images = model.Decode(codes, digit is int c ? Enumerable.Repeat(c, size * size).ToArray() : default);
            var labels = coordinates.Select(v => v.ToString("0.00", CultureInfo.InvariantCulture)).ToArray();
            var grid = new GridLabels
            {
                Title = $"Decoded latent codes over {plane}\n{acrossName} across, {downName} up, each at InvNormalCDF((i + 0.5) / {size}), i = 0..{size - 1}\n" +
                    $"{model.Config}{(digit is int k ? $", decoded as digit {k}" : "")}",
                ColumnLabels = labels,
                RowLabels = labels.Reverse().ToArray(),
            };
            string output = options.String("--out") ?? BesideModel(path, "manifold.png");
            DigitGrid.Save(output, images, size, size, grid, scale: scale);
            Report(options, stdout, path, [output], $"wrote a {size}x{size} manifold over {plane.Replace('\n', ' ')} to {output}",
                new { coordinates, across, down, explained_variance_ratio = explained });
            return 0;
        });

    private static CommandSpec Latent(TextWriter stdout, TextWriter stderr) => new("latent",
        "scatter plot of the test set's latent means coloured by digit: the codes themselves for Z=2, PCA (and optionally t-SNE) for Z>2",
        [
            ModelOption,
            DataOption,
            new("--tsne", "for Z>2, also a t-SNE plot of this many random test means (0: none; exact t-SNE, quadratic cost)", "N", "0"),
            new("--seed", "seed of the t-SNE subset", "N", "0"),
            OutOption("latent.png (t-SNE: latent-tsne.png)"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        (options, token) =>
        {
            int tsne = options.Int("--tsne", 0), seed = options.Int("--seed");
            if (tsne > Tsne.MaxPoints)
                throw new UsageException($"--tsne takes at most {Tsne.MaxPoints} points (exact t-SNE holds n x n matrices), got {tsne}");
            string path = ModelPath(options);
            var data = LoadData(options, stderr, trainLimit: 1, token: token);
            using var device = OpenDevice(options);
            using var model = LoadModel(device, path);
            if (model.Config.Latent < 2)
                throw new UsageException($"a latent scatter plot needs Z >= 2; {path} has Z = 1");
            var means = model.LatentMeans(data.Test);
            string output = options.String("--out") ?? BesideModel(path, "latent.png");
            var plots = LatentPlots.Write(output, means, data.Test.Labels.Select(l => (int)l).ToArray(), model.Config.Latent,
                $"{model.Config}: test-set latent means", tsne, seed);
            string summary = string.Join(Environment.NewLine, plots.Select(p => $"wrote {p.Method} plot of {p.Points} test means to {p.Path}" +
                (p.ExplainedVarianceRatio is { } r ? $" (PC1 {Percent(r[0])}, PC2 {Percent(r[1])} of the variance)" : "")));
            Report(options, stdout, path, plots.Select(p => p.Path).ToArray(), summary,
                new { plots = plots.Select(p => new { path = p.Path, method = p.Method, title = p.Title, points = p.Points, explained_variance_ratio = p.ExplainedVarianceRatio }) });
            return 0;
        });

    private static string ModelPath(ParsedOptions options)
    {
        string path = options.RequiredString("--model");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such model file");
        return path;
    }

    private static VaeModel LoadModel(ComputeDevice device, string path) => VaeModel.Load(device, path);

    private static string BesideModel(string modelPath, string name) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? ".", name);

    private static int? DigitFor(ParsedOptions options, VaeConfig config, bool required)
    {
        // sample accepts --class (as the CVAE commands) and --digit for the same thing.
        int? digit = options.OptionalInt(options.Given("--class") ? "--class" : "--digit", 0);
        if (digit is int d && d >= Math.Max(config.Classes, 10))
            throw new UsageException($"--digit: unknown class {d}; digits are 0-9");
        if (!config.IsConditional)
        {
            if (digit is not null)
                throw new UsageException($"--digit conditions a conditional model's decoder; this is a plain {config.Kind}");
            return null;
        }
        if (digit is null && required)
            throw new UsageException("a conditional model decodes for one digit: pass --digit D");
        return digit;
    }

    private static int ImageSide(VaeConfig config)
    {
        int side = (int)Math.Round(Math.Sqrt(config.InputSize));
        if (side * side != config.InputSize)
            throw new InvalidDataException($"images of {config.InputSize} pixels are not square");
        return side;
    }

    private static int[] CheckIndices(int[] indices, int count, string option)
    {
        foreach (int i in indices)
            if (i >= count)
                throw new UsageException($"{option}: test image {i} does not exist; the test set holds 0-{count - 1}");
        return indices;
    }

    private static int[] RandomIndices(int count, int take, int seed)
    {
        var all = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(all);
        return all[..take];
    }

    private static List<(int A, int B)> Pairs(ParsedOptions options, string name)
    {
        string text = options.RequiredString(name);
        var pairs = new List<(int, int)>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var ends = part.Split(':', StringSplitOptions.TrimEntries);
            if (ends.Length != 2
                || !int.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out int a)
                || !int.TryParse(ends[1], NumberStyles.None, CultureInfo.InvariantCulture, out int b))
                throw new UsageException($"option '{name}' expects pairs like 3:8,1:7 of non-negative integers, got '{text}'");
            pairs.Add((a, b));
        }
        return pairs;
    }

    private static string Abbreviate(int[] indices) =>
        indices.Length <= 12 ? string.Join(", ", indices) : $"{string.Join(", ", indices[..12])}, ... ({indices.Length} in all)";

    private static string Percent(double ratio) => (100 * ratio).ToString("0.0", CultureInfo.InvariantCulture) + "%";

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

    private static void Report(ParsedOptions options, TextWriter stdout, string modelPath, string[] written, string text, object details)
    {
        if (!options.Flag("--json"))
        {
            stdout.WriteLine(text);
            return;
        }
        stdout.WriteLine(JsonSerializer.Serialize(new { model = modelPath, wrote = written, details }));
    }
}
