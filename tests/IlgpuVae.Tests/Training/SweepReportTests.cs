using IlgpuVae.Analysis;
using IlgpuVae.Training;
using IlgpuVae.Cli;
using Xunit;
using IlgpuVae.Models;

namespace IlgpuVae.Tests.Training;

public sealed class SweepReportTests
{
    private static SweepRow Row(int latent, bool measured) => new(latent, 10, 60000, 21.26,
        new ModelAssessment(new Evaluation(105.5, 80.25, 25.25),
            measured ? -100.126 : null, measured ? 500 : 0,
            measured ? new ClusteringReport(0.974, 5, 0.591, 0.495, 0.6, 0.075, 0.2, 10, 10) : null,
            null, [], new Dictionary<string, double>()));

    [Fact]
    public void Markdown_OneRowPerSize_DashesForWhatWasNotMeasured()
    {
        var lines = SweepReport.Markdown([Row(2, true), Row(20, false)]).TrimEnd().Split(Environment.NewLine);
        Assert.Equal(4, lines.Length);
        Assert.Contains("log p(x), IW K=500", lines[0]);
        Assert.Equal("| 2 | 105.50 | 80.25 | 25.25 | -100.13 | 0.974 | 0.591 | 0.495 | 0.600 | 0.075 | 0.200 | 21.3 |", lines[2]);
        Assert.Equal("| 20 | 105.50 | 80.25 | 25.25 | - | - | - | - | - | - | - | 21.3 |", lines[3]);
    }

    [Fact]
    public void Csv_FullPrecision_EmptyFieldsForWhatWasNotMeasured()
    {
        var lines = SweepReport.Csv([Row(2, true), Row(20, false)]).TrimEnd().Split(Environment.NewLine);
        Assert.Equal(SweepReport.CsvHeader, lines[0]);
        Assert.Equal("2,10,60000,105.5,80.25,25.25,-100.126,500,0.974,0.591,0.495,0.6,0.075,0.2,21.26", lines[1]);
        Assert.Equal("20,10,60000,105.5,80.25,25.25,,,,,,,,,21.26", lines[2]);
        Assert.Equal(SweepReport.CsvHeader.Split(',').Length, lines[2].Split(',').Length);
    }
}
