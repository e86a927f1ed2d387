using IlgpuVae.Compute;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using IlgpuVae.Models;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Data;

/// <summary>Images of one's own: folders of pictures, .npy arrays and arrays in memory, each checked as strictly as IDX
/// files, and the same images from each source giving the same model bit for bit.</summary>
public sealed class ImageSourceTests
{
    private const int S = ColouredShapes.Size;

    /// <summary>Where <see cref="Folder_TrainAndTestClassFolders_AreLabelledInOrdinalOrder_AsWritten"/> writes the
    /// measurement's set of docs/own-images.md (2,400 training and 600 test pictures) instead of a small one.</summary>
    public const string ShapesDirectoryVariable = "ILGPU_VAE_SHAPES_DIR";

    [Fact]
    public void Folder_TrainAndTestClassFolders_AreLabelledInOrdinalOrder_AsWritten()
    {
        using var temporary = new TempDirectory();
        string? measured = Environment.GetEnvironmentVariable(ShapesDirectoryVariable);
        string folder = measured ?? temporary.Path;
        var written = measured is null ? ColouredShapes.WriteFolder(folder, 40, 12) : ColouredShapes.WriteFolder(folder, 2400, 600);
        var loaded = ImageData.LoadFolder(folder);
        Assert.Equal(ColouredShapes.ClassNames, loaded.ClassNames);
        Assert.Equal((3, S, S, 4), (loaded.ImageChannels, loaded.ImageHeight, loaded.ImageWidth, loaded.Classes));
        // The folder lists each class's files together; written in index order within a class.
        AssertSameImages(InFolderOrder(written.Train), loaded.Train);
        AssertSameImages(InFolderOrder(written.Test), loaded.Test);
    }

    [Fact]
    public void Folder_FlatGreyPictures_AreUnlabelled_AndHeldOutWithTheFixedSeed()
    {
        using var dir = new TempDirectory();
        var (images, _) = SyntheticIdx.Make(20, 1);
        ColouredShapes.WritePictures(dir.File("flat"), images, new byte[20], [""], 1, SyntheticIdx.Height, SyntheticIdx.Width);
        var loaded = ImageData.LoadFolder(dir.File("flat"), new DataLoadOptions { TestFraction = 0.25 });
        Assert.False(loaded.HasLabels);
        Assert.Null(loaded.ClassNames);
        Assert.Equal(1, loaded.ImageChannels);
        var (train, test) = ImageSet.FromBytes(images, 20, 1, SyntheticIdx.Height, SyntheticIdx.Width).Split(0.25, DataLoadOptions.HoldOutSeed);
        Assert.Equal((15, 5), (loaded.Train.Count, loaded.Test.Count));
        AssertSameImages(train, loaded.Train);
        AssertSameImages(test, loaded.Test);
        // The split is random, not the last images: held-out indices are not 15-19.
        Assert.False(test.Images.AsSpan().SequenceEqual(images.AsSpan(15 * SyntheticIdx.Height * SyntheticIdx.Width)));
    }

    [Fact]
    public void Folder_ChannelsOption_ConvertsColourToLuma_AndGreyToColour()
    {
        using var dir = new TempDirectory();
        var written = ColouredShapes.WriteFolder(dir.Path, 8, 4);
        var grey = ImageData.LoadFolder(dir.Path, new DataLoadOptions { ImageChannels = 1 });
        Assert.Equal(1, grey.ImageChannels);
        var colour = InFolderOrder(written.Train);
        int plane = S * S;
        for (int i = 0; i < colour.Count; i++)
            for (int p = 0; p < plane; p++)
            {
                int r = colour.Images[i * 3 * plane + p], g = colour.Images[i * 3 * plane + plane + p], b = colour.Images[i * 3 * plane + 2 * plane + p];
                // stb_image's luma, in integers.
                Assert.Equal((r * 77 + g * 150 + b * 29) >> 8, grey.Train.Images[i * plane + p]);
            }

        using var greyDir = new TempDirectory();
        var (images, labels) = SyntheticIdx.Make(6, 1);
        ColouredShapes.WritePictures(greyDir.File("x"), images, labels, ["a", "b", "c"], 1, SyntheticIdx.Height, SyntheticIdx.Width);
        var rgb = ImageData.LoadFolder(greyDir.File("x"), new DataLoadOptions { ImageChannels = 3, TestFraction = 0.5 });
        Assert.Equal(3, rgb.ImageChannels);
        int d = SyntheticIdx.Height * SyntheticIdx.Width;
        for (int i = 0; i < rgb.Train.Count; i++)
        {
            var image = rgb.Train.Image(i);
            Assert.True(image[..d].SequenceEqual(image.Slice(d, d)) && image[..d].SequenceEqual(image.Slice(2 * d, d)));
        }
    }

    [Fact]
    public void Resize_TargetSize_IsUnchanged_HalfSize_AveragesBlocks_WidePicture_IsCroppedAboutTheCentre()
    {
        var random = new Random(5);
        var source = new byte[6 * 8 * 3];
        random.NextBytes(source);
        var planes = new byte[source.Length];
        ImageFolder.Resize(source, 6, 8, 3, 6, 8, planes);
        var expected = new byte[source.Length];
        Pixels.ToPlanes(source, 3, expected);
        Assert.Equal(expected, planes);

        // Half size: every output pixel is the mean of its 2x2 block (bilinear at pixel centres), rounded.
        var half = new byte[3 * 4 * 3];
        ImageFolder.Resize(source, 6, 8, 3, 3, 4, half);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 4; x++)
                {
                    double sum = 0;
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++)
                            sum += source[((2 * y + dy) * 8 + 2 * x + dx) * 3 + c];
                    Assert.Equal((byte)Math.Round(sum / 4, MidpointRounding.AwayFromZero), half[(c * 3 + y) * 4 + x]);
                }

        // 6x8 to 6x6: no scaling, columns 1-6 kept.
        var square = new byte[6 * 6];
        var grey = source[..48];
        ImageFolder.Resize(grey, 6, 8, 1, 6, 6, square);
        for (int y = 0; y < 6; y++)
            Assert.Equal(grey.AsSpan(y * 8 + 1, 6).ToArray(), square.AsSpan(y * 6, 6).ToArray());
    }

    [Fact]
    public void Folder_ImageSize_ResizesPicturesOfManySizes()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("a"));
        Png.WriteGray(dir.File("a/1.png"), 10, 20, new byte[200]);
        Png.WriteGray(dir.File("a/2.png"), 30, 15, Enumerable.Repeat((byte)200, 450).ToArray());
        var e = Assert.Throws<InvalidDataException>(() => ImageData.LoadFolder(dir.Path, new DataLoadOptions { TestFraction = 0.5 }));
        Assert.Contains(dir.File("a/2.png"), e.Message);
        Assert.Contains("15x30", e.Message);
        var loaded = ImageData.LoadFolder(dir.Path, new DataLoadOptions { TestFraction = 0.5, ImageSize = (8, 8) });
        Assert.Equal((8, 8), (loaded.ImageHeight, loaded.ImageWidth));
        Assert.All(loaded.Train.Images.Concat(loaded.Test.Images), v => Assert.True(v is 0 or 200));
    }

    [Fact]
    public void Folder_BadContents_AreDataErrorsNamingTheFile()
    {
        using var dir = new TempDirectory();
        ColouredShapes.WriteFolder(dir.Path, 8, 4);
        string bad = Path.Combine(dir.Path, "train", "disc", "broken.png");
        File.WriteAllText(bad, "not a picture");
        Assert.Contains(bad, Assert.Throws<InvalidDataException>(() => ImageData.LoadFolder(dir.Path)).Message);
        File.WriteAllBytes(bad, File.ReadAllBytes(Directory.GetFiles(Path.Combine(dir.Path, "train", "square"))[0])[..60]);
        Assert.Contains(bad, Assert.Throws<InvalidDataException>(() => ImageData.LoadFolder(dir.Path)).Message);
        File.Delete(bad);

        string empty = Path.Combine(dir.Path, "test", "zigzag");
        Directory.CreateDirectory(empty);
        Assert.Contains(empty, Assert.Throws<InvalidDataException>(() => ImageData.LoadFolder(dir.Path)).Message);
        Directory.Delete(empty);
        Directory.CreateDirectory(Path.Combine(dir.Path, "train", "zigzag"));
        File.Copy(Directory.GetFiles(Path.Combine(dir.Path, "train", "square"))[0], Path.Combine(dir.Path, "train", "zigzag", "1.png"));
        Assert.Contains("differ from", Assert.Throws<InvalidDataException>(() => ImageData.LoadFolder(dir.Path)).Message);

        using var nothing = new TempDirectory();
        File.WriteAllText(nothing.File("notes.txt"), "no pictures here");
        Assert.Contains("no pictures", Assert.Throws<InvalidDataException>(() => ImageData.LoadFolder(nothing.Path, new DataLoadOptions { TestFraction = 0.5 })).Message);
    }

    [Fact]
    public void Npy_RoundTrips_AndEveryLayoutReadsAsTheSameImages()
    {
        using var dir = new TempDirectory();
        var values = Enumerable.Range(0, 2 * 3 * 4 * 5).Select(i => i / 119f).ToArray();
        Npy.WriteFloats(dir.File("f.npy"), [2, 3, 4, 5], values);
        var back = Npy.Read(dir.File("f.npy"));
        Assert.Equal([2, 3, 4, 5], back.Shape);
        Assert.Equal(values, back.Floats());

        var (images, labels) = ColouredShapes.Make(10, 3);
        var memory = ImageSet.FromBytes(images, 10, 3, S, S, labels);
        WriteNpyBytes(dir.File("nchw.npy"), [10, 3, S, S], images);
        var nhwc = new byte[images.Length];
        int plane = S * S;
        for (int n = 0; n < 10; n++)
            for (int p = 0; p < plane; p++)
                for (int c = 0; c < 3; c++)
                    nhwc[(n * plane + p) * 3 + c] = images[n * 3 * plane + c * plane + p];
        WriteNpyBytes(dir.File("nhwc.npy"), [10, S, S, 3], nhwc);
        WriteNpyLabels(dir.File("labels.npy"), labels);
        var options = new DataLoadOptions { TestFraction = 0.2 };
        var (train, test) = memory.Split(0.2, DataLoadOptions.HoldOutSeed);
        foreach (var file in new[] { "nchw.npy", "nhwc.npy" })
        {
            var loaded = ImageData.LoadNpy(dir.File(file), dir.File("labels.npy"), options);
            AssertSameImages(train, loaded.Train);
            AssertSameImages(test, loaded.Test);
            Assert.True(loaded.HasLabels);
        }
    }

    [Fact]
    public void Npy_BadArrays_AreDataErrorsSayingWhat()
    {
        using var dir = new TempDirectory();
        var options = new DataLoadOptions { TestFraction = 0.5 };
        Npy.WriteFloats(dir.File("high.npy"), [2, 2, 2], [0, 0.5f, 1, 0, 0, 1.5f, 0, 0]);
        Assert.Contains("value 1.5 at index 5 is outside [0, 1]", Assert.Throws<InvalidDataException>(() => ImageData.LoadNpy(dir.File("high.npy"), null, options)).Message);
        Npy.WriteFloats(dir.File("nan.npy"), [2, 2, 2], [0, 0, float.NaN, 0, 0, 0, 0, 0]);
        Assert.Contains("at index 2", Assert.Throws<InvalidDataException>(() => ImageData.LoadNpy(dir.File("nan.npy"), null, options)).Message);
        Npy.WriteFloats(dir.File("flat.npy"), [8], new float[8]);
        Assert.Contains("is not N x H x W", Assert.Throws<InvalidDataException>(() => ImageData.LoadNpy(dir.File("flat.npy"), null, options)).Message);
        Npy.WriteFloats(dir.File("c5.npy"), [1, 5, 2, 2], new float[20]);
        Assert.Contains("C = 1 or 3", Assert.Throws<InvalidDataException>(() => ImageData.LoadNpy(dir.File("c5.npy"), null, options)).Message);

        // Fortran order and big-endian data are refused, not misread.
        var good = File.ReadAllBytes(dir.File("flat.npy"));
        string header = System.Text.Encoding.ASCII.GetString(good, 10, good[8]);
        File.WriteAllBytes(dir.File("fortran.npy"), [.. good[..10], .. System.Text.Encoding.ASCII.GetBytes(header.Replace("False", "True ")), .. good[(10 + good[8])..]]);
        Assert.Contains("fortran_order", Assert.Throws<InvalidDataException>(() => Npy.Read(dir.File("fortran.npy"))).Message);
        File.WriteAllBytes(dir.File("big.npy"), [.. good[..10], .. System.Text.Encoding.ASCII.GetBytes(header.Replace("<f4", ">f4")), .. good[(10 + good[8])..]]);
        Assert.Contains("'>f4'", Assert.Throws<InvalidDataException>(() => Npy.Read(dir.File("big.npy"))).Message);
        File.WriteAllBytes(dir.File("short.npy"), good[..^4]);
        Assert.Contains("needs 32 bytes", Assert.Throws<InvalidDataException>(() => Npy.Read(dir.File("short.npy"))).Message);
        // A shape whose element count wraps a 64-bit product to the empty file's 0 is refused, not read as 0 images.
        WriteNpy(dir.File("wrap.npy"), "<f4", [1 << 30, 1 << 30, 16], []);
        Assert.Contains("holds more elements than any file can", Assert.Throws<InvalidDataException>(() => Npy.Read(dir.File("wrap.npy"))).Message);
        File.WriteAllText(dir.File("text.npy"), "x,y\n1,2\n");
        Assert.Contains("not a .npy file", Assert.Throws<InvalidDataException>(() => Npy.Read(dir.File("text.npy"))).Message);

        WriteNpyBytes(dir.File("u8.npy"), [4, 2, 2], new byte[16]);
        WriteNpyLabels(dir.File("three.npy"), [0, 1, 2]);
        Assert.Contains("3 labels for the 4 images", Assert.Throws<InvalidDataException>(() => ImageData.LoadNpy(dir.File("u8.npy"), dir.File("three.npy"), options)).Message);
    }

    [Fact]
    public void Memory_FromFloats_ValidatesLikeFiles_AndKeepsByteValues()
    {
        var bytes = Enumerable.Range(0, 2 * 3 * 2 * 2).Select(i => (byte)(i * 10)).ToArray();
        var fromFloats = ImageSet.FromFloats(bytes.Select(b => b / 255f).ToArray(), 2, 3, 2, 2, [1, 0]);
        Assert.Equal(bytes, fromFloats.Images);
        Assert.Equal((3, 12), (fromFloats.Channels, fromFloats.PixelsPerImage));
        var e = Assert.Throws<ArgumentException>(() => ImageSet.FromFloats([0, 0.5f, -0.25f, 1], 1, 1, 2, 2));
        Assert.Contains("value -0.25 at index 2", e.Message);
        Assert.Throws<ArgumentException>(() => ImageSet.FromBytes(new byte[12], 2, 3, 2, 2));
        Assert.Throws<ArgumentException>(() => ImageSet.FromBytes(new byte[24], 2, 3, 2, 2, [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageSet.FromBytes(new byte[16], 2, 2, 2, 2));
        var (train, test) = fromFloats.Split(0.5, 7);
        Assert.Equal((1, 1), (train.Count, test.Count));
        Assert.NotEqual(train.Labels[0], test.Labels[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => fromFloats.Split(1, 7));
    }

    // The same pictures as a folder, as .npy arrays and from memory: the same splits, and the same model bit for bit.
    [Fact]
    public void SameImages_FromFolderNpyAndMemory_TrainTheSameModelBitForBit()
    {
        using var dir = new TempDirectory();
        var (images, labels) = ColouredShapes.Make(60, 4);
        var memory = InFolderOrder(ImageSet.FromBytes(images, 60, 3, S, S, labels));
        ColouredShapes.WritePictures(dir.File("pictures"), images, labels);
        WriteNpyBytes(dir.File("images.npy"), [60, 3, S, S], memory.Images);
        WriteNpyLabels(dir.File("labels.npy"), memory.Labels);
        var options = new DataLoadOptions { TestFraction = 0.25 };
        var (train, test) = memory.Split(0.25, DataLoadOptions.HoldOutSeed);
        ImageData[] sources =
        [
            ImageData.LoadFolder(dir.File("pictures"), options),
            ImageData.LoadNpy(dir.File("images.npy"), dir.File("labels.npy"), options),
            new ImageData(train, test, "memory"),
        ];
        var device = OpsHarness.Device("vectorized");
        var training = new TrainingOptions
        {
            Epochs = 1, BatchSize = 16, Model = VaeConfig.Convolutional(latent: 2, channels: [4], dense: [8], height: S, width: S, imageChannels: 3),
        };
        var results = sources.Select(data =>
        {
            using var trainer = new VaeTrainer(device, data, training);
            var result = trainer.Train();
            return (result.Epochs[^1].TestLoss, Sample: trainer.Model.Sample(3, 9).Values);
        }).ToArray();
        Assert.True(double.IsFinite(results[0].TestLoss));
        foreach (var other in results[1..])
        {
            Assert.Equal(results[0].TestLoss, other.TestLoss);
            Assert.Equal(results[0].Sample, other.Sample);
        }
    }

    // The same grey images as IDX files and as a folder of PNGs (class folders "0", "1", "2"): the same model.
    [Fact]
    public void SameGreyImages_FromIdxAndPngFolder_TrainTheSameModelBitForBit()
    {
        using var dir = new TempDirectory();
        var data = SyntheticIdx.InMemory();
        var train = InFolderOrder(data.Train);
        var test = InFolderOrder(data.Test);
        int h = SyntheticIdx.Height, w = SyntheticIdx.Width;
        IdxWriter.WriteImages(dir.File(MnistFiles.TrainImages), train.Images, train.Count, h, w);
        IdxWriter.WriteLabels(dir.File(MnistFiles.TrainLabels), train.Labels);
        IdxWriter.WriteImages(dir.File(MnistFiles.TestImages), test.Images, test.Count, h, w);
        IdxWriter.WriteLabels(dir.File(MnistFiles.TestLabels), test.Labels);
        string[] names = ["0", "1", "2"];
        ColouredShapes.WritePictures(dir.File("png/train"), train.Images, train.Labels, names, 1, h, w);
        ColouredShapes.WritePictures(dir.File("png/test"), test.Images, test.Labels, names, 1, h, w);
        var device = OpsHarness.Device("vectorized");
        var training = new TrainingOptions { Epochs = 2, BatchSize = 32, Model = new VaeConfig(h * w, [16], 2) };
        var losses = new[] { ImageData.Load(dir.Path), ImageData.LoadFolder(dir.File("png")) }.Select(source =>
        {
            using var trainer = new VaeTrainer(device, source, training);
            return trainer.Train().Epochs.Select(e => e.TestLoss).ToArray();
        }).ToArray();
        Assert.Equal(losses[0], losses[1]);
    }

    [Fact]
    public void ColourConfig_RecordsImageChannels_OnlyWhenNotOne()
    {
        Assert.False(VaeConfig.Default.ToMetadata().ContainsKey("image_channels"));
        var colour = VaeConfig.Convolutional(height: 32, width: 32, imageChannels: 3);
        var metadata = colour.ToMetadata();
        Assert.Equal("3", metadata["image_channels"]);
        Assert.Equal(colour, VaeConfig.FromMetadata(metadata, "m"));
        Assert.Equal("conv-vae 3x32x32-c32-c64-400-20", colour.ToString());
        metadata["image_channels"] = "2";
        Assert.Contains("1 (grey) or 3 (RGB)", Assert.Throws<InvalidDataException>(() => VaeConfig.FromMetadata(metadata, "m")).Message);
    }

    // Stable by label: the order a folder of class folders lists the images in.
    private static ImageSet InFolderOrder(ImageSet set) =>
        set.Select(Enumerable.Range(0, set.Count).OrderBy(i => set.Labels[i]).ToArray());

    private static void AssertSameImages(ImageSet expected, ImageSet actual)
    {
        Assert.Equal((expected.Count, expected.Channels, expected.Rows, expected.Cols), (actual.Count, actual.Channels, actual.Rows, actual.Cols));
        Assert.Equal(expected.Images, actual.Images);
        Assert.Equal(expected.Labels, actual.Labels);
    }

    internal static void WriteNpyBytes(string path, int[] shape, byte[] data) => WriteNpy(path, "|u1", shape, data);

    internal static void WriteNpyLabels(string path, byte[] labels) =>
        WriteNpy(path, "<i8", [labels.Length], labels.SelectMany(l => BitConverter.GetBytes((long)l)).ToArray());

    // NumPy's own layout, written here independently of the writer under test.
    internal static void WriteNpy(string path, string descr, int[] shape, byte[] data)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = (10 + dict.Length + 1 + 63) / 64 * 64;
        string header = dict.PadRight(total - 11) + "\n";
        byte[] prefix = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8)];
        File.WriteAllBytes(path, [.. prefix, .. System.Text.Encoding.ASCII.GetBytes(header), .. data]);
    }
}
