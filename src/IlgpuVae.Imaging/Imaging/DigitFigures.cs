using System.Globalization;
using IlgpuVae.Analysis;
using IlgpuVae.Data;
using IlgpuVae.Models;

namespace IlgpuVae.Imaging;

/// <summary>The ends of one latent path: two codes, and optionally the images they came from (shown at the row's ends).</summary>
/// <param name="Label">The row's label, e.g. "#3-&gt;#10" or "1-&gt;7".</param>
/// <param name="From">The start code (Z).</param>
/// <param name="To">The end code (Z).</param>
/// <param name="FromImage">The image encoded to <paramref name="From"/>, or null.</param>
/// <param name="ToImage">The image encoded to <paramref name="To"/>, or null.</param>
public sealed record LatentPathEnds(string Label, float[] From, float[] To, float[]? FromImage = null, float[]? ToImage = null);

/// <summary>
/// Composes the explore commands' figures: which image goes in which cell, and the row and column labels.
/// Pixel-free: <c>IlgpuVae.Imaging.DigitFigureImage</c> draws the result.
/// </summary>
public static class DigitFigures
{
    /// <summary>
    /// Inputs above their reconstructions: pairs of rows ("input", "recon") of <paramref name="columns"/> images,
    /// the last pair's unused cells empty; with a single pair the columns carry <paramref name="imageLabels"/>.
    /// </summary>
    /// <param name="inputs">count x D input pixels.</param>
    /// <param name="reconstructions">count x D reconstructed pixels, in the same order.</param>
    /// <param name="imageHeight">H; H x W = D.</param>
    /// <param name="imageWidth">W.</param>
    /// <param name="columns">Images per pair of rows (at most count are used).</param>
    /// <param name="imageLabels">A label per image (e.g. its index), or null.</param>
    /// <param name="title">The figure's title.</param>
    /// <param name="imageChannels">C: 1 (grey) or 3 (colour, C x H x W); C x H x W = D.</param>
    /// <returns>The figure.</returns>
    public static DigitFigure Reconstructions(ReadOnlySpan<float> inputs, ReadOnlySpan<float> reconstructions, int imageHeight,
        int imageWidth, int columns, IReadOnlyList<string>? imageLabels, string? title, int imageChannels = 1)
    {
        int d = PixelsPerImage(imageHeight, imageWidth, imageChannels);
        if (inputs.Length != reconstructions.Length || inputs.Length % d != 0 || inputs.Length == 0)
            throw new ArgumentException($"{inputs.Length} input and {reconstructions.Length} reconstructed values are not the same whole number of {d}-pixel images", nameof(reconstructions));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        int count = inputs.Length / d;
        columns = Math.Min(columns, count);
        int pairs = (count + columns - 1) / columns;
        var cells = new float[2 * pairs * columns * d];
        var empty = new List<int>();
        for (int p = 0; p < pairs; p++)
            for (int c = 0; c < columns; c++)
            {
                int i = p * columns + c, inputCell = 2 * p * columns + c, reconCell = inputCell + columns;
                if (i >= count)
                {
                    empty.AddRange([inputCell, reconCell]);
                    continue;
                }
                inputs.Slice(i * d, d).CopyTo(cells.AsSpan(inputCell * d, d));
                reconstructions.Slice(i * d, d).CopyTo(cells.AsSpan(reconCell * d, d));
            }
        return new DigitFigure(cells, 2 * pairs, columns, imageHeight, imageWidth, title,
            Enumerable.Range(0, 2 * pairs).Select(r => (string?)(r % 2 == 0 ? "input" : "recon")).ToArray(),
            pairs == 1 ? imageLabels?.Take(columns).ToArray() : null, empty) { ImageChannels = imageChannels };
    }

    /// <summary>
    /// Decoded latent paths, t = 0 to 1 across: for each path a row along the straight line
    /// (<see cref="LatentPaths.Line"/>) and then one along the arc (<see cref="LatentPaths.Slerp"/>), as asked; when
    /// every path has its end images, they frame the row (columns "test").
    /// </summary>
    /// <param name="model">Decodes the paths' codes.</param>
    /// <param name="paths">The paths.</param>
    /// <param name="steps">Points per path, ends included (at least 2).</param>
    /// <param name="linear">Whether each path has a row along the straight line ("lin").</param>
    /// <param name="spherical">Whether each path has a row along the arc ("slerp"); at least one of the two.</param>
    /// <param name="label">For a conditional model, the digit decoded; else null.</param>
    /// <param name="title">The figure's title.</param>
    /// <returns>The figure; its row labels are "<c>label</c> lin" or "<c>label</c> slerp".</returns>
    public static DigitFigure Interpolations(VaeModel model, IReadOnlyList<LatentPathEnds> paths, int steps,
        bool linear, bool spherical, int? label, string? title)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(paths);
        if (!linear && !spherical)
            throw new ArgumentException("no path to draw: ask for the straight line, the arc or both", nameof(spherical));
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        int d = model.Config.InputSize;
        bool framed = paths.Count > 0 && paths.All(p => p.FromImage is not null && p.ToImage is not null);
        int columns = steps + (framed ? 2 : 0);
        var cells = new List<float>();
        var rowLabels = new List<string?>();
        int[]? labels = label is int l ? Enumerable.Repeat(l, steps).ToArray() : null;
        foreach (var path in paths)
        {
            foreach (bool arc in new[] { false, true }.Where(arc => arc ? spherical : linear))
            {
                var decoded = model.Decode(arc ? LatentPaths.Slerp(path.From, path.To, steps) : LatentPaths.Line(path.From, path.To, steps), labels);
                if (framed)
                    cells.AddRange(path.FromImage!);
                cells.AddRange(decoded);
                if (framed)
                    cells.AddRange(path.ToImage!);
                rowLabels.Add($"{path.Label} {(arc ? "slerp" : "lin")}");
            }
        }
        var columnLabels = Enumerable.Range(0, steps)
            .Select(i => (string?)(i / (double)(steps - 1)).ToString("0.00", CultureInfo.InvariantCulture)).ToList();
        if (framed)
        {
            // "test" fits a cell at the grid's text scale, so the t labels stay legible.
            columnLabels.Insert(0, "test");
            columnLabels.Add("test");
        }
        if (cells.Count != rowLabels.Count * columns * d)
            throw new ArgumentException($"end images must have {d} pixels each", nameof(paths));
        return new DigitFigure(cells.ToArray(), rowLabels.Count, columns, model.Config.ImageHeight, model.Config.ImageWidth, title,
            rowLabels, columnLabels, []) { ImageChannels = model.Config.ImageChannels };
    }

    /// <summary>Style transfer: one row per input, the input first, then its code decoded as each class.</summary>
    /// <param name="inputs">count x D input pixels.</param>
    /// <param name="transferred">count x classes x D decoded pixels, input by input, class by class.</param>
    /// <param name="classes">Classes per input.</param>
    /// <param name="imageHeight">H; H x W = D.</param>
    /// <param name="imageWidth">W.</param>
    /// <param name="title">The figure's title.</param>
    /// <param name="imageChannels">C: 1 (grey) or 3 (colour); C x H x W = D.</param>
    /// <param name="classNames">The classes' names for the column labels, or null for "0", "1", ...</param>
    /// <returns>The figure, its columns labelled "input", then each class.</returns>
    public static DigitFigure StyleTransfer(ReadOnlySpan<float> inputs, ReadOnlySpan<float> transferred, int classes, int imageHeight,
        int imageWidth, string? title, int imageChannels = 1, IReadOnlyList<string>? classNames = null)
    {
        int d = PixelsPerImage(imageHeight, imageWidth, imageChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        int count = inputs.Length / d;
        if (inputs.Length % d != 0 || transferred.Length != count * classes * d)
            throw new ArgumentException($"{transferred.Length} transferred values are not {count} inputs x {classes} classes x {d} pixels", nameof(transferred));
        var cells = new float[count * (classes + 1) * d];
        for (int i = 0; i < count; i++)
        {
            inputs.Slice(i * d, d).CopyTo(cells.AsSpan(i * (classes + 1) * d));
            transferred.Slice(i * classes * d, classes * d).CopyTo(cells.AsSpan((i * (classes + 1) + 1) * d));
        }
        string?[] columnLabels = ["input", .. Enumerable.Range(0, classes)
            .Select(c => classNames is not null && c < classNames.Count ? classNames[c] : c.ToString(CultureInfo.InvariantCulture))];
        return new DigitFigure(cells, count, classes + 1, imageHeight, imageWidth, title, null, columnLabels, []) { ImageChannels = imageChannels };
    }

    private static int PixelsPerImage(int height, int width, int channels = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), $"images have 1 or 3 channels, not {channels}");
        return checked(channels * height * width);
    }
}
