using IlgpuVae.Checkpoints;
using IlgpuVae.Classification;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Layers;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Classification;

/// <summary>
/// The classifier tests that run networks share one private CPU device, one test at a time: the vectorised ops'
/// worker team serves one caller at a time, and <see cref="Compute.OpsHarness"/>'s shared device is used
/// unlocked by other test classes.
/// </summary>
public sealed class ClassifierDevice : IDisposable
{
    public const string Name = "classifier device";

    public ComputeDevice Device { get; } = ComputeDevice.Open(DeviceChoice.Cpu);

    public void Dispose() => Device.Dispose();
}

[CollectionDefinition(ClassifierDevice.Name)]
public sealed class ClassifierDeviceCollection : ICollectionFixture<ClassifierDevice>;

[Collection(ClassifierDevice.Name)]
public sealed class ClassifierFileTests(ClassifierDevice fixture)
{
    private static readonly ClassifierConfig Small = new(12, [8, 6], 4);

    private ComputeDevice Device => fixture.Device;

    private static float[] Images(int count, int d, int seed) => Compute.OpsHarness.Random(count * d, seed, 0, 1);

    [Fact]
    public void SaveLoad_RoundTrip_SameTensorsMetadataAndPredictions()
    {
        using var dir = new TempDirectory();
        string path = dir.File("classifier.safetensors");
        var images = Images(7, Small.InputSize, 3);
        using var original = Classifier.Create(Device, Small, seed: 9, capacity: 3);
        original.Save(path, new Dictionary<string, string> { ["test_accuracy"] = "0.5" });

        var header = SafeTensors.ReadHeader(path);
        Assert.Equal(["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias"],
            header.Tensors.Select(t => t.Name).ToArray());
        Assert.Equal([8, 12], header.Tensors[0].Shape);
        Assert.Equal([4, 6], header.Tensors[4].Shape);
        Assert.Equal(ClassifierConfig.Format, header.Metadata["format"]);
        Assert.Equal("8,6", header.Metadata["hidden"]);
        Assert.Equal("0.5", header.Metadata["test_accuracy"]);

        // A different capacity splits the work into other batches; the numbers must not change.
        using var loaded = Classifier.Load(Device, path, capacity: 5);
        Assert.Equal("mlp 12-8-6-4", loaded.Config.ToString());
        Assert.Equal(original.Logits(images), loaded.Logits(images));
        var labels = loaded.Predict(images, out var probabilities);
        Assert.Equal(original.Predict(images), labels);
        Assert.Equal(7 * 4, probabilities.Length);
        for (int r = 0; r < 7; r++)
        {
            var row = probabilities.AsSpan(r * 4, 4);
            Assert.Equal(1.0, row.ToArray().Sum(), 5);
            Assert.Equal(labels[r], Classifier.ArgMax(row));
        }
    }

    [Fact]
    public void Predict_BadInput_IsRejected()
    {
        using var classifier = Classifier.Create(Device, Small, capacity: 3);
        Assert.Throws<ArgumentException>(() => classifier.Predict(new float[Small.InputSize + 1]));
        var images = new float[2 * Small.InputSize];
        images[Small.InputSize + 5] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => classifier.Predict(images));
        Assert.Contains("pixel 5 of image 1", e.Message);
        Assert.Throws<ArgumentException>(() => classifier.Accuracy(new float[Small.InputSize], [1, 2]));
        Assert.Empty(classifier.Predict([]));
    }

    public static TheoryData<string, string> BadFiles() => new()
    {
        { "garbage", "Invalid safetensors file" },
        { "vae", "not 'ilgpu-vae-classifier'" },
        { "no-format", "lacks 'format'" },
        { "bad-hidden", "'hidden' is not an integer" },
        { "one-class", "at least 2 classes" },
        { "missing", "'layers.2.bias' is missing" },
        { "shape", "'layers.1.weight' has shape [6, 9]" },
        { "nan", "'layers.0.bias' holds NaN" },
        { "extra", "unexpected tensor 'layers.3.weight'" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Load_BadFile_OneLineInvalidDataNamingFileAndProblem(string kind, string fragment)
    {
        using var dir = new TempDirectory();
        string path = dir.File(kind + ".safetensors");
        var metadata = Small.ToMetadata();
        var tensors = Tensors(Small);
        switch (kind)
        {
            case "garbage":
                File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
                break;
            case "vae":
                var vae = new VaeConfig(12, [8], 2);
                SafeTensors.Write(path, vae.ToMetadata(), VaeNetwork.LayoutOf(vae).Slots.Select(s => new NamedTensor(s.Name, s.Shape, new float[s.Length])));
                break;
            default:
                if (kind == "no-format") metadata.Remove("format");
                if (kind == "bad-hidden") metadata["hidden"] = "8,x";
                if (kind == "one-class") metadata["classes"] = "1";
                if (kind == "missing") tensors.RemoveAt(5);
                if (kind == "shape") tensors[2] = new NamedTensor("layers.1.weight", [6, 9], new float[54]);
                if (kind == "nan") tensors[1].Data[3] = float.NaN;
                if (kind == "extra") tensors.Add(new NamedTensor("layers.3.weight", [1], [0f]));
                SafeTensors.Write(path, metadata, tensors);
                break;
        }
        var e = Assert.Throws<InvalidDataException>(() => Classifier.Load(Device, path));
        Assert.Contains(path, e.Message);
        Assert.Contains(fragment, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Load_MissingFile_FileNotFound()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<FileNotFoundException>(() => Classifier.Load(Device, dir.File("none.safetensors")));
        Assert.Contains("no such classifier file", e.Message);
    }

    [Fact]
    public void Options_Nonsense_AreRejectedWithOneLine()
    {
        var defaults = ClassifierTrainer.DefaultSettings;
        var settings = new[]
        {
            defaults with { Epochs = 0 }, defaults with { BatchSize = 0 },
            defaults with { LearningRate = float.PositiveInfinity }, defaults with { LearningRate = 0 },
            defaults with { Limit = -3 }, defaults with { ReportEverySteps = 0 },
            new TrainingSettings { Epsilon = 0 }, new TrainingSettings { Schedule = (LearningRateSchedule)7 },
        };
        var configs = new[] { new ClassifierConfig(784, [512, 0]), new ClassifierConfig(0, [512]), new ClassifierConfig(784, [512], 1) };
        // The trainer checks both before it touches the device or the images.
        var data = new ImageData(new ImageSet(new byte[2 * 784], [0, 1], 28, 28), new ImageSet(new byte[784], [1], 28, 28));
        var bad = settings.Select(s => (ClassifierConfig.Default, (TrainingSettings?)s))
            .Concat(configs.Select(c => (c, (TrainingSettings?)null)));
        foreach (var (config, training) in bad)
        {
            var e = Assert.Throws<ArgumentException>(() => new ClassifierTrainer(Device, data, config, training));
            Assert.DoesNotContain('\n', e.Message);
        }
        foreach (var s in settings)
            Assert.Throws<ArgumentException>(s.Validate);
        foreach (var c in configs)
            Assert.Throws<ArgumentException>(c.Validate);
        // A VAE's options are valid settings, but their model and objective would mean nothing to a classifier.
        var vae = Assert.Throws<ArgumentException>(() => new ClassifierTrainer(Device, data, ClassifierConfig.Default, new TrainingOptions { Epochs = 1 }));
        Assert.Contains("a VAE's TrainingOptions given to the classifier trainer", vae.Message);
        Assert.DoesNotContain('\n', vae.Message);
    }

    private static List<NamedTensor> Tensors(ClassifierConfig config)
    {
        var tensors = new List<NamedTensor>();
        var layers = config.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            tensors.Add(new NamedTensor($"layers.{i}.weight", [layers[i].Outputs, layers[i].Inputs], new float[layers[i].Outputs * layers[i].Inputs]));
            tensors.Add(new NamedTensor($"layers.{i}.bias", [layers[i].Outputs], new float[layers[i].Outputs]));
        }
        return tensors;
    }
}
