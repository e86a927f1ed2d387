using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using Xunit;

namespace IlgpuVae.Tests.Data;

/// <summary>Issue 21: images leave the library shaped (count, channels, height, width), and go back in as spans.</summary>
public sealed class ImageBatchTests
{
    [Fact]
    public void Batch_IsShaped_AndViewsItsImages()
    {
        var values = Enumerable.Range(0, 2 * 3 * 2 * 4).Select(i => (float)i).ToArray();
        var batch = new ImageBatch(values, count: 2, channels: 3, height: 2, width: 4);
        Assert.Equal((2, 3, 2, 4, 24), (batch.Count, batch.Channels, batch.Height, batch.Width, batch.ValuesPerImage));
        Assert.Same(values, batch.Values);
        Assert.Equal(values[24..], batch.Image(1).ToArray());
        Assert.Equal(values, batch.AsSpan().ToArray());
        ReadOnlySpan<float> span = batch;
        Assert.Equal(values.Length, span.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.Image(2));
        Assert.Equal("2 x 3x2x4", batch.ToString());
        Assert.Equal(0, new ImageBatch([], 0, 1, 28, 28).Count);
    }

    [Theory]
    [InlineData(11, 1, 1, 2, 5)]
    [InlineData(12, 2, 0, 2, 3)]
    [InlineData(0, -1, 1, 1, 1)]
    public void Batch_OfTheWrongSize_IsOneClearError(int length, int count, int channels, int height, int width)
    {
        var e = Assert.Throws<ArgumentException>(() => new ImageBatch(new float[length], count, channels, height, width));
        Assert.Contains($"{length} values are not {count} images of {channels}x{height}x{width}", e.Message);
    }

    [Fact]
    public void ModelOutputs_AreShapedAsItsImages_AndPassBackAsSpans()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var config = VaeConfig.Convolutional(latent: 2, channels: [4], dense: [8], height: 8, width: 12, imageChannels: 3);
        using var model = VaeModel.Create(device, config, capacity: 4);
        var samples = model.Sample(5, seed: 3);
        Assert.Equal((5, 3, 8, 12), (samples.Count, samples.Channels, samples.Height, samples.Width));
        // A batch goes straight back in wherever images are taken, with the same numbers as its values.
        Assert.Equal(model.Reconstruct(samples.Values).Values, model.Reconstruct(samples).Values);
        Assert.Equal(model.Score(samples.Values).Loss, model.Score(samples).Loss);
        var decoded = model.Decode(model.PriorSamples(5, seed: 3));
        Assert.Equal(samples.Values, decoded.Values);
        Assert.Equal(samples.Image(4).ToArray(), decoded.Values[(4 * 3 * 8 * 12)..]);
    }
}
