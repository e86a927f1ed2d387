using IlgpuVae.Compute;
using IlgpuVae.Models;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Models;

/// <summary>Issue 21's conventions an app meets first: configs and options compare by value, no overload binds a
/// call to the wrong meaning, zero samples are zero images, and pixels outside [0, 1] are an error.</summary>
public sealed class ApiConventionTests
{
    [Fact]
    public void Configs_AndOptions_CompareByValue()
    {
        Assert.Equal(VaeConfig.Default, VaeConfig.Default);
        Assert.True(VaeConfig.Default == new VaeConfig(784, [400], 20));
        Assert.Equal(VaeConfig.Default.GetHashCode(), new VaeConfig(784, new List<int> { 400 }, 20).GetHashCode());
        Assert.Equal(VaeConfig.Convolutional(), VaeConfig.Convolutional());
        Assert.Equal(new TrainingOptions { Epochs = 3 }, new TrainingOptions { Epochs = 3 });
        Assert.Equal(new TrainingOptions().GetHashCode(), new TrainingOptions().GetHashCode());
        // An unset image size reads as the square it implies: the same model as one set explicitly.
        Assert.Equal(VaeConfig.Default, VaeConfig.Default with { ImageHeight = 28, ImageWidth = 28 });

        // Every property tells configs apart.
        VaeConfig[] different =
        [
            VaeConfig.Default with { Hidden = [401] },
            VaeConfig.Default with { Hidden = [400, 400] },
            VaeConfig.Default with { Latent = 2 },
            VaeConfig.Default with { Classes = 10 },
            VaeConfig.Default with { ConditionEveryLayer = true },
            VaeConfig.Default with { Activation = HiddenActivation.Tanh },
            VaeConfig.Default.ForImages(14, 56),
            VaeConfig.Default.ForImages(28, 28, 3),
            VaeConfig.Convolutional(),
            VaeConfig.Convolutional(channels: [16, 64]),
            VaeConfig.Default with { InputSize = 100 },
        ];
        foreach (var config in different)
            Assert.NotEqual(VaeConfig.Default, config);
        Assert.NotEqual(new TrainingOptions(), new TrainingOptions { Model = VaeConfig.Default with { Latent = 2 } });
        Assert.Equal(IlgpuVae.Classification.ClassifierTrainer.DefaultSettings, IlgpuVae.Classification.ClassifierTrainer.DefaultSettings);
        Assert.Equal(new TrainingSettings { Epochs = 3 }, new TrainingSettings { Epochs = 3 });
        Assert.NotEqual(new TrainingSettings(), IlgpuVae.Classification.ClassifierTrainer.DefaultSettings);
        // A VAE's options are settings and more: never equal to bare settings with the same shared values.
        Assert.NotEqual<TrainingSettings>(new TrainingSettings(), new TrainingOptions());
        Assert.NotEqual(IlgpuVae.Classification.ClassifierConfig.Default, IlgpuVae.Classification.ClassifierConfig.Default with { Hidden = [512] });
    }

    // Equals and GetHashCode list the properties by hand: a new one must be added there. This names them.
    [Fact]
    public void VaeConfig_Equality_CoversEveryProperty()
    {
        var settable = typeof(VaeConfig).GetProperties()
            .Where(p => p.SetMethod is not null && p.Name != "EqualityContract").Select(p => p.Name).Order().ToArray();
        Assert.Equal(["Activation", "Architecture", "Channels", "Classes", "ConditionEveryLayer", "Hidden", "Hidden2", "ImageChannels", "ImageHeight", "ImageWidth",
            "InputMean", "InputSize", "InputStd", "Latent", "Latent2", "Likelihood", "Sigma"], settable);
    }

    [Fact]
    public void Sampling_OneClass_HasItsOwnName_AndZeroSamplesAreNone()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var vae = VaeModel.Create(device, new VaeConfig(784, [8], 2), capacity: 4);
        // Sample(16, 7, 1) once bound to "label 16, count 7" and threw "labels given to an unconditional VAE".
        var sixteen = vae.Sample(16, 7);
        Assert.Equal((16, 1, 28, 28, 784, 16 * 784), (sixteen.Count, sixteen.Channels, sixteen.Height, sixteen.Width, sixteen.ValuesPerImage, sixteen.Values.Length));
        Assert.Equal(0, vae.Sample(0, 1).Count);
        Assert.Empty(vae.Sample(0, 1).Values);
        using var cvae = VaeModel.Create(device, new VaeConfig(784, [8], 2, Classes: 10), capacity: 4);
        Assert.Equal(cvae.Sample(3, 5, [4, 4, 4]).Values, cvae.SampleClass(label: 4, count: 3, seed: 5).Values);
    }

    [Theory]
    [InlineData(2f)]
    [InlineData(-0.5f)]
    [InlineData(float.NaN)]
    [InlineData(255f)]
    public void Pixels_OutsideZeroToOne_AreAnError_NamingTheValue(float pixel)
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Create(device, new VaeConfig(784, [8], 2), capacity: 4);
        var images = new float[2 * 784];
        images[784 + 5] = pixel;
        var e = Assert.Throws<ArgumentException>(() => model.Encode(images));
        Assert.Contains($"value 5 of image 1 is {pixel}", e.Message);
        Assert.Throws<ArgumentException>(() => model.Reconstruct(images));
        Assert.Throws<ArgumentException>(() => model.Score(images));
    }
}
