using IlgpuVae.Imaging;
using IlgpuVae.Tests.Imaging;
using IlgpuVae.Tests.Data;
using Xunit;

namespace IlgpuVae.Tests.Analysis;

public sealed class LatentPlotsTests
{
    [Fact]
    public void Write_TwoDimensions_PlotsTheCodesThemselves()
    {
        using var dir = new TempDirectory();
        var (points, labels, _) = AnalysisData.Blobs(200, 2, 10, 5, 1, seed: 1);
        var plots = LatentPlots.Write(dir.File("a.png"), points, labels, 2, "blobs", tsnePoints: 50);
        var plot = Assert.Single(plots);
        Assert.Equal(("latent", 200), (plot.Method, plot.Points));
        Assert.Equal(LatentScatter.DefaultWidth, PngReader.Read(plot.Path).Width);
    }

    [Fact]
    public void Write_MoreDimensions_PcaAndTsneBesideIt()
    {
        using var dir = new TempDirectory();
        var (points, labels, _) = AnalysisData.Blobs(300, 5, 10, 5, 1, seed: 2);
        var plots = LatentPlots.Write(dir.File("b.png"), points, labels, 5, "blobs", tsnePoints: 60);
        Assert.Equal(["pca", "tsne"], plots.Select(p => p.Method));
        Assert.Equal(dir.File("b-tsne.png"), plots[1].Path);
        Assert.Equal(60, plots[1].Points);
        var ratio = plots[0].ExplainedVarianceRatio!;
        Assert.True(ratio[0] >= ratio[1] && ratio[0] + ratio[1] <= 1 + 1e-9);
        Assert.Equal("blobs: PCA (300 points)", plots[0].Title);
        Assert.True(File.Exists(plots[1].Path));
    }

    [Fact]
    public void Write_OneDimension_Throws()
    {
        using var dir = new TempDirectory();
        Assert.Throws<ArgumentException>(() => LatentPlots.Write(dir.File("c.png"), [1f, 2f, 3f], [0, 1, 2], 1, "line"));
    }
}
