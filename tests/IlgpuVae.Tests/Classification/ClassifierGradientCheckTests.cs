using ILGPU.Runtime;
using IlgpuVae.Classification;
using IlgpuVae.Layers;
using IlgpuVae.Models;
using IlgpuVae.Tests.Models;
using IlgpuVae.Tests.Compute;
using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;

namespace IlgpuVae.Tests.Classification;

[Collection(IlgpuVae.Tests.Compute.SharedDevices.Name)]
public sealed class ClassifierGradientCheckTests
{
    /// <summary>
    /// The classifier's loss written plainly in double precision over the same flat layout:
    /// scale * sum_b CE(softmax(MLP(x_b)), label_b), with ReLU after every layer but the last.
    /// </summary>
    internal static double ReferenceLoss(IReadOnlyList<ParameterSlot> slots, double[] p, float[] x, int[] labels, int inputs, double scale)
    {
        int layers = slots.Count / 2, rows = labels.Length;
        double total = 0;
        for (int b = 0; b < rows; b++)
        {
            var h = new double[inputs];
            for (int i = 0; i < inputs; i++)
                h[i] = x[b * inputs + i];
            for (int l = 0; l < layers; l++)
            {
                var weight = slots[2 * l];
                var bias = slots[2 * l + 1];
                int outputs = weight.Shape[0], width = weight.Shape[1];
                var y = new double[outputs];
                for (int o = 0; o < outputs; o++)
                {
                    double sum = p[bias.Offset + o];
                    for (int i = 0; i < width; i++)
                        sum += p[weight.Offset + o * width + i] * h[i];
                    y[o] = l < layers - 1 ? Math.Max(0, sum) : sum;
                }
                h = y;
            }
            double max = h.Max();
            double logSum = max + Math.Log(h.Sum(v => Math.Exp(v - max)));
            total += logSum - h[labels[b]];
        }
        return scale * total;
    }

    public static TheoryData<string, int[], float> Cases() => new()
    {
        { "vectorized", [5, 4], 1f }, { "kernels", [5, 4], 1f }, { "vectorized", [7], 0.25f },
        { "kernels", [6], 0.5f }, { "vectorized", [], 1f },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    [OpenClData(nameof(Cases))]
    public void Backward_MatchesFiniteDifferences(string impl, int[] hidden, float scale)
    {
        var config = new ClassifierConfig(6, hidden, 3);
        const int rows = 4;
        var x = Random(rows * config.InputSize, 21, 0, 1);
        int[] labels = [0, 2, 1, 2];
        With(impl, (_, ops) =>
        {
            using var network = new ClassifierNetwork(Device(impl), config, capacity: 5, seed: 4);
            var parameters = new float[network.ParameterCount];
            network.Parameters.SubView(0, parameters.Length).CopyToCPU(parameters);
            // Larger parameters than the default initialisation give logits far enough apart that every
            // softmax term matters, and ReLUs both on and off.
            for (int i = 0; i < parameters.Length; i++) parameters[i] *= 2f;
            network.Parameters.SubView(0, parameters.Length).CopyFromCPU(parameters);
            network.Input.SubView(0, x.Length).CopyFromCPU(x);
            network.Labels.SubView(0, rows).CopyFromCPU(labels);
            // Backward adds into the gradients: start from something other than zero and subtract it.
            var before = Random(parameters.Length, 22);
            network.Gradients.SubView(0, before.Length).CopyFromCPU(before);
            network.Forward(rows, scale);
            network.Backward();
            ops.Synchronize();
            var gradient = new float[parameters.Length];
            network.Gradients.SubView(0, gradient.Length).CopyToCPU(gradient);
            var added = gradient.Select((g, i) => g - before[i]).ToArray();
            var p = parameters.Select(v => (double)v).ToArray();
            var expected = ReferenceVae.FiniteDifferences(p, q => ReferenceLoss(network.Slots, q, x, labels, config.InputSize, scale));
            Close(expected, added, 1e-3, 1e-2, "dLoss/dtheta");

            // The per-sample losses match the reference, unscaled.
            var loss = new float[rows];
            network.SampleLoss.SubView(0, rows).CopyToCPU(loss);
            Close([ReferenceLoss(network.Slots, p, x, labels, config.InputSize, 1)], [loss.Sum()], 1e-5, 1, "loss");
        });
    }

    [Fact]
    public void Layout_IsPyTorchSequentialNamesAndShapes()
    {
        using var network = new ClassifierNetwork(Device("vectorized"), new ClassifierConfig(784, [512, 256], 10), 2, 1);
        Assert.Equal(["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias"],
            network.Slots.Select(s => s.Name).ToArray());
        Assert.Equal([512, 784], network.Slots[0].Shape);
        Assert.Equal([10], network.Slots[5].Shape);
        Assert.Equal(784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10, network.ParameterCount);
        Assert.Equal(network.ParameterCount, network.Slots[^1].Offset + network.Slots[^1].Length);
    }
}
