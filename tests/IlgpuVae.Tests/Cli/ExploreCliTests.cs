using System.Text.Json;
using IlgpuVae.Cli;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using IlgpuVae.Tests.Imaging;
using IlgpuVae.Tests.Data;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

/// <summary>Two tiny models trained once by 'ilgpu-vae train' (Z = 2 and Z = 3, 784-32-Z, one epoch on 2000 images).</summary>
public sealed class TinyModelsFixture : IDisposable
{
    private readonly TempDirectory _directory = new();

    public TinyModelsFixture()
    {
        if (TestData.MnistDirectory is null)
            return;
        foreach (int latent in new[] { 2, 3 })
        {
            string run = _directory.File($"z{latent}");
            int code = Program.Run(["train", "--data", TestData.MnistDirectory, "--epochs", "1", "--limit", "2000", "--hidden", "32",
                "--latent", latent.ToString(), "--out", run], TextWriter.Null, TextWriter.Null);
            if (code != 0)
                throw new InvalidOperationException($"training the Z = {latent} test model failed with exit code {code}");
        }
    }

    public string Z2 => _directory.File("z2/model.safetensors");

    public string Z3 => _directory.File("z3/model.safetensors");

    public string File(string name) => _directory.File(name);

    public void Dispose() => _directory.Dispose();
}

public sealed class ExploreCliTests(TinyModelsFixture models) : IClassFixture<TinyModelsFixture>
{
    private static readonly string[] ExploreCommands = ["sample", "reconstruct", "interpolate", "manifold", "latent", "sweep"];

    private static string[] WithData(params string[] args) => [.. args, "--data", TestData.MnistDirectory!];

    private static JsonElement Json(string[] args)
    {
        var (code, output, err) = Run([.. args, "--json"]);
        Assert.True(code == 0, $"exit {code}: {err}");
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static RgbImage Written(JsonElement json, int index = 0)
    {
        string path = json.GetProperty("wrote")[index].GetString()!;
        Assert.True(File.Exists(path), path);
        return PngReader.Read(path);
    }

    [Fact]
    public void Help_ListsTheExploreCommands()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        foreach (var command in ExploreCommands)
            Assert.Contains(command, output);
        (code, output, _) = Run("evaluate", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--iw-samples", output);
        Assert.Contains("--no-clustering", output);
    }

    [Theory]
    [InlineData("option '--model' is required", "sample")]
    [InlineData("option '--model' is required", "latent")]
    [InlineData("must be one of", "sample", "--model", "m.safetensors", "--format", "gif")]
    [InlineData("count' must be at least 1", "sample", "--model", "m.safetensors", "--count", "0")]
    [InlineData("expects pairs like 3:8", "interpolate", "--model", "m.safetensors", "--images", "3-8")]
    [InlineData("expects pairs like 3:8", "interpolate", "--model", "m.safetensors", "--digits", "3:-1")]
    [InlineData("steps' must be at least 2", "interpolate", "--model", "m.safetensors", "--steps", "1")]
    [InlineData("must be one of", "interpolate", "--model", "m.safetensors", "--method", "cubic")]
    [InlineData("iw-samples' must be at least 0", "evaluate", "--model", "m.safetensors", "--iw-samples", "-1")]
    [InlineData("iw-samples' expects an integer", "evaluate", "--model", "m.safetensors", "--iw-samples", "lots")]
    [InlineData("lists a size twice", "sweep", "--latent", "2,2")]
    [InlineData("comma-separated list", "sweep", "--latent", "0,2")]
    public void UsageErrors_ExitTwoWithOneLine(string fragment, params string[] args)
    {
        // The model file's existence is checked after the options, so these fail before touching any file.
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        AssertOneLineError(err, fragment);
    }

    [Theory]
    [InlineData("sample")]
    [InlineData("reconstruct")]
    [InlineData("interpolate")]
    [InlineData("manifold")]
    [InlineData("latent")]
    public void MissingModel_ExitOneWithOneLine(string command)
    {
        var (code, _, err) = Run(command, "--model", models.File("none.safetensors"));
        Assert.Equal(1, code);
        AssertOneLineError(err, "no such model file");
    }

    [MnistFact]
    public void Sample_GridAndIdx_WriteWhatWasAskedFor()
    {
        var json = Json(["sample", "--model", models.Z3, "--count", "12", "--columns", "4", "--out", models.File("s.png")]);
        var image = Written(json);
        // A 3 x 4 grid under a two-line title (the title may be wider than the grid).
        var layout = DigitGrid.ComputeLayout(3, 4, new GridLabels { Title = "two\nlines" });
        Assert.Equal(layout.Height, image.Height);
        Assert.True(image.Width >= layout.Width);

        json = Json(["sample", "--model", models.Z3, "--count", "5", "--format", "idx", "--out", models.File("s.idx")]);
        var idx = IdxReader.ReadImages(json.GetProperty("wrote")[0].GetString()!);
        Assert.Equal([5, 28, 28], idx.Dimensions);
        Assert.Contains(idx.Data, b => b > 128);
    }

    [MnistFact]
    public void Reconstruct_ChosenAndRandomDigits_PairsOfRows()
    {
        var json = Json(WithData("reconstruct", "--model", models.Z2, "--indices", "0,1,2", "--out", models.File("r.png")));
        Assert.Equal([0, 1, 2], json.GetProperty("details").GetProperty("indices").EnumerateArray().Select(e => e.GetInt32()));
        Assert.True(Written(json).Width > 3 * 56);
        json = Json(WithData("reconstruct", "--model", models.Z2, "--count", "13", "--columns", "5", "--out", models.File("r2.png")));
        var indices = json.GetProperty("details").GetProperty("indices").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(13, indices.Distinct().Count());
        // 13 images in rows of 5: three pairs of input and recon rows under a two-line title.
        var layout = DigitGrid.ComputeLayout(6, 5, new GridLabels { Title = "two\nlines", RowLabels = ["input", "recon"] });
        Assert.Equal(layout.Height, Written(json).Height);
    }

    [MnistFact]
    public void Interpolate_ImageAndClassPairs_OneRowPerPathAndMethod()
    {
        var json = Json(WithData("interpolate", "--model", models.Z3, "--images", "3:10,42:7", "--steps", "6", "--out", models.File("i.png")));
        Assert.Equal(["#3->#10 lin", "#3->#10 slerp", "#42->#7 lin", "#42->#7 slerp"],
            json.GetProperty("details").GetProperty("rows").EnumerateArray().Select(e => e.GetString()));
        Written(json);
        json = Json(WithData("interpolate", "--model", models.Z3, "--digits", "1:7", "--images", "0:1", "--method", "slerp", "--out", models.File("i2.png")));
        Assert.Equal(["#0->#1 slerp", "1->7 slerp"], json.GetProperty("details").GetProperty("rows").EnumerateArray().Select(e => e.GetString()));
    }

    [MnistFact]
    public void Manifold_TwoDimensionalAndPcaAndChosenAxes_Work()
    {
        var json = Json(WithData("manifold", "--model", models.Z2, "--size", "5", "--out", models.File("m2.png")));
        var coordinates = json.GetProperty("details").GetProperty("coordinates").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(5, coordinates.Length);
        Assert.Equal(0.0, coordinates[2], 12);
        Assert.Equal(-coordinates[0], coordinates[4], 12);
        Written(json);
        json = Json(WithData("manifold", "--model", models.Z3, "--size", "4", "--out", models.File("m3.png")));
        Assert.Equal(2, json.GetProperty("details").GetProperty("explained_variance_ratio").GetArrayLength());
        json = Json(WithData("manifold", "--model", models.Z3, "--size", "4", "--dims", "1,3", "--out", models.File("m13.png")));
        Assert.Equal([1f, 0f, 0f], json.GetProperty("details").GetProperty("across").EnumerateArray().Select(e => e.GetSingle()));
        Assert.Equal([0f, 0f, 1f], json.GetProperty("details").GetProperty("down").EnumerateArray().Select(e => e.GetSingle()));
    }

    [MnistFact]
    public void Latent_TwoDimensionalDirectly_HigherThroughPcaAndTsne()
    {
        var json = Json(WithData("latent", "--model", models.Z2, "--out", models.File("l2.png")));
        var plots = json.GetProperty("details").GetProperty("plots");
        Assert.Equal("latent", plots[0].GetProperty("method").GetString());
        Assert.Equal(10000, plots[0].GetProperty("points").GetInt32());
        json = Json(WithData("latent", "--model", models.Z3, "--tsne", "150", "--out", models.File("l3.png")));
        plots = json.GetProperty("details").GetProperty("plots");
        Assert.Equal(["pca", "tsne"], plots.EnumerateArray().Select(p => p.GetProperty("method").GetString()));
        Assert.Equal(150, plots[1].GetProperty("points").GetInt32());
        Assert.True(File.Exists(models.File("l3-tsne.png")));
        Assert.Equal(900, Written(json, 1).Width);
    }

    [MnistFact]
    public void Evaluate_WithLogLikelihoodAndClustering_ReportsEveryFigure()
    {
        var json = Json(WithData("evaluate", "--model", models.Z2, "--iw-samples", "5", "--limit", "3000"));
        double loss = json.GetProperty("test_loss").GetDouble();
        double likelihood = json.GetProperty("log_likelihood").GetDouble();
        Assert.Equal(5, json.GetProperty("iw_samples").GetInt32());
        Assert.True(likelihood > -loss, $"log p(x) estimate {likelihood} below the ELBO {-loss}");
        var clustering = json.GetProperty("clustering");
        Assert.Equal(3000, clustering.GetProperty("reference_images").GetInt32());
        // One epoch on 2000 images: some structure (chance is 0.1), far from the real figures (see the sweep).
        Assert.InRange(clustering.GetProperty("knn_accuracy").GetDouble(), 0.15, 1);
        foreach (var name in new[] { "kmeans_nmi", "kmeans_accuracy" })
            Assert.InRange(clustering.GetProperty(name).GetDouble(), 0, 1);
        foreach (var name in new[] { "kmeans_ari", "silhouette_label", "silhouette_kmeans" })
            Assert.InRange(clustering.GetProperty(name).GetDouble(), -1, 1);

        json = Json(WithData("evaluate", "--model", models.Z2, "--iw-samples", "0", "--no-clustering"));
        Assert.Equal(JsonValueKind.Null, json.GetProperty("log_likelihood").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("clustering").ValueKind);
        Assert.Equal(loss, json.GetProperty("test_loss").GetDouble());
    }

    [MnistFact]
    public void Sweep_TwoSizes_WritesTablesModelsAndPlots()
    {
        string directory = models.File("sweep");
        var json = Json(WithData("sweep", "--latent", "2,3", "--epochs", "1", "--limit", "1000", "--hidden", "16",
            "--iw-samples", "2", "--out", directory));
        Assert.Equal(2, json.GetProperty("rows").GetArrayLength());
        var csv = File.ReadAllLines(Path.Combine(directory, "sweep.csv"));
        Assert.Equal(IlgpuVae.Cli.SweepReport.CsvHeader, csv[0]);
        Assert.Equal(3, csv.Length);
        Assert.StartsWith("2,1,1000,", csv[1]);
        Assert.StartsWith("3,1,1000,", csv[2]);
        var markdown = File.ReadAllText(Path.Combine(directory, "sweep.md"));
        Assert.Contains("| Z | test loss |", markdown);
        Assert.Contains("log p(x), IW K=2", markdown);
        foreach (int latent in new[] { 2, 3 })
        {
            Assert.True(File.Exists(Path.Combine(directory, $"latent-{latent}", "model.safetensors")));
            Assert.True(File.Exists(Path.Combine(directory, $"latent-{latent}", "latent.png")));
        }
    }

    [MnistFact]
    public void BadInputsWithARealModel_ExitWithOneLine()
    {
        var cases = new (int Code, string Fragment, string[] Args)[]
        {
            (2, "test image 10000 does not exist", WithData("reconstruct", "--model", models.Z2, "--indices", "5,10000")),
            (2, "test image 12345 does not exist", WithData("interpolate", "--model", models.Z2, "--images", "1:12345")),
            (2, "unknown class 12", WithData("interpolate", "--model", models.Z2, "--digits", "3:12")),
            (2, "--digit conditions a conditional model", WithData("interpolate", "--model", models.Z2, "--digit", "3")),
            (2, "axis 5 is outside 1-3", WithData("manifold", "--model", models.Z3, "--dims", "1,5")),
            (2, "two different latent axes", WithData("manifold", "--model", models.Z3, "--dims", "2,2")),
            (2, "--tsne takes at most", WithData("latent", "--model", models.Z3, "--tsne", "9000")),
            (2, "must be at most", WithData("evaluate", "--model", models.Z2, "--iw-samples", "2000000")),
            (1, "not.safetensors", ["sample", "--model", NotAModel()]),
        };
        foreach (var (expected, fragment, args) in cases)
        {
            var (code, _, err) = Run(args);
            Assert.True(code == expected, $"{string.Join(' ', args)}: exit {code}, {err}");
            AssertOneLineError(err, fragment);
        }
    }

    private string NotAModel()
    {
        string path = models.File("not.safetensors");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        return path;
    }
}
