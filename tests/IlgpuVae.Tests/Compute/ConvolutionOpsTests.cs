using IlgpuVae.Kernels;
using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;

namespace IlgpuVae.Tests.Compute;

/// <summary>The convolution ops of both implementations against double-precision references on awkward shapes.</summary>
[Collection(SharedDevices.Name)]
public sealed class ConvolutionOpsTests
{
    // (B, C, H, W, O, KH, KW, stride, padding): one channel, batch 1, non-square images and kernels, kernel 1-5,
    // stride 1 and 2, padding 0-2, sizes the stride does not divide, and the conv VAE's two layers.
    private static readonly int[][] Shapes =
    [
        [1, 1, 5, 7, 1, 3, 3, 1, 1],
        [2, 3, 9, 6, 4, 5, 5, 2, 2],
        [3, 2, 7, 7, 5, 1, 1, 1, 0],
        [2, 4, 8, 5, 3, 4, 4, 2, 1],
        [1, 3, 6, 11, 2, 2, 3, 2, 0],
        [2, 5, 4, 4, 6, 5, 3, 1, 2],
        [1, 2, 13, 10, 3, 3, 5, 2, 1],
        [3, 1, 28, 28, 32, 4, 4, 2, 1],
        [2, 32, 14, 14, 64, 4, 4, 2, 1],
        // Patches of 1,600 x 1,600 floats per image: the vectorised ops go one image at a time.
        [3, 64, 40, 40, 8, 5, 5, 1, 2],
    ];

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var impl in new[] { "vectorized", "kernels" })
            for (int i = 0; i < Shapes.Length; i++)
                data.Add(impl, i);
        return data;
    }

    private static ConvShape Shape(int index)
    {
        var a = Shapes[index];
        return ConvShape.Create(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]);
    }

    private static double Tolerance(long terms) => 1e-5 * Math.Sqrt(terms) + 1e-6;

    [Theory]
    [MemberData(nameof(Cases))]
    [OpenClData(nameof(Cases))]
    public void Conv2d_AwkwardShapes_MatchesReference(string impl, int index)
    {
        var s = Shape(index);
        var x = Random((int)s.InputLength, 1 + index);
        var w = Random((int)s.WeightLength, 2 + index);
        With(impl, (acc, ops) =>
        {
            using var dx = acc.Upload(x);
            using var dw = acc.Upload(w);
            using var dy = acc.Poisoned((int)s.OutputLength);
            ops.Conv2d(dx.V(), dw.V(), dy.V(), s);
            var expected = Reference.Conv2d(x.Select(v => (double)v).ToArray(), w.Select(v => (double)v).ToArray(), s);
            Close(expected, dy.Read(ops), Tolerance(s.InChannels * s.KernelHeight * s.KernelWidth), what: $"y {s}");
        });
    }

    [Theory]
    [MemberData(nameof(Cases))]
    [OpenClData(nameof(Cases))]
    public void Conv2dTransposed_AwkwardShapes_MatchesReference(string impl, int index)
    {
        var s = Shape(index);
        var y = Random((int)s.OutputLength, 3 + index);
        var w = Random((int)s.WeightLength, 4 + index);
        With(impl, (acc, ops) =>
        {
            using var dy = acc.Upload(y);
            using var dw = acc.Upload(w);
            using var dx = acc.Poisoned((int)s.InputLength);
            ops.Conv2dTransposed(dy.V(), dw.V(), dx.V(), s);
            var expected = Reference.Conv2dTransposed(y.Select(v => (double)v).ToArray(), w.Select(v => (double)v).ToArray(), s);
            Close(expected, dx.Read(ops), Tolerance(s.OutChannels * s.KernelHeight * s.KernelWidth), what: $"x {s}");
        });
    }

    [Theory]
    [MemberData(nameof(Cases))]
    [OpenClData(nameof(Cases))]
    public void Conv2dWeightGradient_AwkwardShapes_AddsReference(string impl, int index)
    {
        var s = Shape(index);
        var x = Random((int)s.InputLength, 5 + index);
        var dy = Random((int)s.OutputLength, 6 + index);
        var initial = Random((int)s.WeightLength, 7 + index);
        With(impl, (acc, ops) =>
        {
            using var dx = acc.Upload(x);
            using var ddy = acc.Upload(dy);
            using var dw = acc.Upload(initial);
            ops.Conv2dWeightGradient(dx.V(), ddy.V(), dw.V(), s);
            var expected = Reference.Conv2dWeightGradient(x.Select(v => (double)v).ToArray(), dy.Select(v => (double)v).ToArray(), s)
                .Select((g, i) => g + initial[i]).ToArray();
            Close(expected, dw.Read(ops), Tolerance((long)s.Batch * s.OutHeight * s.OutWidth), what: $"dw {s}");
        });
    }

    [Theory]
    [InlineData("vectorized", nameof(Activation.Relu))]
    [InlineData("kernels", nameof(Activation.Relu))]
    [OpenClInlineData(nameof(Activation.Relu))]
    [InlineData("vectorized", nameof(Activation.Identity))]
    [InlineData("kernels", nameof(Activation.Identity))]
    [OpenClInlineData(nameof(Activation.Identity))]
    [InlineData("vectorized", nameof(Activation.Tanh))]
    [InlineData("kernels", nameof(Activation.Sigmoid))]
    [OpenClInlineData(nameof(Activation.Sigmoid))]
    public void ChannelBias_ActivationAndGradient_MatchReference(string impl, string activationName)
    {
        var activation = Enum.Parse<Activation>(activationName);
        // Spatial 37 (not a multiple of 16) and 3 images of 5 channels.
        const int batch = 3, channels = 5, spatial = 37;
        var x = Random(batch * channels * spatial, 21, -2, 2);
        var bias = Random(channels, 22);
        var initial = Random(channels, 23);
        With(impl, (acc, ops) =>
        {
            using var dx = acc.Upload(x);
            using var db = acc.Upload(bias);
            using var dg = acc.Upload(initial);
            ops.ChannelBiasActivation(dx.V(), db.V(), spatial, activation);
            var expected = x.Select((v, e) => Reference.Activation(v + (double)bias[e / spatial % channels], activation)).ToArray();
            Close(expected, dx.Read(ops), 1e-5, what: "f(x + b)");
            ops.ChannelBiasGradient(dx.V(), dg.V(), spatial);
            var sums = new double[channels];
            var y = dx.Read(ops);
            for (int e = 0; e < y.Length; e++)
                sums[e / spatial % channels] += y[e];
            Close(sums.Select((v, c) => v + initial[c]).ToArray(), dg.Read(ops), 1e-5, what: "db");
        });
    }

    [Fact]
    public void Conv2d_WrongLengths_AreRefused()
    {
        var s = ConvShape.Create(2, 3, 5, 5, 4, 3, 3, 1, 0);
        With("vectorized", (acc, ops) =>
        {
            using var x = acc.Allocate1D<float>(s.InputLength);
            using var w = acc.Allocate1D<float>(s.WeightLength + 1);
            using var y = acc.Allocate1D<float>(s.OutputLength);
            Assert.Throws<ArgumentException>(() => ops.Conv2d(x.View, w.View, y.View, s));
            Assert.Throws<ArgumentOutOfRangeException>(() => ops.Conv2d(x.View, w.View, y.View, ConvShape.Create(2, 3, 2, 2, 4, 3, 3, 1, 0)));
        });
    }
}
