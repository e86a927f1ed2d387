using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Layers;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Models;
using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;
using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Layers;

/// <summary>
/// The layers other than Linear (GradientCheckTests has it) against double-precision references and central
/// finite differences, on both implementations; and the graph's own bookkeeping.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class LayerGradientTests
{
    [Theory]
    [InlineData("vectorized", 1f)]
    [InlineData("kernels", 1f)]
    [OpenClInlineData(1f)]
    [InlineData("vectorized", 0.3f)]
    [InlineData("kernels", 2.5f)]
    [OpenClInlineData(2.5f)]
    public void GaussianSample_Backward_MatchesFiniteDifferences(string impl, float beta)
    {
        const int rows = 3, latent = 4;
        var x = Random(rows * 2 * latent, 31, -1.5f, 1.5f);
        var eps = Random(rows * latent, 32, -2f, 2f);
        var r = Random(rows * latent, 33);
        // loss = sum(z * r) + beta sum(KL), z = mu + eps exp(logvar / 2), KL = -1/2 sum(1 + logvar - mu^2 - exp(logvar)).
        double Loss(double[] stats)
        {
            double loss = 0;
            for (int n = 0; n < rows; n++)
                for (int j = 0; j < latent; j++)
                {
                    double mu = stats[n * 2 * latent + j], logvar = stats[n * 2 * latent + latent + j];
                    loss += (mu + eps[n * latent + j] * Math.Exp(logvar / 2)) * r[n * latent + j];
                    loss += beta * -0.5 * (1 + logvar - mu * mu - Math.Exp(logvar));
                }
            return loss;
        }
        var expected = ReferenceVae.FiniteDifferences(x.Select(v => (double)v).ToArray(), Loss);
        With(impl, (acc, ops) =>
        {
            var layer = new GaussianSample(latent);
            var owned = new List<IDisposable>();
            layer.Allocate(width =>
            {
                var buffer = acc.Allocate1D<float>(4L * width);
                owned.Add(buffer);
                return buffer.View;
            });
            layer.Noise.SubView(0, eps.Length).CopyFromCPU(eps);
            using var input = acc.Upload(x);
            using var z = acc.Poisoned(rows * latent);
            using var dz = acc.Upload(r);
            using var dx = acc.Poisoned(rows * 2 * latent);
            var context = new PassContext { Ops = ops, Rows = rows, Noise = NoiseSource.Keep, KlWeight = beta };
            layer.Forward(context, input.V(), z.V(), dx.V());
            layer.Backward(context, input.V(), z.V(), dz.V(), dx.V(), 2 * latent, default);
            Close(expected, dx.Read(ops), 1e-4, 1e-2, "d[mu|logvar]");
            var kl = new float[rows];
            layer.Kl.SubView(0, rows).CopyToCPU(kl);
            Close([Loss(x.Select(v => (double)v).ToArray())], [(float)(z.Read(ops).Zip(r, (a, b) => a * (double)b).Sum() + beta * kl.Sum(x => (double)x))], 1e-5, 1, "loss");
            foreach (var buffer in owned)
                buffer.Dispose();
        });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void LabelConcat_Forward_AppendsOneHot_AndItsGradientIsThePrefix(string impl)
    {
        const int rows = 3, features = 5, classes = 4;
        var x = Random(rows * features, 41);
        int[] labels = [3, 0, 2];
        With(impl, (acc, ops) =>
        {
            var layer = new LabelConcat(features, classes);
            Assert.Equal(features, layer.InputGradientIsOutputPrefix);
            Assert.Equal(features + classes, layer.OutputWidth);
            using var input = acc.Upload(x);
            using var labelBuffer = acc.Upload(labels);
            using var y = acc.Poisoned(rows * (features + classes));
            layer.Forward(new PassContext { Ops = ops, Rows = rows, Labels = labelBuffer.V() }, input.V(), y.V(), default);
            var output = y.Read(ops);
            for (int n = 0; n < rows; n++)
                for (int f = 0; f < features + classes; f++)
                    Assert.Equal(f < features ? x[n * features + f] : f - features == labels[n] ? 1f : 0f, output[n * (features + classes) + f]);
        });
    }

    [Fact]
    public void Network_MismatchedWidths_AreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => new Network(Device("vectorized"),
            [new Linear("a", 4, 3, Kernels.Activation.Relu), new Linear("b", 5, 2, Kernels.Activation.Identity)], null, 2, 1));
        Assert.Contains("layer 1 takes 5 features, layer 0 gives 3", e.Message);
    }

    [Fact]
    public void ParameterLayout_AbsurdSizes_FailWithAMessage()
    {
        var e = Assert.Throws<ArgumentException>(() => VaeNetwork.LayoutOf(new VaeConfig(784, [1_000_000_000], 20)));
        Assert.Contains("parameters", e.Message);
    }

    [Fact]
    public void VaeLayout_KeepsVersion1Names_InVersion1Order()
    {
        var layout = VaeNetwork.LayoutOf(new VaeConfig(784, [400], 20, 10) { ConditionEveryLayer = true });
        Assert.Equal(["encoder.0.weight", "encoder.0.bias", "mu.weight", "logvar.weight", "mu.bias", "logvar.bias",
            "decoder.0.weight", "decoder.0.bias", "out.weight", "out.bias"], layout.Slots.Select(s => s.Name).ToArray());
        Assert.Equal([400, 794], layout["encoder.0.weight"].Shape);
        Assert.Equal([400, 30], layout["decoder.0.weight"].Shape);
        Assert.Equal([784, 410], layout["out.weight"].Shape);
    }
}
