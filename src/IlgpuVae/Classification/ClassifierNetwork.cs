using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Checkpoints;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Models;

namespace IlgpuVae.Classification;

/// <summary>
/// An MLP classifier on a device: parameters and gradients in flat buffers laid out as PyTorch's
/// <c>nn.Sequential</c> of Linear layers would name them (layers.{i}.weight [out, in], layers.{i}.bias [out]),
/// activations for up to <see cref="Capacity"/> rows, and a hand-written forward and backward (llm.c style).
/// Forward: x (B, D) -> Linear + ReLU per hidden layer -> Linear -> logits (B, C); the loss is softmax
/// cross-entropy against <see cref="Labels"/>, whose gradient the fused loss op writes during the forward.
/// </summary>
public sealed class ClassifierNetwork : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly Linear[] _layers;
    // _outputs[i] (B, out_i) is layer i's output (the last one is the logits); _gradients[i] its gradient.
    private readonly ArrayView<float>[] _outputs, _gradients;
    private readonly ArrayView<float> _loss;
    private readonly ArrayView<int> _labels;

    /// <summary>Allocates the network on <paramref name="device"/> with PyTorch's default initialisation.</summary>
    /// <param name="device">The device.</param>
    /// <param name="config">The architecture.</param>
    /// <param name="capacity">The most rows one forward takes.</param>
    /// <param name="seed">The initialisation seed.</param>
    public ClassifierNetwork(ComputeDevice device, ClassifierConfig config, int capacity, int seed)
    {
        config.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Device = device;
        Config = config;
        Capacity = capacity;
        Slots = BuildLayout(config, out int count);
        ParameterCount = count;
        var parameterBuffer = Own(device.Allocate<float>(count));
        var gradientBuffer = Own(device.Allocate<float>(count));
        Parameters = parameterBuffer.View.BaseView;
        Gradients = gradientBuffer.View.BaseView;

        var layers = config.Layers;
        _layers = new Linear[layers.Count];
        _outputs = new ArrayView<float>[layers.Count];
        _gradients = new ArrayView<float>[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            var (inputs, outputs) = layers[i];
            var weight = Slots[2 * i];
            var bias = Slots[2 * i + 1];
            // Hidden layers fuse ReLU into the bias add; the last layer's outputs are the logits.
            var activation = i == layers.Count - 1 ? Activation.Identity : Activation.Relu;
            _layers[i] = new Linear(inputs, outputs, activation,
                Parameters.SubView(weight.Offset, weight.Length), Parameters.SubView(bias.Offset, bias.Length),
                Gradients.SubView(weight.Offset, weight.Length), Gradients.SubView(bias.Offset, bias.Length));
            _outputs[i] = Activations(outputs);
            _gradients[i] = Activations(outputs);
        }
        _loss = Activations(1);
        _labels = Own(device.Allocate<int>(capacity)).View.BaseView;
        Initialize(seed);
    }

    /// <summary>The device.</summary>
    public ComputeDevice Device { get; }

    /// <summary>The architecture.</summary>
    public ClassifierConfig Config { get; }

    /// <summary>The most rows one forward takes.</summary>
    public int Capacity { get; }

    /// <summary>The named tensors in buffer order: layers.{i}.weight then layers.{i}.bias for each layer.</summary>
    public IReadOnlyList<ParameterSlot> Slots { get; }

    /// <summary>Total parameters (P).</summary>
    public int ParameterCount { get; }

    /// <summary>All parameters, flat (P).</summary>
    public ArrayView<float> Parameters { get; }

    /// <summary>All gradients, flat (P), same layout.</summary>
    public ArrayView<float> Gradients { get; }

    /// <summary>The logits of the last forward (B, C).</summary>
    public ArrayView<float> Logits => _outputs[^1];

    /// <summary>Cross-entropy per sample of the last <see cref="Loss"/> call (B).</summary>
    public ArrayView<float> SampleLoss => _loss;

    /// <summary>The labels the loss reads (B), each in [0, C).</summary>
    public ArrayView<int> Labels => _labels;

    /// <summary>Computes the logits of x (rows, D) into <see cref="Logits"/>.</summary>
    /// <param name="x">The batch (rows, D).</param>
    /// <param name="rows">B, at most <see cref="Capacity"/>.</param>
    public void Forward(ArrayView<float> x, int rows)
    {
        CheckRows(rows);
        var ops = Device.Ops;
        var h = x;
        for (int i = 0; i < _layers.Length; i++)
        {
            _layers[i].Forward(ops, h, _outputs[i], rows);
            h = _outputs[i];
        }
    }

    /// <summary>
    /// After <see cref="Forward"/>: cross-entropy per sample against <see cref="Labels"/> into
    /// <see cref="SampleLoss"/>, and <c>dlogits = scale (softmax - onehot)</c> kept for <see cref="Backward"/>.
    /// A scale of 1 / B makes the gradient that of the batch mean, as PyTorch's CrossEntropyLoss.
    /// </summary>
    /// <param name="rows">B.</param>
    /// <param name="scale">The gradient's scale.</param>
    public void Loss(int rows, float scale)
    {
        CheckRows(rows);
        int c = Config.Classes;
        Device.Ops.SoftmaxCrossEntropy(Logits.SubView(0, (long)rows * c), _labels.SubView(0, rows),
            _loss.SubView(0, rows), _gradients[^1].SubView(0, (long)rows * c), scale);
    }

    /// <summary>
    /// Backward after <see cref="Forward"/> and <see cref="Loss"/>: adds the gradient of
    /// scale * sum_b CE_b into <see cref="Gradients"/>, layer by layer from the logits back.
    /// </summary>
    /// <param name="x">The batch the forward saw.</param>
    /// <param name="rows">B.</param>
    public void Backward(ArrayView<float> x, int rows)
    {
        CheckRows(rows);
        var ops = Device.Ops;
        for (int i = _layers.Length - 1; i >= 0; i--)
        {
            var input = i == 0 ? x : _outputs[i - 1];
            // Nobody needs the gradient of the images, so the first layer skips that GEMM.
            ArrayView<float>? inputGradient = i == 0 ? null : _gradients[i - 1];
            _layers[i].Backward(ops, input, _outputs[i], _gradients[i], inputGradient, rows);
        }
    }

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => Device.Ops.Fill(Gradients, 0f);

    /// <summary>Copies the parameters out as named tensors in PyTorch's layout.</summary>
    /// <returns>The tensors.</returns>
    public List<NamedTensor> ExportParameters()
    {
        Device.Ops.Synchronize();
        var all = new float[ParameterCount];
        Parameters.SubView(0, ParameterCount).CopyToCPU(all);
        return Slots.Select(s => new NamedTensor(s.Name, s.Shape, all.AsSpan(s.Offset, s.Length).ToArray())).ToList();
    }

    /// <summary>
    /// Loads a checkpoint's tensors into the parameters: exactly the layout's tensors, each with its shape and
    /// finite values; anything else is an <see cref="InvalidDataException"/> naming the file and the tensor.
    /// </summary>
    /// <param name="file">The checkpoint.</param>
    /// <param name="source">The file, for messages.</param>
    public void Import(SafeTensorsFile file, string source)
    {
        var all = new float[ParameterCount];
        foreach (var slot in Slots)
        {
            if (!file.TryGet(slot.Name, out var tensor))
                throw new InvalidDataException($"{source}: tensor '{slot.Name}' is missing for a {Config} classifier");
            if (!tensor.Shape.SequenceEqual(slot.Shape))
                throw new InvalidDataException($"{source}: tensor '{slot.Name}' has shape {NamedTensor.FormatShape(tensor.Shape)}, " +
                    $"a {Config} classifier needs {NamedTensor.FormatShape(slot.Shape)}");
            if (tensor.Data.Any(v => !float.IsFinite(v)))
                throw new InvalidDataException($"{source}: tensor '{slot.Name}' holds NaN or infinite values");
            tensor.Data.CopyTo(all, slot.Offset);
        }
        // A tensor the metadata does not account for means the metadata and the weights disagree.
        foreach (var tensor in file.Tensors)
            if (!Slots.Any(s => s.Name == tensor.Name))
                throw new InvalidDataException($"{source}: unexpected tensor '{tensor.Name}' for a {Config} classifier");
        Parameters.SubView(0, ParameterCount).CopyFromCPU(all);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var buffer in _owned)
            buffer.Dispose();
        _owned.Clear();
    }

    private static List<ParameterSlot> BuildLayout(ClassifierConfig config, out int count)
    {
        var slots = new List<ParameterSlot>();
        count = 0;
        var layers = config.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            var (inputs, outputs) = layers[i];
            slots.Add(new ParameterSlot($"layers.{i}.weight", [outputs, inputs], count));
            count += outputs * inputs;
            slots.Add(new ParameterSlot($"layers.{i}.bias", [outputs], count));
            count += outputs;
        }
        return slots;
    }

    private void Initialize(int seed)
    {
        // PyTorch's nn.Linear default: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)).
        var random = new Random(seed);
        var values = new float[ParameterCount];
        var layers = Config.Layers;
        for (int i = 0; i < Slots.Count; i++)
        {
            var slot = Slots[i];
            float bound = 1f / MathF.Sqrt(layers[i / 2].Inputs);
            for (int j = 0; j < slot.Length; j++)
                values[slot.Offset + j] = (float)((random.NextDouble() * 2 - 1) * bound);
        }
        Parameters.SubView(0, ParameterCount).CopyFromCPU(values);
    }

    private ArrayView<float> Activations(int width) => Own(Device.Allocate<float>((long)Capacity * width)).View.BaseView;

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
