using ILGPU;
using IlgpuVae.Checkpoints;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Layers;

namespace IlgpuVae.Models;

/// <summary>
/// The (conditional) VAE as a layer graph: [x | onehot] -> encoder (Linear + ReLU) -> [mu | logvar] (one Linear for
/// both heads) -> z = mu + eps exp(logvar / 2), with the KL -> [z | onehot] -> decoder (Linear + ReLU) -> logits,
/// and a Bernoulli loss on the logits. With <see cref="VaeConfig.ConditionEveryLayer"/> every later decoder layer,
/// the output layer included, also reads [h | onehot]. Shapes: B rows, D inputs, H hidden, Z latent, C classes.
/// A convolutional model puts convolutions before the encoder's dense layers and transposed convolutions after
/// the decoder's (<see cref="VaeArchitecture.Convolutional"/>).
/// This class only builds the graph and names its buffers; <see cref="Network"/> runs it.
/// </summary>
internal sealed class VaeNetwork : IDisposable
{
    private readonly PosteriorSample _sample;
    // The index of the sampling layer: its input is [mu | logvar], its output z.
    private readonly int _sampleIndex;

    /// <summary>Allocates the network on <paramref name="device"/> with PyTorch's default initialisation.</summary>
    /// <param name="device">The device.</param>
    /// <param name="config">The architecture.</param>
    /// <param name="capacity">The most rows one pass takes.</param>
    /// <param name="seed">The initialisation seed.</param>
    /// <param name="maxSamples">The most posterior samples per image a pass draws (the layers after the sample hold K
    /// times the capacity's rows).</param>
    public VaeNetwork(ComputeDevice device, VaeConfig config, int capacity, int seed, int maxSamples = 1)
    {
        config.Validate();
        Config = config;
        var layers = Build(config, out _sampleIndex, maxSamples);
        _sample = (PosteriorSample)layers[_sampleIndex];
        // Loss terms in the order VaeTrainer reports them: reconstruction, then KL.
        try
        {
            var loss = new LikelihoodLoss
            {
                LossTerm = 0,
                Posterior = _sample,
                Likelihood = config.Likelihood,
                Scale = layers[^1] as GaussianScale,
            };
            Graph = new Network(device, layers, loss, capacity, seed)
            {
                DequantizesInput = config.Likelihood == DecoderLikelihood.Gaussian && !config.IsVectors,
            };
        }
        catch (ArgumentException e)
        {
            // The sizes came from the user: name them.
            throw new ArgumentException($"{config}: {e.Message}", e);
        }
    }

    /// <summary>The graph that runs the model.</summary>
    public Network Graph { get; }

    /// <summary>The device.</summary>
    public ComputeDevice Device => Graph.Device;

    /// <summary>The architecture.</summary>
    public VaeConfig Config { get; }

    /// <summary>The parameter layout.</summary>
    public ParameterLayout Layout => Graph.Layout;

    /// <summary>The most rows one pass takes.</summary>
    public int Capacity => Graph.Capacity;

    /// <summary>All parameters, flat (P).</summary>
    public ArrayView<float> Parameters => Graph.Parameters;

    /// <summary>All gradients, flat (P), same layout.</summary>
    public ArrayView<float> Gradients => Graph.Gradients;

    /// <summary>The images (capacity, D) in [0, 1] that a forward reads.</summary>
    public ArrayView<float> Input => Graph.Input;

    /// <summary>Summed BCE per sample of the last forward (B).</summary>
    public ArrayView<float> Reconstruction => Graph.SampleLoss;

    /// <summary>KL per sample of the last forward (B).</summary>
    public ArrayView<float> Kl => _sample.Kl;

    /// <summary>[mu | logvar] per sample of the last forward (B, 2Z).</summary>
    public ArrayView<float> PosteriorStats => Graph.Activation(_sampleIndex);

    /// <summary>The latent sample of the last forward (B, Z); a decode reads it.</summary>
    public ArrayView<float> LatentSample => Graph.Activation(_sampleIndex + 1);

    /// <summary>The noise of the last forward (B, Z).</summary>
    public ArrayView<float> Noise => _sample.Noise;

    /// <summary>A two-stochastic-layer model's noise of z2 of the last forward (B, Z2); an invalid view for one layer.</summary>
    public ArrayView<float> Noise2 => _sample is TwoLayerSample two ? two.Noise2 : default;

    /// <summary>
    /// The log ratio per image of the last one-sample forward (B): log p(z) - log q(z|x), or for two stochastic layers
    /// log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1), so that log w = LogRatio - Reconstruction. Written by
    /// one-sample forwards of two-layer models and by multi-sample forwards.
    /// </summary>
    public ArrayView<float> LogRatio => _sample.LogRatio;

    /// <summary>
    /// Draws codes from a two-stochastic-layer model's prior into <see cref="LatentSample"/>: z2 ~ N(0, I) from the
    /// (seed, step) stream, then z1 ~ p(z1|z2) (a sample from the same stream's next values, or the conditional mean with
    /// <paramref name="mean"/>), ready for <see cref="DecodeLogits"/>.
    /// </summary>
    /// <param name="rows">B.</param>
    /// <param name="seed">The noise seed.</param>
    /// <param name="step">The noise counter.</param>
    /// <param name="mean">Take z1 as p(z1|z2)'s mean instead of a sample.</param>
    public void PriorCodes(int rows, ulong seed, ulong step, bool mean = false)
    {
        if (_sample is not TwoLayerSample two)
            throw new InvalidOperationException($"{Config} has one stochastic layer: its prior is N(0, I)");
        var context = Graph.Context;
        context.Rows = rows;
        var ops = Device.Ops;
        ops.Normal(two.Z2.SubView(0, (long)rows * two.Latent2), seed, step);
        var prior = two.DecodePrior(context);
        // z1 = pmu + exp(plv / 2) eps by the sampling op, one sample per row (its log ratio is not needed).
        ops.ImportanceSample(prior, Noise.SubView(0, (long)rows * Config.Latent), LatentSample.SubView(0, (long)rows * Config.Latent),
            two.LogRatio.SubView(0, rows), Config.Latent, mean ? NoiseSource.Zero : NoiseSource.Draw, seed, step + 1);
    }

    /// <summary>The decoder's logits of the last forward or decode (B, D).</summary>
    public ArrayView<float> Logits => Graph.Output;

    /// <summary>The labels the conditional model reads (B).</summary>
    public ArrayView<int> Labels => Graph.Labels;

    /// <summary>
    /// Refuses, with one line naming the architecture, a model the device cannot hold: parameters, gradients and
    /// activations for <paramref name="capacity"/> rows, and for training Adam's two moments. Nothing is allocated.
    /// </summary>
    /// <param name="device">The device.</param>
    /// <param name="config">The architecture (from options, config.json or a checkpoint's metadata).</param>
    /// <param name="capacity">Rows per pass.</param>
    /// <param name="training">Whether Adam's moments come on top.</param>
    /// <param name="maxSamples">Posterior samples per image.</param>
    /// <exception cref="ArgumentException">It does not fit, or its sizes are invalid.</exception>
    public static void CheckFits(ComputeDevice device, VaeConfig config, int capacity, bool training, int maxSamples = 1)
    {
        config.Validate();
        double bytes = Network.BytesNeeded(Build(config, out _, maxSamples), capacity, out long parameters);
        if (training)
            bytes += 2.0 * sizeof(float) * parameters;
        device.CheckMemory(bytes, $"{config}: {(training ? "training " : "")}a network of {parameters:N0} parameters with {capacity} rows per pass");
    }

    /// <summary>The tensors of <paramref name="config"/>'s model, in buffer order (names and shapes as PyTorch's).</summary>
    /// <param name="config">The architecture.</param>
    /// <returns>The layout.</returns>
    public static ParameterLayout LayoutOf(VaeConfig config) => new(Build(config, out _));

    /// <summary>
    /// Forward and loss on <see cref="Input"/>: encodes, draws eps from the (seed, step) stream (or, with
    /// <see cref="NoiseSource.Zero"/>, uses z = mu; with <see cref="NoiseSource.Keep"/>, the eps already in
    /// <see cref="Noise"/>), decodes, and computes per-sample BCE and KL with the loss gradients (KL's scaled by
    /// <paramref name="beta"/>). A conditional model reads <see cref="Labels"/>.
    /// </summary>
    /// <param name="rows">B, at most <see cref="Capacity"/>.</param>
    /// <param name="seed">The noise seed.</param>
    /// <param name="step">The noise counter.</param>
    /// <param name="beta">The KL weight for the gradient.</param>
    /// <param name="noise">How to get eps.</param>
    /// <param name="samples">K, posterior samples per image (the logits are then (K B, D), sample-major).</param>
    /// <param name="objective">The ELBO (averaged over the K samples) or the importance-weighted bound (with the
    /// bound's own or the doubly reparameterised encoder gradient).</param>
    public void Forward(int rows, ulong seed, ulong step, float beta, NoiseSource noise = NoiseSource.Draw, int samples = 1,
        TrainingObjective objective = TrainingObjective.Elbo)
    {
        Set(rows, seed, step, noise, samples, objective);
        Graph.Context.KlWeight = beta;
        Graph.Forward();
    }

    /// <summary>
    /// A new posterior sample for the statistics of the last <see cref="Forward"/>: fresh eps from the (seed, step)
    /// stream, then z, the logits and the per-sample BCE again, without re-running the encoder. For Monte Carlo
    /// estimates that need many samples per image (the importance-weighted log-likelihood).
    /// </summary>
    /// <param name="rows">B, as in the forward.</param>
    /// <param name="seed">The noise seed.</param>
    /// <param name="step">The noise counter.</param>
    public void Resample(int rows, ulong seed, ulong step)
    {
        Set(rows, seed, step, NoiseSource.Draw);
        Graph.Forward(first: _sampleIndex);
    }

    /// <summary>Backward after <see cref="Forward"/>: adds the gradient of sum_b (BCE_b + beta KL_b) into <see cref="Gradients"/>.</summary>
    public void Backward() => Graph.Backward();

    /// <summary>Decodes z (rows, Z), already in <see cref="LatentSample"/>, into <see cref="Logits"/>.</summary>
    /// <param name="rows">B.</param>
    public void DecodeLogits(int rows)
    {
        Graph.Context.Rows = rows;
        Graph.Context.Samples = 1;
        Graph.Context.Objective = TrainingObjective.Elbo;
        Graph.Forward(first: _sampleIndex + 1, loss: false);
    }

    /// <summary>
    /// Turns the first <paramref name="rows"/> rows of <see cref="Logits"/> into the decoder distribution's means, in
    /// place: sigmoid for the Bernoulli, the continuous Bernoulli's mean, the Gaussian's (the output already).
    /// </summary>
    /// <param name="rows">B.</param>
    public void ToMeans(int rows)
    {
        var output = Logits.SubView(0, (long)rows * Config.InputSize);
        if (Config.Likelihood == DecoderLikelihood.Bernoulli)
            Device.Ops.Activate(output, output, Activation.Sigmoid);
        else if (Config.Likelihood == DecoderLikelihood.ContinuousBernoulli)
            Device.Ops.ContinuousBernoulliMean(output, output);
    }

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => Graph.ZeroGradients();

    /// <summary>Copies the parameters out as named tensors in PyTorch's layout.</summary>
    /// <returns>The tensors.</returns>
    public List<NamedTensor> ExportParameters() => Graph.Export(Parameters);

    /// <summary>Loads a model file's tensors into the parameters.</summary>
    /// <param name="file">The checkpoint.</param>
    /// <param name="source">The file, for messages.</param>
    public void ImportParameters(SafeTensorsFile file, string source) =>
        Graph.Import(file, Parameters, "", source, $"a {Config} model");

    /// <inheritdoc />
    public void Dispose() => Graph.Dispose();

    private void Set(int rows, ulong seed, ulong step, NoiseSource noise, int samples = 1,
        TrainingObjective objective = TrainingObjective.Elbo)
    {
        var context = Graph.Context;
        context.Samples = samples;
        context.Objective = objective;
        context.Rows = rows;
        context.Seed = seed;
        context.Step = step;
        context.Noise = noise;
        context.LossScale = 1f;
    }

    private static List<Layer> Build(VaeConfig config, out int sampleIndex, int maxSamples = 1)
    {
        var layers = config.IsConvolutional ? BuildConvolutional(config, out sampleIndex, maxSamples) : BuildDense(config, out sampleIndex, maxSamples);
        // A Gaussian decoder's log-variance lives in a layer of its own after the means, so its tensor follows the
        // others in the layout and the Bernoulli models' layouts stay as they were.
        if (config.Likelihood == DecoderLikelihood.Gaussian)
            layers.Add(new GaussianScale(config.InputSize, config.Sigma));
        return layers;
    }

    private static Activation HiddenOf(VaeConfig config) =>
        config.Activation == HiddenActivation.Tanh ? Activation.Tanh : Activation.Relu;

    /// <summary>
    /// The convolutional graph (PyTorch's module: tools/pytorch/conv_vae.py): x (B, C H W) -> Conv2d + ReLU per
    /// channel width (encoder_conv.i) -> ([h | onehot]) -> Linear + ReLU (encoder_dense.i) -> [mu | logvar] -> z ->
    /// ([z | onehot]) -> Linear + ReLU (decoder_dense.i, the last one back to the convolutions' output size) ->
    /// ConvTranspose2d + ReLU (decoder_conv.i; the last one to the image's C channels, no activation) -> logits (B, C H W).
    /// Flattening and unflattening are no layers: a row is already an image in NCHW order.
    /// </summary>
    private static List<Layer> BuildConvolutional(VaeConfig config, out int sampleIndex, int maxSamples)
    {
        int c = config.Classes, z = config.Latent;
        int k = VaeConfig.ConvKernel, stride = VaeConfig.ConvStride, padding = VaeConfig.ConvPadding;
        var hidden = HiddenOf(config);
        var layers = new List<Layer>();
        int channels = config.ImageChannels, height = config.ImageHeight, width = config.ImageWidth;
        var sizes = new List<(int Height, int Width)>();
        for (int i = 0; i < config.Channels.Count; i++)
        {
            sizes.Add((height, width));
            var conv = new Conv2d($"encoder_conv.{i}", channels, height, width, config.Channels[i], k, stride, padding, hidden);
            layers.Add(conv);
            channels = config.Channels[i];
            (height, width) = (conv.Shape.OutHeight, conv.Shape.OutWidth);
        }
        int features = channels * height * width, size = features;
        if (config.IsConditional)
        {
            layers.Add(new LabelConcat(size, c));
            size += c;
        }
        for (int i = 0; i < config.Hidden.Count; i++)
        {
            layers.Add(new Linear($"encoder_dense.{i}", size, config.Hidden[i], hidden));
            size = config.Hidden[i];
        }
        layers.Add(new Linear(["mu", "logvar"], size, 2 * z, Activation.Identity));
        sampleIndex = layers.Count;
        layers.Add(new GaussianSample(z, maxSamples) { LossTerm = 1 });
        size = z;
        var dense = config.DecoderHidden.Append(features).ToArray();
        for (int i = 0; i < dense.Length; i++)
        {
            if (config.DecoderLayerReadsLabel(i))
            {
                layers.Add(new LabelConcat(size, c));
                size += c;
            }
            layers.Add(new Linear($"decoder_dense.{i}", size, dense[i], hidden));
            size = dense[i];
        }
        for (int i = config.Channels.Count - 1, t = 0; i >= 0; i--, t++)
        {
            int outChannels = i > 0 ? config.Channels[i - 1] : config.ImageChannels;
            layers.Add(new ConvTranspose2d($"decoder_conv.{t}", channels, height, width, outChannels, k, stride, padding,
                i > 0 ? hidden : Activation.Identity));
            channels = outChannels;
            (height, width) = sizes[i];
        }
        return layers;
    }

    private static List<Layer> BuildDense(VaeConfig config, out int sampleIndex, int maxSamples)
    {
        int d = config.InputSize, c = config.Classes, z = config.Latent;
        var hidden = HiddenOf(config);
        var layers = new List<Layer>();
        int width = d;
        if (config.IsConditional)
        {
            layers.Add(new LabelConcat(d, c));
            width += c;
        }
        for (int i = 0; i < config.Hidden.Count; i++)
        {
            layers.Add(new Linear($"encoder.{i}", width, config.Hidden[i], hidden));
            width = config.Hidden[i];
        }
        layers.Add(new Linear(["mu", "logvar"], width, 2 * z, Activation.Identity));
        sampleIndex = layers.Count;
        layers.Add(config.IsTwoLayer
            ? new TwoLayerSample(z, config.Hidden2, config.Latent2, hidden, maxSamples) { LossTerm = 1 }
            : new GaussianSample(z, maxSamples) { LossTerm = 1 });
        width = z;
        var decoder = config.DecoderHidden;
        for (int i = 0; i <= decoder.Count; i++)
        {
            if (config.DecoderLayerReadsLabel(i))
            {
                layers.Add(new LabelConcat(width, c));
                width += c;
            }
            bool output = i == decoder.Count;
            int outputs = output ? d : decoder[i];
            layers.Add(new Linear(output ? "out" : $"decoder.{i}", width, outputs, output ? Activation.Identity : hidden));
            width = outputs;
        }
        return layers;
    }
}
