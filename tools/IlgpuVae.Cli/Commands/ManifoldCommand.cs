using System.CommandLine;
using System.Globalization;
using IlgpuVae.Analysis;
using IlgpuVae.Imaging;
using IlgpuVae.Models;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>manifold</c>: decoded codes over a latent plane.</summary>
public static class ManifoldCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("manifold",
        "decoded images over a grid of latent codes spaced by the inverse normal CDF (Kingma and Welling): for Z=2 the " +
        "whole latent plane, for Z>2 the plane of two latent axes or of the two leading principal directions",
        [
            ModelOption,
            .. DataOptions,
            new("--size", "grid cells per side", "N", "20"),
            new("--dims", "two latent axes (1-based) spanning the plane, e.g. 1,2 (default: z1,z2 for Z=2, else the test means' two leading principal directions)", "I,J"),
            new("--scale", "pixels per image pixel", "N", "2"),
            DigitOption,
            OutOption("output file (default: manifold.png beside the model)"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli));

    // Past it a grid of 28x28 digits is a canvas of gigabytes, not a sharper picture.
    private const int MaxScale = 16;

    private static int Run(ParsedOptions options, CliContext cli)
    {
        var (stdout, stderr, token) = cli;
        int size = options.Int("--size", 2), scale = options.Int("--scale", 1, MaxScale);
        CheckPicture((long)size * size, $"--size {size}");
        int[]? dims = options.Given("--dims") ? options.IntList("--dims", min: 1) : null;
        if (dims is not null && (dims.Length != 2 || dims[0] == dims[1]))
            throw new UsageException($"--dims takes two different latent axes, e.g. 1,2; got '{options.String("--dims")}'");
        string path = ModelPath(options);
        using var device = OpenDevice(options);
        using var model = VaeModel.Load(device, path);
        int z = model.Config.Latent;
        if (model.Config.IsTwoLayer)
            throw new UsageException($"{path} has two stochastic layers: its prior over z1 is p(z1|z2), not the N(0, I) a manifold's grid is spaced by; use 'sample', 'interpolate' or 'latent'");
        if (z < 2)
            throw new UsageException($"a manifold needs a latent plane; {path} has Z = 1");
        if (dims is not null && dims.Any(i => i > z))
            throw new UsageException($"--dims: axis {dims.Max()} is outside 1-{z}");
        int? digit = DigitFor(options, model.Config, required: true);
        LatentPlane latentPlane;
        string acrossName, downName, plane;
        if (dims is null && z > 2)
        {
            var data = LoadData(options, stderr, trainLimit: 1, token: token);
            model.CheckCompatible(data.Test);
            latentPlane = LatentPlane.Principal(model, data.Test);
            var explainedRatio = latentPlane.ExplainedVarianceRatio!;
            (acrossName, downName) = ("u", "v");
            plane = $"z = u PC1 + v PC2 (PC1, PC2: the test means' leading principal\ndirections, {Percent(explainedRatio[0])} and {Percent(explainedRatio[1])} of their variance)";
        }
        else
        {
            dims ??= [1, 2];
            latentPlane = LatentPlane.OfAxes(z, dims[0] - 1, dims[1] - 1);
            (acrossName, downName) = ($"z{dims[0]}", $"z{dims[1]}");
            plane = z == 2 ? "the whole latent plane" : $"the plane of z{dims[0]} and z{dims[1]}, the other {z - 2} components 0";
        }
        var (across, down, explained) = latentPlane;
        var coordinates = LatentPlane.QuantileGrid(size);
        var codes = latentPlane.Codes(coordinates);
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
    }
}
