using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Layers;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;

namespace IlgpuVae.Tests.Models;

[Collection(SharedDevices.Name)]
public sealed class GradientCheckTests
{
    public static TheoryData<string, string> LinearCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var impl in new[] { "vectorized", "kernels" })
            foreach (var act in new[] { Activation.Identity, Activation.Relu, Activation.Sigmoid, Activation.Tanh })
                data.Add(impl, act.ToString());
        return data;
    }

    [Theory]
    [MemberData(nameof(LinearCases))]
    [OpenClData(nameof(LinearCases))]
    public void Linear_Backward_MatchesFiniteDifferences(string impl, string activationName)
    {
        var activation = Enum.Parse<Activation>(activationName);
        const int rows = 3, inputs = 5, outputs = 4;
        var w = Random(outputs * inputs, 1);
        var b = Random(outputs, 2);
        var x = Random(rows * inputs, 3);
        var r = Random(rows * outputs, 4);
        // loss = sum(y * r): dL/dy = r.
        double Loss(double[] all)
        {
            double loss = 0;
            for (int n = 0; n < rows; n++)
                for (int o = 0; o < outputs; o++)
                {
                    double s = all[outputs * inputs + o];
                    for (int i = 0; i < inputs; i++)
                        s += all[o * inputs + i] * all[outputs * inputs + outputs + n * inputs + i];
                    loss += Reference.Activation(s, activation) * r[n * outputs + o];
                }
            return loss;
        }
        var packed = w.Concat(b).Concat(x).Select(v => (double)v).ToArray();
        var expected = ReferenceVae.FiniteDifferences(packed, Loss);
        With(impl, (acc, ops) =>
        {
            using var parameters = acc.Upload(w.Concat(b).ToArray());
            using var gradients = acc.Upload(Random(outputs * inputs + outputs, 5));
            var initialGradients = gradients.Read(ops);
            using var dx = acc.Poisoned(rows * inputs);
            using var dxIn = acc.Upload(x);
            using var y = acc.Poisoned(rows * outputs);
            using var dy = acc.Upload(r);
            var layer = new Linear("layer", inputs, outputs, activation);
            layer.Bind(new LayerSlots(new ParameterLayout([layer]).Slots, parameters.V(), gradients.V()));
            var context = new PassContext { Ops = ops, Rows = rows };
            layer.Forward(context, dxIn.V(), y.V(), default);
            // The layer takes the gradient of its pre-activation, as the network hands it over.
            ops.ActivationBackward(y.V(), dy.V(), dy.V(), activation);
            layer.Backward(context, dxIn.V(), y.V(), dy.V(), dx.V(), inputs, default);
            // Backward adds into the gradients: subtract what was there.
            var added = gradients.Read(ops).Select((g, i) => g - initialGradients[i]).ToArray();
            Close(expected[..(outputs * inputs + outputs)], added, 1e-4, 1e-2, "dW|db");
            Close(expected[(outputs * inputs + outputs)..], dx.Read(ops), 1e-4, 1e-2, "dx");
        });
    }

    public static TheoryData<string, int, float, bool> ModelCases() => new()
    {
        { "vectorized", 0, 1f, false }, { "kernels", 0, 1f, false },
        { "vectorized", 0, 0.3f, false },
        { "vectorized", 3, 1f, false }, { "kernels", 3, 0.5f, false },
        { "vectorized", 3, 1f, true }, { "kernels", 3, 2f, true },
    };

    [Theory]
    [MemberData(nameof(ModelCases))]
    [OpenClData(nameof(ModelCases))]
    public void WholeLoss_DeviceBackward_MatchesFiniteDifferences(string impl, int classes, float beta, bool everyLayer)
    {
        CheckWholeLoss(impl, new VaeConfig(6, [5, 4], 3, classes) { ConditionEveryLayer = everyLayer }, beta);
    }

    public static TheoryData<string, DecoderLikelihood, float?, int> LikelihoodCases()
    {
        var data = new TheoryData<string, DecoderLikelihood, float?, int>();
        foreach (var impl in new[] { "vectorized", "kernels" })
        {
            data.Add(impl, DecoderLikelihood.ContinuousBernoulli, null, 0);
            data.Add(impl, DecoderLikelihood.ContinuousBernoulli, null, 3);
            data.Add(impl, DecoderLikelihood.Gaussian, null, 0);
            data.Add(impl, DecoderLikelihood.Gaussian, null, 3);
            data.Add(impl, DecoderLikelihood.Gaussian, 0.3f, 0);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(LikelihoodCases))]
    [OpenClData(nameof(LikelihoodCases))]
    public void WholeLoss_EveryLikelihood_MatchesFiniteDifferences(string impl, DecoderLikelihood likelihood, float? sigma, int classes)
    {
        CheckWholeLoss(impl, new VaeConfig(6, [5, 4], 3, classes) { Likelihood = likelihood, Sigma = sigma }, 0.7f);
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    public void WholeLoss_ConvolutionalGaussian_MatchesFiniteDifferences(string impl)
    {
        CheckWholeLoss(impl, VaeConfig.Convolutional(latent: 2, channels: [2], dense: [3], height: 4, width: 4)
            with { Likelihood = DecoderLikelihood.Gaussian }, 1f);
    }

    /// <summary>
    /// The whole loss of a (conditional) VAE of any architecture, on 3 rows with fixed noise: the device's gradient of
    /// sum_b (BCE_b + beta KL_b) against central finite differences of <see cref="ReferenceVae.Loss"/>, and the
    /// forward's loss against the reference's.
    /// </summary>
    internal static void CheckWholeLoss(string impl, VaeConfig config, float beta)
    {
        const int rows = 3;
        int classes = config.Classes;
        var x = Random(rows * config.InputSize, 11, 0, 1);
        var eps = Random(rows * config.Latent, 12, -1.5f, 1.5f);
        var labels = Enumerable.Range(0, rows).Select(i => classes > 0 ? (i * 2) % classes : 0).ToArray();
        With(impl, (acc, ops) =>
        {
            using var network = new VaeNetwork(DeviceFor(impl), config, capacity: 4, seed: 3);
            var parameters = Prepare(network, x, eps);
            if (classes > 0) network.Labels.SubView(0, rows).CopyFromCPU(labels);
            network.ZeroGradients();
            network.Forward(rows, 0, 0, beta, NoiseSource.Keep);
            network.Backward();
            ops.Synchronize();
            var gradient = new float[parameters.Length];
            network.Gradients.SubView(0, gradient.Length).CopyToCPU(gradient);
            var p = parameters.Select(v => (double)v).ToArray();
            var expected = ReferenceVae.FiniteDifferences(p, q => ReferenceVae.Loss(config, q, x, eps, labels, beta));
            Close(expected, gradient, 1e-3, 1e-2, "dLoss/dtheta");

            // The forward's loss matches the reference too.
            var recon = new float[rows];
            var kl = new float[rows];
            network.Reconstruction.SubView(0, rows).CopyToCPU(recon);
            network.Kl.SubView(0, rows).CopyToCPU(kl);
            double loss = recon.Zip(kl, (a, k) => a + (double)beta * k).Sum();
            Close([ReferenceVae.Loss(config, p, x, eps, labels, beta)], [(float)loss], 1e-5, 1, "loss");
        });
    }

    /// <summary>
    /// Doubles the network's initial parameters (larger than the default initialisation, so every term of the loss
    /// matters), puts x and the fixed noise eps in place, and returns the parameters.
    /// </summary>
    internal static float[] Prepare(VaeNetwork network, float[] x, float[] eps)
    {
        var parameters = new float[network.Layout.Count];
        network.Parameters.SubView(0, parameters.Length).CopyToCPU(parameters);
        for (int i = 0; i < parameters.Length; i++) parameters[i] *= 2f;
        network.Parameters.SubView(0, parameters.Length).CopyFromCPU(parameters);
        network.Input.SubView(0, x.Length).CopyFromCPU(x);
        network.Noise.SubView(0, eps.Length).CopyFromCPU(eps);
        return parameters;
    }

    private static ComputeDevice Vectorized => DeviceFor("vectorized");
    private static ComputeDevice Kernel => DeviceFor("kernels");

    private static ComputeDevice DeviceFor(string impl) => OpsHarness.Device(impl);
}
