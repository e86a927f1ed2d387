using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Training;

/// <summary>
/// Burda et al.'s initial output bias (<see cref="TrainingOptions.OutputBiasFromData"/>): the logit of each pixel's
/// training mean, clipped; nothing else in the initialisation changes; it is recorded in config.json and refused where
/// the decoder's output is not a logit of a dense layer.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class OutputBiasTests
{
    private static readonly Lazy<ImageData> Mnist = new(() => ImageData.Load(TestData.MnistDirectory!, testLimit: 200));

    private static TrainingOptions Small(bool fromData) => new()
    {
        Epochs = 1, BatchSize = 50, Limit = 700, Seed = 3,
        Model = VaeConfig.Burda with { Hidden = [24, 16], Latent = 4 },
        DynamicBinarization = true,
        OutputBiasFromData = fromData,
    };

    private static Dictionary<string, float[]> Initial(TrainingOptions options)
    {
        var device = OpsHarness.Device("vectorized");
        using var trainer = new VaeTrainer(device, Mnist.Value, options);
        var graph = trainer.Model.Network.Graph;
        return graph.Export(graph.Parameters).ToDictionary(t => t.Name, t => t.Data);
    }

    [MnistFact]
    public void DataMean_StartsTheOutputBiasAtTheClippedLogitOfEachPixelsTrainingMean_AndChangesNothingElse()
    {
        var fromData = Initial(Small(true));
        var uniform = Initial(Small(false));
        // The reference in doubles, from the 700 training images the run uses (not the test images, not all 60,000).
        var train = Mnist.Value.Train.Take(700);
        int d = train.PixelsPerImage;
        int clipped = 0;
        for (int f = 0; f < d; f++)
        {
            double mean = 0;
            for (int i = 0; i < train.Count; i++)
                mean += train.Images[i * d + f] / 255.0;
            mean /= train.Count;
            double p = Math.Clamp(mean, 0.001, 0.999);
            clipped += p != mean ? 1 : 0;
            double expected = Math.Log(p / (1 - p));
            Assert.True(Math.Abs(fromData["out.bias"][f] - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)),
                $"pixel {f}: {fromData["out.bias"][f]} against {expected}");
        }
        // MNIST's border pixels are 0 in every image: the clip is what keeps their logit finite (-6.9).
        Assert.InRange(clipped, 1, d - 1);
        Assert.Contains(fromData["out.bias"], b => MathF.Abs(b - MathF.Log(0.001f / 0.999f)) < 1e-4f);
        Assert.NotEqual(uniform["out.bias"], fromData["out.bias"]);
        foreach (var (name, values) in uniform)
            if (name != "out.bias")
                Assert.Equal(values, fromData[name]);
    }

    [MnistFact]
    public void DataMean_StartsLowerAndLearnsFaster_ThanTheUniformDraw()
    {
        // An untrained decoder at p = 0.5 everywhere costs about 784 ln 2 = 543 nats an image; one at the mean image
        // costs the binarised images' entropy under the mean, far less; after one short epoch the gap remains.
        var device = OpsHarness.Device("vectorized");
        double Loss(bool fromData)
        {
            using var trainer = new VaeTrainer(device, Mnist.Value, Small(fromData));
            return trainer.Train().Epochs[^1].TestLoss;
        }
        double withMean = Loss(true), withUniform = Loss(false);
        Assert.True(withMean < withUniform - 10, $"data-mean {withMean:F2}, uniform {withUniform:F2}");
    }

    [Fact]
    public void RoundTripsThroughConfig_AndIsNotWrittenWhenOff()
    {
        string text = RunDirectory.ConfigText(new TrainingOptions { OutputBiasFromData = true });
        Assert.Contains("\"output_bias\": \"data-mean\"", text);
        Assert.True(RunDirectory.ParseConfig(text, "config.json").OutputBiasFromData);
        string usual = RunDirectory.ConfigText(new TrainingOptions());
        Assert.DoesNotContain("output_bias", usual);
        Assert.False(RunDirectory.ParseConfig(usual, "config.json").OutputBiasFromData);
        Assert.False(RunDirectory.ParseConfig(usual.Replace("\"seed\"", "\"output_bias\": \"uniform\", \"seed\""), "config.json").OutputBiasFromData);
        var error = Assert.Throws<InvalidDataException>(() =>
            RunDirectory.ParseConfig(text.Replace("data-mean", "zeros"), "config.json"));
        Assert.Contains("output_bias 'zeros' is not uniform or data-mean", error.Message);
    }

    [Fact]
    public void IsRefused_ForAGaussianOrAConvolutionalDecoder()
    {
        var gaussian = new TrainingOptions { OutputBiasFromData = true, Model = VaeConfig.Default with { Likelihood = DecoderLikelihood.Gaussian } };
        Assert.Contains("not a Gaussian one", Assert.Throws<ArgumentException>(gaussian.Validate).Message);
        var conv = new TrainingOptions { OutputBiasFromData = true, Model = VaeConfig.Convolutional() };
        Assert.Contains("dense decoder", Assert.Throws<ArgumentException>(conv.Validate).Message);
        new TrainingOptions { OutputBiasFromData = true, Model = VaeConfig.Default with { Likelihood = DecoderLikelihood.ContinuousBernoulli } }.Validate();
    }
}
