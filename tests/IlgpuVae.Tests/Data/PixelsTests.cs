using IlgpuVae.Data;
using Xunit;

namespace IlgpuVae.Tests.Data;

public sealed class PixelsTests
{
    [Fact]
    public void ToBytes_RoundsClampsAndZeroesNaN()
    {
        Assert.Equal([0, 255, 128, 0, 255, 0, 1, 254],
            Pixels.ToBytes([0f, 1f, 0.5f, -1f, 2f, float.NaN, 0.5f / 255f, 253.5f / 255f]));
    }

    [Fact]
    public void Gather_ChosenImagesInOrder_ScaledToUnitInterval()
    {
        var images = Enumerable.Range(0, 3 * 4).Select(i => (byte)(i * 20)).ToArray();
        var set = new ImageSet(images, [7, 8, 9], 2, 2);
        var pixels = set.Gather([2, 0]).Values;
        Assert.Equal([160 / 255f, 180 / 255f, 200 / 255f, 220 / 255f, 0f, 20 / 255f, 40 / 255f, 60 / 255f], pixels);
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Gather([3]));
    }
}
