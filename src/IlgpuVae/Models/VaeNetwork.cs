using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Checkpoints;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;

namespace IlgpuVae.Models;

/// <summary>
/// The (conditional) VAE on a device: parameters and gradients in flat buffers, activations for up to
/// <see cref="Capacity"/> rows, and a hand-written forward and backward (llm.c style).
/// Forward: [x | onehot] -> encoder (ReLU) -> [mu | logvar] -> z = mu + eps exp(logvar / 2) -> [z | onehot]
/// -> decoder (ReLU) -> logits; loss per sample = summed BCE on logits + beta KL, with their gradients computed
/// by the fused loss kernels during the forward. With <see cref="DecoderConditioning.EveryLayer"/> every later
/// decoder layer, the output layer included, also reads [h | onehot]. Shapes: B rows, D inputs, H hidden,
/// Z latent, C classes.
/// </summary>
public sealed class VaeNetwork : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly Linear[] _encoder;
    private readonly Linear _head;
    private readonly Linear[] _decoder;
    private readonly Linear _output;
    // Activations: _encoderOut[i] (B, H_i), _decoderOut[i] (B, H_i), and their gradients.
    private readonly ArrayView<float>[] _encoderOut, _encoderGrad, _decoderOut, _decoderGrad;
    // _decoderIn[i] (B, in_i + C): the label-extended input of decoder layer i (the last: the output layer), where
    // that layer reads the label.
    private readonly ArrayView<float>[] _decoderIn;
    private readonly ArrayView<float> _encoderIn, _stats, _statsGrad, _eps, _z, _zGrad, _logits, _logitsGrad;
    private readonly ArrayView<float> _recon, _kl;
    private readonly ArrayView<int> _labels;

    /// <summary>Allocates the network on <paramref name="device"/> with PyTorch's default initialisation.</summary>
    /// <param name="device">The device.</param>
    /// <param name="config">The architecture.</param>
    /// <param name="capacity">The most rows one forward takes.</param>
    /// <param name="seed">The initialisation seed.</param>
    public VaeNetwork(ComputeDevice device, VaeConfig config, int capacity, int seed)
    {
        config.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Device = device;
        Config = config;
        Capacity = capacity;
        Layout = new ParameterLayout(config);
        ParameterBuffer = Own(device.Allocate<float>(Layout.Count));
        GradientBuffer = Own(device.Allocate<float>(Layout.Count));
        Parameters = ParameterBuffer.View.BaseView;
        Gradients = GradientBuffer.View.BaseView;

        int d = config.InputSize, c = config.Classes, z = config.Latent;
        _encoder = new Linear[config.Hidden.Count];
        _encoderOut = new ArrayView<float>[_encoder.Length];
        _encoderGrad = new ArrayView<float>[_encoder.Length];
        for (int i = 0; i < _encoder.Length; i++)
        {
            _encoder[i] = Layer($"encoder.{i}", Activation.Relu);
            _encoderOut[i] = Activations(config.Hidden[i]);
            _encoderGrad[i] = Activations(config.Hidden[i]);
        }
        _head = new Linear(config.Hidden[^1], 2 * z, Activation.Identity,
            Slice("mu.weight", 2), Slice("mu.bias", 2), Slice("mu.weight", 2, Gradients), Slice("mu.bias", 2, Gradients));
        var decoderHidden = config.DecoderHidden;
        _decoder = new Linear[decoderHidden.Count];
        _decoderOut = new ArrayView<float>[_decoder.Length];
        _decoderGrad = new ArrayView<float>[_decoder.Length];
        for (int i = 0; i < _decoder.Length; i++)
        {
            _decoder[i] = Layer($"decoder.{i}", Activation.Relu);
            _decoderOut[i] = Activations(decoderHidden[i]);
            _decoderGrad[i] = Activations(decoderHidden[i]);
        }
        _output = Layer("out", Activation.Identity);
        _encoderIn = c > 0 ? Activations(d + c) : default;
        _decoderIn = new ArrayView<float>[_decoder.Length + 1];
        for (int i = 0; i <= _decoder.Length; i++)
            _decoderIn[i] = config.DecoderLayerReadsLabel(i) ? Activations(DecoderLayer(i).Inputs) : default;
        _stats = Activations(2 * z);
        _statsGrad = Activations(2 * z);
        _eps = Activations(z);
        _z = Activations(z);
        _zGrad = Activations(z);
        _logits = Activations(d);
        _logitsGrad = Activations(d);
        _recon = Activations(1);
        _kl = Activations(1);
        _labels = Own(device.Allocate<int>(capacity)).View.BaseView;
        Initialize(seed);
    }

    /// <summary>The device.</summary>
    public ComputeDevice Device { get; }

    /// <summary>The architecture.</summary>
    public VaeConfig Config { get; }

    /// <summary>The parameter layout.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>The most rows one forward takes.</summary>
    public int Capacity { get; }

    /// <summary>All parameters, flat (P).</summary>
    public ArrayView<float> Parameters { get; }

    /// <summary>All gradients, flat (P), same layout.</summary>
    public ArrayView<float> Gradients { get; }

    /// <summary>The buffer behind <see cref="Parameters"/>.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> ParameterBuffer { get; }

    /// <summary>The buffer behind <see cref="Gradients"/>.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> GradientBuffer { get; }

    /// <summary>Summed BCE per sample of the last forward (B).</summary>
    public ArrayView<float> Reconstruction => _recon;

    /// <summary>KL per sample of the last forward (B).</summary>
    public ArrayView<float> Kl => _kl;

    /// <summary>[mu | logvar] per sample of the last forward (B, 2Z).</summary>
    public ArrayView<float> PosteriorStats => _stats;

    /// <summary>The latent sample of the last forward (B, Z).</summary>
    public ArrayView<float> LatentSample => _z;

    /// <summary>The noise of the last forward (B, Z); filled by the forward unless told to keep it.</summary>
    public ArrayView<float> Noise => _eps;

    /// <summary>The decoder's logits of the last forward or decode (B, D).</summary>
    public ArrayView<float> Logits => _logits;

    /// <summary>The labels the conditional model reads (B).</summary>
    public ArrayView<int> Labels => _labels;

    /// <summary>
    /// Forward and loss: encodes x (rows, D), draws eps from the (seed, step) stream (or, with
    /// <paramref name="noise"/> = <see cref="NoiseMode.Zero"/>, uses z = mu; with <see cref="NoiseMode.Keep"/>,
    /// the eps already in <see cref="Noise"/>), decodes, and computes per-sample BCE and KL with the loss
    /// gradients (KL's scaled by <paramref name="beta"/>). A conditional model reads <see cref="Labels"/>.
    /// </summary>
    /// <param name="x">The batch (rows, D) in [0, 1].</param>
    /// <param name="rows">B, at most <see cref="Capacity"/>.</param>
    /// <param name="seed">The noise seed.</param>
    /// <param name="step">The noise counter.</param>
    /// <param name="beta">The KL weight for the gradient.</param>
    /// <param name="noise">How to get eps.</param>
    public void Forward(ArrayView<float> x, int rows, ulong seed, ulong step, float beta, NoiseMode noise = NoiseMode.Draw)
    {
        CheckRows(rows);
        var ops = Device.Ops;
        int d = Config.InputSize, z = Config.Latent, c = Config.Classes;
        var input = x.SubView(0, (long)rows * d);
        var labels = _labels.SubView(0, rows);
        var encoderInput = input;
        if (c > 0)
        {
            encoderInput = _encoderIn.SubView(0, (long)rows * (d + c));
            ops.OneHotConcat(input, labels, encoderInput, d, c);
        }
        var h = encoderInput;
        for (int i = 0; i < _encoder.Length; i++)
        {
            _encoder[i].Forward(ops, h, _encoderOut[i], rows);
            h = _encoderOut[i];
        }
        _head.Forward(ops, h, _stats, rows);
        var eps = _eps.SubView(0, (long)rows * z);
        if (noise == NoiseMode.Draw)
            ops.Normal(eps, seed, step);
        else if (noise == NoiseMode.Zero)
            ops.Fill(eps, 0f);
        var stats = _stats.SubView(0, (long)rows * 2 * z);
        ops.Reparameterize(stats, eps, _z.SubView(0, (long)rows * z), z);
        DecodeLogits(rows);
        ops.BceWithLogits(_logits.SubView(0, (long)rows * d), input, _recon.SubView(0, rows),
            _logitsGrad.SubView(0, (long)rows * d), 1f);
        ops.KlDivergence(stats, _kl.SubView(0, rows), _statsGrad.SubView(0, (long)rows * 2 * z), z, beta);
    }

    /// <summary>
    /// Draws a new posterior sample for the statistics of the last <see cref="Forward"/> (same x, same encoder
    /// output): fresh eps from the (seed, step) stream, then z, the logits and the per-sample BCE again, without
    /// re-running the encoder. The KL and its gradient are left as they were. For Monte Carlo estimates that need
    /// many samples per image (the importance-weighted log-likelihood).
    /// </summary>
    /// <param name="x">The batch the forward saw (rows, D).</param>
    /// <param name="rows">B, as in the forward.</param>
    /// <param name="seed">The noise seed.</param>
    /// <param name="step">The noise counter.</param>
    public void Resample(ArrayView<float> x, int rows, ulong seed, ulong step)
    {
        CheckRows(rows);
        var ops = Device.Ops;
        int d = Config.InputSize, z = Config.Latent;
        var eps = _eps.SubView(0, (long)rows * z);
        ops.Normal(eps, seed, step);
        ops.Reparameterize(_stats.SubView(0, (long)rows * 2 * z), eps, _z.SubView(0, (long)rows * z), z);
        DecodeLogits(rows);
        ops.BceWithLogits(_logits.SubView(0, (long)rows * d), x.SubView(0, (long)rows * d), _recon.SubView(0, rows),
            _logitsGrad.SubView(0, (long)rows * d), 1f);
    }

    /// <summary>
    /// Backward after <see cref="Forward"/>: adds the gradient of sum_b (BCE_b + beta KL_b) into
    /// <see cref="Gradients"/>, layer by layer in reverse forward order.
    /// </summary>
    /// <param name="x">The batch the forward saw.</param>
    /// <param name="rows">B.</param>
    public void Backward(ArrayView<float> x, int rows)
    {
        CheckRows(rows);
        var ops = Device.Ops;
        int z = Config.Latent, c = Config.Classes;
        // Decoder, from the logits back to z. A layer that read the label passes back only its usual input's
        // columns: the one-hot is constant.
        var above = _logitsGrad;
        for (int i = _decoder.Length; i >= 0; i--)
        {
            var layer = DecoderLayer(i);
            bool readsLabel = Config.DecoderLayerReadsLabel(i);
            var layerIn = readsLabel ? _decoderIn[i] : i == 0 ? _z : _decoderOut[i - 1];
            var layerOut = i == _decoder.Length ? _logits : _decoderOut[i];
            var dIn = i == 0 ? _zGrad : _decoderGrad[i - 1];
            layer.Backward(ops, layerIn, layerOut, above, dIn, rows, readsLabel ? layer.Inputs - c : -1);
            above = dIn;
        }
        // Through the reparameterisation into [dmu | dlogvar], which already holds beta dKL.
        ops.ReparameterizeBackward(_stats.SubView(0, (long)rows * 2 * z), _eps.SubView(0, (long)rows * z),
            _zGrad.SubView(0, (long)rows * z), _statsGrad.SubView(0, (long)rows * 2 * z), z);
        // Encoder, from the heads back to the input (whose gradient nobody needs).
        above = _statsGrad;
        for (int i = _encoder.Length; i >= 0; i--)
        {
            var layer = i == _encoder.Length ? _head : _encoder[i];
            var layerIn = i == 0 ? (c > 0 ? _encoderIn : x) : _encoderOut[i - 1];
            var layerOut = i == _encoder.Length ? _stats : _encoderOut[i];
            ArrayView<float>? dIn = i == 0 ? null : _encoderGrad[i - 1];
            layer.Backward(ops, layerIn, layerOut, above, dIn, rows);
            if (dIn is { } g)
                above = g;
        }
    }

    /// <summary>Decodes z (rows, Z), already in <see cref="LatentSample"/>, into <see cref="Logits"/>.</summary>
    /// <param name="rows">B.</param>
    public void DecodeLogits(int rows)
    {
        CheckRows(rows);
        var ops = Device.Ops;
        int c = Config.Classes;
        var h = _z;
        for (int i = 0; i <= _decoder.Length; i++)
        {
            var layer = DecoderLayer(i);
            var input = h;
            if (Config.DecoderLayerReadsLabel(i))
            {
                int width = layer.Inputs - c;
                input = _decoderIn[i].SubView(0, (long)rows * layer.Inputs);
                ops.OneHotConcat(h.SubView(0, (long)rows * width), _labels.SubView(0, rows), input, width, c);
            }
            h = i == _decoder.Length ? _logits : _decoderOut[i];
            layer.Forward(ops, input, h, rows);
        }
    }

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => Device.Ops.Fill(Gradients, 0f);

    /// <summary>Copies the parameters out as named tensors in PyTorch's layout.</summary>
    /// <returns>The tensors.</returns>
    public List<NamedTensor> ExportParameters() => Export(Parameters);

    /// <summary>Copies any buffer laid out like the parameters (e.g. Adam moments) out as named tensors.</summary>
    /// <param name="flat">A flat buffer of the layout's size.</param>
    /// <param name="prefix">A prefix for the names.</param>
    /// <returns>The tensors.</returns>
    public List<NamedTensor> Export(ArrayView<float> flat, string prefix = "")
    {
        Device.Ops.Synchronize();
        var all = new float[Layout.Count];
        flat.SubView(0, Layout.Count).CopyToCPU(all);
        return Layout.Slots.Select(s => new NamedTensor(prefix + s.Name, s.Shape, all.AsSpan(s.Offset, s.Length).ToArray())).ToList();
    }

    /// <summary>
    /// Loads named tensors (a checkpoint) into a flat buffer laid out like the parameters; every tensor of the
    /// layout must be present with its exact shape.
    /// </summary>
    /// <param name="file">The checkpoint.</param>
    /// <param name="flat">The destination.</param>
    /// <param name="prefix">The names' prefix.</param>
    /// <param name="source">The file, for messages.</param>
    public void Import(SafeTensorsFile file, ArrayView<float> flat, string prefix, string source)
    {
        var all = new float[Layout.Count];
        foreach (var slot in Layout.Slots)
        {
            if (!file.TryGet(prefix + slot.Name, out var tensor))
                throw new InvalidDataException($"{source}: tensor '{prefix + slot.Name}' is missing for a {Config} model");
            if (!tensor.Shape.SequenceEqual(slot.Shape))
                throw new InvalidDataException($"{source}: tensor '{prefix + slot.Name}' has shape " +
                    $"[{string.Join(",", tensor.Shape)}], a {Config} model needs [{string.Join(",", slot.Shape)}]");
            if (tensor.Data.Any(v => !float.IsFinite(v)))
                throw new InvalidDataException($"{source}: tensor '{prefix + slot.Name}' holds NaN or infinite values");
            tensor.Data.CopyTo(all, slot.Offset);
        }
        flat.SubView(0, Layout.Count).CopyFromCPU(all);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var buffer in _owned)
            buffer.Dispose();
        _owned.Clear();
    }

    // Decoder layer i: the hidden layers, then (i = their count) the output layer.
    private Linear DecoderLayer(int i) => i == _decoder.Length ? _output : _decoder[i];

    private void Initialize(int seed)
    {
        // PyTorch's nn.Linear default: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)).
        var random = new Random(seed);
        var values = new float[Layout.Count];
        foreach (var slot in Layout.Slots)
        {
            string layer = slot.Name[..slot.Name.LastIndexOf('.')];
            int inputs = Layout[layer + ".weight"].Shape[1];
            float bound = 1f / MathF.Sqrt(inputs);
            for (int i = 0; i < slot.Length; i++)
                values[slot.Offset + i] = (float)((random.NextDouble() * 2 - 1) * bound);
        }
        Parameters.SubView(0, Layout.Count).CopyFromCPU(values);
    }

    private Linear Layer(string prefix, Activation activation)
    {
        var weight = Layout[prefix + ".weight"];
        return new Linear(weight.Shape[1], weight.Shape[0], activation,
            Slice(prefix + ".weight"), Slice(prefix + ".bias"),
            Slice(prefix + ".weight", 1, Gradients), Slice(prefix + ".bias", 1, Gradients));
    }

    // A view of `count` consecutive slots starting at `name` (the heads span two).
    private ArrayView<float> Slice(string name, int count = 1, ArrayView<float> flat = default)
    {
        var slot = Layout[name];
        int index = Layout.Slots.ToList().IndexOf(slot);
        int length = Layout.Slots.Skip(index).Take(count).Sum(s => s.Length);
        return (flat.IsValid ? flat : Parameters).SubView(slot.Offset, length);
    }

    private ArrayView<float> Activations(int width)
    {
        var buffer = Own(Device.Allocate<float>((long)Capacity * width));
        return buffer.View.BaseView;
    }

    private T Own<T>(T buffer) where T : IDisposable
    {
        _owned.Add(buffer);
        return buffer;
    }

    private void CheckRows(int rows)
    {
        if (rows <= 0 || rows > Capacity)
            throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows for a network built for at most {Capacity}");
    }
}

/// <summary>Where the forward's noise eps comes from.</summary>
public enum NoiseMode
{
    /// <summary>Drawn from the counter-based generator at (seed, step).</summary>
    Draw,
    /// <summary>Zero, so z = mu (deterministic reconstructions).</summary>
    Zero,
    /// <summary>Whatever the caller left in <see cref="VaeNetwork.Noise"/>.</summary>
    Keep,
}
