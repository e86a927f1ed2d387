using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Training;

namespace IlgpuVae.Tests.Packaging;

/// <summary>README's "Your own images" library snippet, verbatim between the markers (<see cref="ReadmeSampleTests"/> checks the text and runs it).</summary>
internal static class OwnImagesSnippet
{
    public static (TrainingResult Result, ImageBatch Samples) Run(float[] pixels, byte[] labels, int count)
    {
        // README begin
        var all = ImageSet.FromFloats(pixels, count, channels: 3, height: 32, width: 32, labels);
        var (train, test) = all.Split(testFraction: 0.1, seed: 1);
        var data = new ImageData(train, test, "my-images");
        using var device = ComputeDevice.Open();
        var model = VaeConfig.Convolutional(latent: 8, channels: [16, 32], dense: [128], height: 32, width: 32, imageChannels: 3);
        using var trainer = new VaeTrainer(device, data, new TrainingOptions { Epochs = 2, Model = model });
        var result = trainer.Train();
        var samples = trainer.Model.Sample(16, seed: 7); // 16 images of 3 x 32 x 32 values in [0, 1]: samples.Image(0)
        // README end
        return (result, samples);
    }
}
