using IlgpuVae.Checkpoints;
using IlgpuVae.Data;
using IlgpuVae.Tests.Data;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

/// <summary>The CLI on images of one's own: a folder of colour pictures trains a conv VAE in one command and every
/// picture command draws colour; .npy arrays train; bad files are one-line errors naming the file, exit code 2, and
/// nothing is written.</summary>
public sealed class ImageSourceCliTests
{
    [Fact]
    public void ColourFolder_TrainsConvVae_AndSamplesReconstructsInColour()
    {
        using var dir = new TempDirectory();
        ColouredShapes.WriteFolder(dir.File("shapes"), 64, 16);
        string run = dir.File("run");
        var (code, output, err) = Run("train", "--kind", "conv-vae", "--data", dir.File("shapes"), "--epochs", "1", "--channels", "4,8",
            "--hidden", "16", "--latent", "2", "--batch", "32", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("conv-vae 3x32x32-c4-c8-16-2", output);
        string model = Path.Combine(run, "model.safetensors");
        var metadata = SafeTensors.Read(model).Metadata;
        Assert.Equal("3", metadata["image_channels"]);
        Assert.Equal(ColouredShapes.ClassNames, ImageData.ClassNamesIn(metadata));
        Assert.True(File.Exists(Path.Combine(run, "samples.png")));

        (code, _, err) = Run("sample", "-m", model, "--format", "npy", "--count", "5", "--out", dir.File("s.npy"), "--device", "cpu");
        Assert.True(code == 0, err);
        var drawn = Npy.Read(dir.File("s.npy"));
        Assert.Equal([5, 3, 32, 32], drawn.Shape);
        Assert.All(drawn.Floats(), v => Assert.InRange(v, 0f, 1f));
        (code, _, err) = Run("sample", "-m", model, "--format", "idx", "--out", dir.File("s.idx"), "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, "--format npy");
        Assert.False(File.Exists(dir.File("s.idx")));

        // The pictures are in colour: some pixel's red, green and blue differ.
        (code, _, err) = Run("reconstruct", "-m", model, "--data", dir.File("shapes"), "--out", dir.File("r.png"), "--device", "cpu");
        Assert.True(code == 0, err);
        var picture = IlgpuVae.Tests.Imaging.PngReader.Read(dir.File("r.png"));
        Assert.Contains(Enumerable.Range(0, picture.Width * picture.Height), p =>
            picture.Pixels[3 * p] != picture.Pixels[3 * p + 1] || picture.Pixels[3 * p + 1] != picture.Pixels[3 * p + 2]);
        foreach (var command in new[] { "manifold", "interpolate" })
        {
            string[] extra = command == "interpolate" ? ["--images", "0:1"] : [];
            (code, _, err) = Run([command, "-m", model, "--data", dir.File("shapes"), "--out", dir.File(command + ".png"), "--device", "cpu", .. extra]);
            Assert.True(code == 0, $"{command}: {err}");
        }

        // The same pictures without their class folders: scored, with an empty label field rather than class 0.
        (code, output, err) = Run("score", "-m", model, "--data", Unlabelled(dir.File("shapes"), dir.File("flat")), "--device", "cpu");
        Assert.True(code == 0, err);
        var rows = output.TrimEnd().Split('\n');
        Assert.Equal(1 + 16, rows.Length);
        Assert.All(rows[1..], row => Assert.Equal("", row.Split(',')[1]));
    }

    /// <summary>Copies the train/ and test/ pictures of a class-folder set into flat train/ and test/ folders: no labels.</summary>
    private static string Unlabelled(string folder, string target)
    {
        foreach (var split in new[] { "train", "test" })
        {
            Directory.CreateDirectory(Path.Combine(target, split));
            foreach (var file in Directory.GetFiles(Path.Combine(folder, split), "*.png", SearchOption.AllDirectories))
                File.Copy(file, Path.Combine(target, split, $"{Path.GetFileName(Path.GetDirectoryName(file))}-{Path.GetFileName(file)}"));
        }
        return target;
    }

    // A conditional conv VAE on the labelled folder: its per-epoch rows, cvae sample and cvae style draw colour.
    [Fact]
    public void ColourFolder_ConvCvae_SamplesAndTransfersStyleInColour()
    {
        using var dir = new TempDirectory();
        ColouredShapes.WriteFolder(dir.File("shapes"), 32, 12);
        string run = dir.File("run");
        var (code, output, err) = Run("train", "--kind", "conv-cvae", "--data", dir.File("shapes"), "--epochs", "1", "--channels", "4",
            "--hidden", "16", "--latent", "2", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("conv-cvae 3x32x32+4-c4-16-2", output);
        string model = Path.Combine(run, "model.safetensors");
        foreach (var args in new[] { new[] { "cvae", "sample", "--count", "2" }, ["cvae", "style", "--data", dir.File("shapes"), "--count", "2"] })
        {
            string png = dir.File(args[1] + ".png");
            (code, _, err) = Run([.. args, "--model", model, "--out", png, "--device", "cpu"]);
            Assert.True(code == 0, $"{args[1]}: {err}");
            var picture = IlgpuVae.Tests.Imaging.PngReader.Read(png);
            Assert.Contains(Enumerable.Range(0, picture.Width * picture.Height), p =>
                picture.Pixels[3 * p] != picture.Pixels[3 * p + 1] || picture.Pixels[3 * p + 1] != picture.Pixels[3 * p + 2]);
        }

        // Pictures without labels: a conditional model would read every label as class 0; it refuses them instead.
        (code, _, err) = Run("score", "-m", model, "--data", Unlabelled(dir.File("shapes"), dir.File("flat")), "--device", "cpu");
        Assert.NotEqual(0, code);
        AssertOneLineError(err, "no labels");
    }

    [Fact]
    public void Npy_TrainsFromOneFileAndItsLabels()
    {
        using var dir = new TempDirectory();
        var (images, labels) = ColouredShapes.Make(40, 1);
        ImageSourceTests.WriteNpyBytes(dir.File("x.npy"), [40, 3, 32, 32], images);
        ImageSourceTests.WriteNpyLabels(dir.File("y.npy"), labels);
        var (code, output, err) = Run("train", "--data", dir.File("x.npy"), "--labels", dir.File("y.npy"), "--test-fraction", "0.25",
            "--epochs", "1", "--hidden", "8", "--latent", "2", "--out", dir.File("run"), "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("on 30 images", output);
    }

    public static TheoryData<string> BadFolders() => ["undecodable", "size", "empty-class", "nothing", "float"];

    [Theory]
    [MemberData(nameof(BadFolders))]
    public void BadData_IsOneLineNamingTheFile_ExitTwo_NothingWritten(string fault)
    {
        using var dir = new TempDirectory();
        string data = dir.File("data"), named;
        string[] extra = [];
        switch (fault)
        {
            case "undecodable":
                ColouredShapes.WriteFolder(data, 8, 4);
                named = Path.Combine(data, "train", "disc", "zz.jpg");
                File.WriteAllBytes(named, [0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3]);
                break;
            case "size":
                ColouredShapes.WriteFolder(data, 8, 4);
                named = Path.Combine(data, "test", "square", "odd.png");
                IlgpuVae.Imaging.Png.WriteGray(named, 31, 32, new byte[31 * 32]);
                break;
            case "empty-class":
                ColouredShapes.WriteFolder(data, 8, 4);
                named = Path.Combine(data, "train", "oval");
                Directory.CreateDirectory(named);
                break;
            case "nothing":
                Directory.CreateDirectory(data);
                File.WriteAllText(Path.Combine(data, "readme.txt"), "pictures to come");
                named = data;
                extra = ["--test-fraction", "0.5"];
                break;
            default:
                named = data = dir.File("x.npy");
                Npy.WriteFloats(data, [2, 2, 2], [0, 0, 0, 2, 0, 0, 0, 0]);
                extra = ["--test-fraction", "0.5"];
                break;
        }
        string run = dir.File("run");
        var (code, _, err) = Run(["train", "--data", data, "--epochs", "1", "--out", run, "--device", "cpu", .. extra]);
        Assert.Equal(2, code);
        AssertOneLineError(err, named);
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void PictureOptions_OnOtherData_AreUsageErrors_AndFetchDataStillChecksItsDirectory()
    {
        using var dir = new TempDirectory();
        SyntheticIdx.Write(dir.Path);
        var (code, _, err) = Run("train", "--data", dir.Path, "--image-size", "8x8", "--out", dir.File("run"), "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, "--image-size is for folders of pictures");
        (code, _, err) = Run("train", "--data", dir.Path, "--labels", dir.File("y.npy"), "--out", dir.File("run"), "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, "--labels");
        (code, _, err) = Run("train", "--data", dir.Path, "--image-size", "8by8", "--out", dir.File("run"), "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, "expects HxW");
        Assert.False(Directory.Exists(dir.File("run")));
        // A file that is neither .csv nor .npy is not taken for a missing directory.
        File.WriteAllText(dir.File("notes.txt"), "not data");
        (code, _, err) = Run("train", "--data", dir.File("notes.txt"), "--out", dir.File("run"), "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, $"--data: '{dir.File("notes.txt")}' is a file; --data takes a directory");
        Assert.False(Directory.Exists(dir.File("run")));
        // fetch-data shares the loader but not the picture options.
        string missing = dir.File("no-such-dir");
        (code, _, err) = Run("fetch-data", "--data", missing);
        Assert.Equal(2, code);
        AssertOneLineError(err, $"--data: no such directory '{missing}'");
        (code, _, err) = Run("fetch-data", "--data", missing, "--image-channels", "3");
        Assert.Equal(2, code);
        AssertOneLineError(err, "--image-channels");
        Assert.False(Directory.Exists(missing));
    }
}
