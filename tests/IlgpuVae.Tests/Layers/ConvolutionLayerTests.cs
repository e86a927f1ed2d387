using IlgpuVae.Kernels;
using IlgpuVae.Layers;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Models;
using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;

namespace IlgpuVae.Tests.Layers;

/// <summary>
/// Conv2d and ConvTranspose2d against central finite differences of a double-precision reference of
/// <c>loss = sum(f(layer(x)) r)</c>, on both implementations, with their declared tensors and initialisation.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class ConvolutionLayerTests
{
    public static TheoryData<string, string, int> Cases()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var impl in new[] { "vectorized", "kernels" })
            foreach (var (activation, shape) in new[] { (Activation.Identity, 0), (Activation.Tanh, 1), (Activation.Relu, 2) })
                data.Add(impl, activation.ToString(), shape);
        return data;
    }

    // (C, H, W, O, K, stride, padding) for the layer; a transposed layer reads them as (Cin, H, W, Cout, ...).
    private static readonly int[][] Shapes = [[2, 5, 6, 3, 3, 2, 1], [1, 4, 3, 2, 4, 2, 1], [3, 3, 4, 2, 2, 1, 0]];

    [Theory]
    [MemberData(nameof(Cases))]
    [OpenClData(nameof(Cases))]
    public void Conv2d_Backward_MatchesFiniteDifferences(string impl, string activationName, int shapeIndex)
    {
        var activation = Enum.Parse<Activation>(activationName);
        var a = Shapes[shapeIndex];
        var layer = new Conv2d("conv", a[0], a[1], a[2], a[3], a[4], a[5], a[6], activation);
        var shape = layer.Shape.WithBatch(2);
        Check(impl, layer, 2, (w, b, x) => Forward(Reference.Conv2d(x, w, shape), b, shape.OutHeight * shape.OutWidth, activation));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    [OpenClData(nameof(Cases))]
    public void ConvTranspose2d_Backward_MatchesFiniteDifferences(string impl, string activationName, int shapeIndex)
    {
        var activation = Enum.Parse<Activation>(activationName);
        var a = Shapes[shapeIndex];
        var layer = new ConvTranspose2d("deconv", a[0], a[1], a[2], a[3], a[4], a[5], a[6], activation);
        var dual = layer.Dual.WithBatch(2);
        Check(impl, layer, 2, (w, b, x) => Forward(Reference.Conv2dTransposed(x, w, dual), b, dual.InHeight * dual.InWidth, activation));
    }

    [Fact]
    public void Conv2d_DeclaresPyTorchShapes_AndFanIn()
    {
        var conv = new Conv2d("encoder_conv.1", 32, 14, 14, 64, 4, 2, 1, Activation.Relu);
        Assert.Equal(32 * 14 * 14, conv.InputWidth);
        Assert.Equal(64 * 7 * 7, conv.OutputWidth);
        Assert.Equal([64, 32, 4, 4], conv.Parameters[0].Shape);
        Assert.Equal([64], conv.Parameters[1].Shape);
        Assert.All(conv.Parameters, p => Assert.Equal(32 * 16, p.FanIn));
    }

    [Fact]
    public void ConvTranspose2d_DeclaresPyTorchShapes_AndFanInFromOutChannels()
    {
        var deconv = new ConvTranspose2d("decoder_conv.1", 32, 14, 14, 1, 4, 2, 1, Activation.Identity);
        Assert.Equal(32 * 14 * 14, deconv.InputWidth);
        Assert.Equal(28 * 28, deconv.OutputWidth);
        Assert.Equal([32, 1, 4, 4], deconv.Parameters[0].Shape);
        Assert.Equal([1], deconv.Parameters[1].Shape);
        // torch.nn.init._calculate_fan_in_and_fan_out reads dimension 1 of [in, out, K, K]: out K K.
        Assert.All(deconv.Parameters, p => Assert.Equal(16, p.FanIn));
    }

    [Fact]
    public void Conv2d_KernelLargerThanPaddedImage_IsRefused() =>
        Assert.Throws<ArgumentException>(() => new Conv2d("c", 1, 2, 2, 1, 5, 1, 1, Activation.Relu));

    private static double[] Forward(double[] convolved, IReadOnlyList<double> bias, int spatial, Activation activation) =>
        convolved.Select((v, e) => Reference.Activation(v + bias[e / spatial % bias.Count], activation)).ToArray();

    // Packs [weight, bias, x], compares the layer's added parameter gradients and its dx with finite differences.
    private static void Check(string impl, Layer layer, int rows, Func<double[], double[], double[], double[]> reference)
    {
        var layout = new ParameterLayout([layer]);
        int weights = layout.Slots[0].Length, biases = layout.Slots[1].Length;
        int inputs = rows * layer.InputWidth, outputs = rows * layer.OutputWidth;
        var w = Random(weights, 1, -0.7f, 0.7f);
        var b = Random(biases, 2, -0.5f, 0.5f);
        var x = Random(inputs, 3);
        var r = Random(outputs, 4);
        double Loss(double[] all)
        {
            var y = reference(all[..weights], all[weights..(weights + biases)], all[(weights + biases)..]);
            return y.Select((v, i) => v * r[i]).Sum();
        }
        var packed = w.Concat(b).Concat(x).Select(v => (double)v).ToArray();
        var expected = ReferenceVae.FiniteDifferences(packed, Loss);
        With(impl, (acc, ops) =>
        {
            using var parameters = acc.Upload(w.Concat(b).ToArray());
            using var gradients = acc.Upload(Random(weights + biases, 5));
            var initial = gradients.Read(ops);
            using var input = acc.Upload(x);
            using var y = acc.Poisoned(outputs);
            using var dy = acc.Upload(r);
            using var dx = acc.Poisoned(inputs);
            layer.Bind(new LayerSlots(layout.Slots, parameters.V(), gradients.V()));
            var context = new PassContext { Ops = ops, Rows = rows };
            layer.Forward(context, input.V(), y.V(), default);
            Close(reference(w.Select(v => (double)v).ToArray(), b.Select(v => (double)v).ToArray(), x.Select(v => (double)v).ToArray()),
                y.Read(ops), 1e-5, 1, "y");
            // The network hands a layer the gradient of its pre-activation.
            ops.ActivationBackward(y.V(), dy.V(), dy.V(), layer.OutputActivation);
            layer.Backward(context, input.V(), y.V(), dy.V(), dx.V(), layer.InputWidth, default);
            var added = gradients.Read(ops).Select((g, i) => g - initial[i]).ToArray();
            Close(expected[..(weights + biases)], added, 1e-4, 1e-2, "dW|db");
            Close(expected[(weights + biases)..], dx.Read(ops), 1e-4, 1e-2, "dx");
        });
    }
}
