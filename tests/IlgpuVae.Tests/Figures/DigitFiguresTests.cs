using IlgpuVae.Analysis;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using IlgpuVae.Models;
using Xunit;

namespace IlgpuVae.Tests.Figures;

public sealed class DigitFiguresTests
{
    private static float[] Images(int count, int pixels, float offset) =>
        Enumerable.Range(0, count * pixels).Select(i => offset + i / pixels / 100f).ToArray();

    [Fact]
    public void Reconstructions_ThirteenInFiveColumns_PairsOfRowsWithTheLastCellsEmpty()
    {
        const int d = 4;
        var inputs = Images(13, d, 0f);
        var recons = Images(13, d, 0.5f);
        var figure = DigitFigures.Reconstructions(inputs, recons, 1, d, 5, null, "t");
        Assert.Equal((6, 5, 1, 4), (figure.Rows, figure.Columns, figure.ImageHeight, figure.ImageWidth));
        Assert.Equal(["input", "recon", "input", "recon", "input", "recon"], figure.RowLabels!);
        Assert.Null(figure.ColumnLabels);
        // Image 12 is the third of the last pair; cells 23, 24 (inputs) and 28, 29 (recons) are empty.
        Assert.Equal([23, 28, 24, 29], figure.EmptyCells);
        Assert.Equal(inputs.AsSpan(12 * d, d).ToArray(), figure.Cells.AsSpan(22 * d, d).ToArray());
        Assert.Equal(recons.AsSpan(12 * d, d).ToArray(), figure.Cells.AsSpan(27 * d, d).ToArray());
    }

    [Fact]
    public void Reconstructions_OnePair_LabelsTheColumns()
    {
        var figure = DigitFigures.Reconstructions(Images(3, 4, 0), Images(3, 4, 0), 2, 2, 10, ["#0", "#7", "#42"], null);
        Assert.Equal((2, 3), (figure.Rows, figure.Columns));
        Assert.Equal(["#0", "#7", "#42"], figure.ColumnLabels!);
        Assert.Empty(figure.EmptyCells);
    }

    [Fact]
    public void StyleTransfer_RowPerInput_InputThenEachClass()
    {
        const int d = 9, classes = 3;
        var inputs = Images(2, d, 0);
        var transferred = Images(2 * classes, d, 0.5f);
        var figure = DigitFigures.StyleTransfer(inputs, transferred, classes, 3, 3, null);
        Assert.Equal((2, 4, 3, 3), (figure.Rows, figure.Columns, figure.ImageHeight, figure.ImageWidth));
        Assert.Equal(["input", "0", "1", "2"], figure.ColumnLabels!);
        Assert.Equal(inputs.AsSpan(d, d).ToArray(), figure.Cells.AsSpan(4 * d, d).ToArray());
        Assert.Equal(transferred.AsSpan(5 * d, d).ToArray(), figure.Cells.AsSpan(7 * d, d).ToArray());
    }

    [Fact]
    public void Interpolations_FramedByTheirImages_AndDrawn()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Create(device, new VaeConfig(16, [8], 2), seed: 1, capacity: 16);
        var framed = new LatentPathEnds("#1->#2", [0f, 0f], [1f, -1f], new float[16], Enumerable.Repeat(1f, 16).ToArray());
        var figure = DigitFigures.Interpolations(model, [framed], 5, linear: true, spherical: true, null, "paths");
        Assert.Equal((2, 7, 4), (figure.Rows, figure.Columns, figure.ImageHeight));
        Assert.Equal(["#1->#2 lin", "#1->#2 slerp"], figure.RowLabels!);
        Assert.Equal(["test", "0.00", "0.25", "0.50", "0.75", "1.00", "test"], figure.ColumnLabels!);
        Assert.Equal(1f, figure.Cells[6 * 16]);
        var image = DigitFigureImage.Render(figure);
        Assert.True(image.Width > 7 * 4 && image.Height > 2 * 4);

        var unframed = DigitFigures.Interpolations(model, [framed with { FromImage = null }], 3, linear: true, spherical: false, null, null);
        Assert.Equal((1, 3), (unframed.Rows, unframed.Columns));
        Assert.Equal(["#1->#2 lin"], unframed.RowLabels!);
        Assert.Equal(model.Decode(LatentPaths.Line(framed.From, framed.To, 3)), unframed.Cells);
        var arcOnly = DigitFigures.Interpolations(model, [framed with { FromImage = null }], 3, linear: false, spherical: true, null, null);
        Assert.Equal(["#1->#2 slerp"], arcOnly.RowLabels!);
        Assert.Equal(model.Decode(LatentPaths.Slerp(framed.From, framed.To, 3)), arcOnly.Cells);
        Assert.Throws<ArgumentException>(() => DigitFigures.Interpolations(model, [framed], 3, linear: false, spherical: false, null, null));
    }

    [Fact]
    public void LatentPlane_OfAxes_IsTheAxesPlane()
    {
        var plane = LatentPlane.OfAxes(3, 0, 2);
        Assert.Equal([1f, 0f, 0f], plane.Across);
        Assert.Equal([0f, 0f, 1f], plane.Down);
        Assert.Null(plane.ExplainedVarianceRatio);
        // Row 0 is the largest v (top), column 0 the smallest u.
        Assert.Equal([-1f, 0f, 1f], plane.Codes([-1.0, 1.0])[..3]);
        Assert.Throws<ArgumentException>(() => LatentPlane.OfAxes(3, 1, 1));
    }

    [Fact]
    public void IdxExport_QuantisesWithPixelsToBytes()
    {
        string path = Path.Combine(Path.GetTempPath(), $"idx-export-{Guid.NewGuid():N}");
        try
        {
            float[] pixels = [0f, 0.5f, 1f, 2f, float.NaN, 0.002f, 0.998f, 0.25f, 0.75f];
            Assert.Equal(1, ImageSet.WriteIdxImages(path, pixels, 3, 3));
            var read = IdxReader.ReadImages(path);
            Assert.Equal([1, 3, 3], read.Dimensions);
            Assert.Equal(Pixels.ToBytes(pixels), read.Data);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
