using IlgpuVae.Data;
using Xunit;

namespace IlgpuVae.Tests.Data;

public class MnistDataTests
{
    private const int Pixels = 28 * 28;

    /// <summary>
    /// Writes a tiny data set in the standard layout: 5 training and 3 test images, the
    /// training files raw and the test files gzip, so loading covers both.
    /// </summary>
    private static void WriteSmallSet(string dir, int trainImages = 5, int trainLabels = 5, byte badTestLabel = 0)
    {
        byte[] train = Enumerable.Range(0, trainImages * Pixels).Select(i => (byte)(i / Pixels)).ToArray();
        IdxWriter.WriteImages(Path.Combine(dir, MnistFiles.TrainImages), train, trainImages, 28, 28);
        byte[] labels = Enumerable.Range(0, trainLabels).Select(i => (byte)(i % 10)).ToArray();

        IdxWriter.WriteLabels(Path.Combine(dir, MnistFiles.TrainLabels), labels);
        IdxWriter.WriteImages(Path.Combine(dir, MnistFiles.TestImages + ".gz"), new byte[3 * Pixels], 3, 28, 28);
        IdxWriter.WriteLabels(Path.Combine(dir, MnistFiles.TestLabels + ".gz"), [2, 3, badTestLabel == 0 ? (byte)4 : badTestLabel]);
    }

    [Fact]
    public void Load_SmallDirectory_LoadsRawAndGzipSplits()
    {
        using var temp = new TempDirectory();
        WriteSmallSet(temp.Path);

        ImageData data = ImageData.Load(temp.Path);

        Assert.Equal(5, data.Train.Count);
        Assert.Equal((28, 28), (data.Train.Rows, data.Train.Cols));
        Assert.Equal(5 * Pixels, data.Train.Images.Length);
        Assert.Equal([0, 1, 2, 3, 4], data.Train.Labels);
        Assert.All(data.Train.Image(3).ToArray(), p => Assert.Equal(3, p));
        Assert.Equal(3, data.Test.Count);
        Assert.Equal([2, 3, 4], data.Test.Labels);
        Assert.Equal(5, data.Classes);
        Assert.True(data.HasLabels);
    }

    [Fact]
    public void Load_WithLimit_KeepsFirstTrainingImages()
    {
        using var temp = new TempDirectory();
        WriteSmallSet(temp.Path);

        ImageData data = ImageData.Load(temp.Path, trainLimit: 2);

        Assert.Equal(2, data.Train.Count);
        Assert.Equal(2 * Pixels, data.Train.Images.Length);
        Assert.Equal([0, 1], data.Train.Labels);
        Assert.Equal(1, data.Train.Image(1)[0]);
        Assert.Equal(3, data.Test.Count);
    }

    [Fact]
    public void Load_LimitAboveCount_KeepsAll()
    {
        using var temp = new TempDirectory();
        WriteSmallSet(temp.Path);

        Assert.Equal(5, ImageData.Load(temp.Path, trainLimit: 1000).Train.Count);
    }

    [Fact]
    public void Load_ImageLabelCountMismatch_ThrowsNamingBothFiles()
    {
        using var temp = new TempDirectory();
        WriteSmallSet(temp.Path, trainImages: 5, trainLabels: 4);

        var ex = Assert.Throws<InvalidDataException>(() => ImageData.Load(temp.Path));

        Assert.Contains(MnistFiles.TrainImages, ex.Message);
        Assert.StartsWith(Path.Combine(temp.Path, MnistFiles.TrainLabels) + ": 4 labels for the 5 images of", ex.Message);
    }

    [Fact]
    public void Load_TestLabelBeyondTheTrainingClasses_ThrowsNamingFile()
    {
        using var temp = new TempDirectory();
        WriteSmallSet(temp.Path, badTestLabel: 9);

        var ex = Assert.Throws<InvalidDataException>(() => ImageData.Load(temp.Path));

        Assert.StartsWith(Path.Combine(temp.Path, MnistFiles.TestLabels + ".gz") + ":", ex.Message);
        Assert.Contains("label 9 at index 2 is outside the training labels' classes 0-4", ex.Message);
    }

    [Fact]
    public void Load_LabelOutOfRangeBeyondLimit_StillThrows()
    {
        using var temp = new TempDirectory();
        WriteSmallSet(temp.Path, badTestLabel: 200);

        Assert.Throws<InvalidDataException>(() => ImageData.Load(temp.Path, trainLimit: 1, testLimit: 1));
    }

    [Fact]
    public void LoadSet_ImagesOfAnotherSize_LoadWithTheirSize()
    {
        using var temp = new TempDirectory();
        string images = temp.File("images");
        string labels = temp.File("labels");
        IdxWriter.WriteImages(images, new byte[2 * 12 * 16], 2, 12, 16);
        IdxWriter.WriteLabels(labels, [1, 2]);

        var set = ImageData.LoadSet(images, labels);

        Assert.Equal((2, 12, 16, 192), (set.Count, set.Rows, set.Cols, set.PixelsPerImage));
    }

    [Fact]
    public void Load_MissingFile_ThrowsFileNotFoundNamingFileButNoCliFlag()
    {
        using var temp = new TempDirectory();
        WriteSmallSet(temp.Path);
        File.Delete(temp.File(MnistFiles.TrainImages));

        var ex = Assert.Throws<FileNotFoundException>(() => ImageData.Load(temp.Path));

        Assert.Contains(MnistFiles.TrainImages, ex.Message);
        // The library names no command-line flag; the CLI adds the hint (ErrorHints).
        Assert.DoesNotContain("--", ex.Message);
    }

    [Fact]
    public void Load_MissingDirectory_ThrowsDirectoryNotFound()
    {
        using var temp = new TempDirectory();
        string missing = temp.File("nope");

        var ex = Assert.Throws<DirectoryNotFoundException>(() => ImageData.Load(missing));

        Assert.Contains(missing, ex.Message);
    }

    [Fact]
    public void Load_TruncatedImages_ThrowsNamingFile()
    {
        using var temp = new TempDirectory();
        WriteSmallSet(temp.Path);
        string images = temp.File(MnistFiles.TrainImages);
        byte[] bytes = File.ReadAllBytes(images);
        File.WriteAllBytes(images, bytes[..^100]);

        var ex = Assert.Throws<InvalidDataException>(() => ImageData.Load(temp.Path));

        Assert.Contains(images, ex.Message);
        Assert.Contains($"truncated: expected {5 * Pixels} bytes of pixels, found {5 * Pixels - 100}", ex.Message);
    }

    [MnistFact]
    public void Load_RealMnist_HasStandardSplits()
    {
        ImageData data = ImageData.Load(TestData.MnistDirectory!, trainLimit: 1000);

        Assert.Equal(1000, data.Train.Count);
        Assert.Equal(1000 * Pixels, data.Train.Images.Length);
        Assert.Equal(10000, data.Test.Count);
        // The first training digit of MNIST is a 5, and the first test digit a 7.
        Assert.Equal(5, data.Train.Labels[0]);
        Assert.Equal(7, data.Test.Labels[0]);
        Assert.Equal(10, data.Test.Labels.Distinct().Count());
    }
}
