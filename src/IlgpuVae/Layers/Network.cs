using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Checkpoints;
using IlgpuVae.Compute;

namespace IlgpuVae.Layers;

/// <summary>
/// An ordered list of layers and a loss on a device (llm.c style, no autograd engine): one flat buffer each for the
/// parameters and their gradients, laid out from the layers' declarations; an activation and a gradient buffer
/// for every layer boundary, sized for <see cref="Capacity"/> rows; a forward in order and a backward in reverse.
/// The input (B, D) and labels (B) are the network's own buffers, filled by the caller (a gather from a device data
/// set, or an upload) before a pass. Nothing here waits for the device.
/// </summary>
internal sealed class Network : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly Layer[] _layers;
    private readonly Loss? _loss;
    // _activations[i] is layer i's input, _activations[i + 1] its output; _gradients[i] the gradient of _activations[i].
    private readonly ArrayView<float>[] _activations, _gradients;
    private readonly PassContext _context;
    // Rows at each boundary in the last forward (a sampling layer multiplies them by K).
    private readonly int[] _rowsAt;
    // The most rows per input row at each boundary: buffers there hold capacity times this many.
    private readonly int[] _factors;

    /// <summary>Builds the network and initialises it as PyTorch does: every tensor ~ U(-1/sqrt(fan-in), 1/sqrt(fan-in)).</summary>
    /// <param name="device">The device.</param>
    /// <param name="layers">The layers in forward order; each one's input width is the previous one's output width.</param>
    /// <param name="loss">The loss on the last layer's output, or null.</param>
    /// <param name="capacity">The most rows one pass takes.</param>
    /// <param name="seed">The initialisation seed.</param>
    public Network(ComputeDevice device, IReadOnlyList<Layer> layers, Loss? loss, int capacity, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        if (layers.Count == 0)
            throw new ArgumentException("a network needs at least one layer", nameof(layers));
        for (int i = 1; i < layers.Count; i++)
            if (layers[i].InputWidth != layers[i - 1].OutputWidth)
                throw new ArgumentException($"layer {i} takes {layers[i].InputWidth} features, layer {i - 1} gives {layers[i - 1].OutputWidth}");
        Device = device;
        Capacity = capacity;
        _layers = [.. layers];
        _loss = loss;
        _factors = Factors(_layers);
        _rowsAt = new int[_layers.Length + 1];
        // Sizes come from options, config files and checkpoint metadata: check what they add up to before allocating.
        device.CheckMemory(BytesNeeded(_layers, capacity, out long parameters), $"a network of {parameters:N0} parameters with {capacity} rows per pass");
        Layout = new ParameterLayout(_layers);
        try
        {
            Parameters = Own(device.Allocate<float>(Math.Max(Layout.Count, 1))).View.BaseView;
            Gradients = Own(device.Allocate<float>(Math.Max(Layout.Count, 1))).View.BaseView;
            int slot = 0;
            for (int i = 0; i < _layers.Length; i++)
            {
                var layer = _layers[i];
                int count = layer.Parameters.Count;
                layer.Bind(new LayerSlots(Layout.Slots.Skip(slot).Take(count).ToArray(), Parameters, Gradients));
                slot += count;
                int factor = _factors[i];
                layer.Allocate(width => Rows(width * factor));
            }
            _loss?.Allocate(Rows);
            _activations = new ArrayView<float>[_layers.Length + 1];
            _gradients = new ArrayView<float>[_layers.Length + 1];
            for (int i = 0; i <= _layers.Length; i++)
            {
                int width = (i == 0 ? _layers[0].InputWidth : _layers[i - 1].OutputWidth) * _factors[i];
                _activations[i] = Rows(width);
                // Nobody needs the gradient of the input.
                _gradients[i] = i == 0 ? default : Rows(width);
            }
            Labels = Own(device.Allocate<int>(capacity)).View.BaseView;
            _context = new PassContext { Ops = device.Ops, Input = _activations[0], Labels = Labels };
            Initialize(seed);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// The bytes the network allocates (parameters and gradients; an activation and a gradient per row at every layer
    /// boundary), in 64-bit integers and doubles so that no size from the outside can overflow the sum. Per-layer
    /// extras (noise, per-sample losses) are a few floats per row and are left out.
    /// </summary>
    /// <param name="layers">The layers.</param>
    /// <param name="capacity">Rows per pass.</param>
    /// <param name="parameters">The parameter count.</param>
    /// <returns>The bytes.</returns>
    internal static double BytesNeeded(IReadOnlyList<Layer> layers, int capacity, out long parameters)
    {
        parameters = ParameterLayout.CountOf(layers);
        double widths = layers[0].InputWidth, factor = 1;
        foreach (var layer in layers)
        {
            widths += (double)layer.ScratchWidth * factor;
            factor *= layer.MaxRowFactor;
            widths += 2.0 * layer.OutputWidth * factor;
        }
        return sizeof(float) * (2.0 * parameters + (double)capacity * widths);
    }

    /// <summary>The device.</summary>
    public ComputeDevice Device { get; }

    /// <summary>
    /// Whether the input, 8-bit data scaled to [0, 1], is modelled by a density (a Gaussian decoder), so that every
    /// batch is dequantised (<see cref="IOps.Dequantize"/>) after its gather.
    /// </summary>
    public bool DequantizesInput { get; init; }

    /// <summary>The most rows one pass takes.</summary>
    public int Capacity { get; }

    /// <summary>Where every tensor sits in the flat buffers.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>The layers in forward order.</summary>
    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>All parameters, flat (P).</summary>
    public ArrayView<float> Parameters { get; }

    /// <summary>All gradients, flat (P), same layout.</summary>
    public ArrayView<float> Gradients { get; }

    /// <summary>The input (capacity, D); the caller fills the first B rows before a pass.</summary>
    public ArrayView<float> Input => _activations[0];

    /// <summary>The labels (capacity) that label layers and the classification loss read.</summary>
    public ArrayView<int> Labels { get; }

    /// <summary>The output of the last layer (capacity, width).</summary>
    public ArrayView<float> Output => _activations[^1];

    /// <summary>The loss per sample of the last pass (capacity), or an invalid view without a loss.</summary>
    public ArrayView<float> SampleLoss => _loss?.PerSample ?? default;

    /// <summary>The pass settings (rows, noise, KL weight, loss scale); set them before a pass.</summary>
    public PassContext Context => _context;

    /// <summary>The input of layer <paramref name="index"/> (its output is <c>Activation(index + 1)</c>), (capacity, width).</summary>
    /// <param name="index">A boundary, 0 (the input) to the layer count (the output).</param>
    /// <returns>The view.</returns>
    public ArrayView<float> Activation(int index) => _activations[index];

    /// <summary>
    /// Runs layers <paramref name="first"/> to <paramref name="end"/> - 1 on the first <see cref="PassContext.Rows"/>
    /// rows, then the loss when the pass reaches the last layer and <paramref name="loss"/> is set.
    /// </summary>
    /// <param name="first">The first layer to run (its input must be in place).</param>
    /// <param name="end">One past the last layer to run; -1 for all.</param>
    /// <param name="loss">Whether to compute the loss and its gradient at the end.</param>
    public void Forward(int first = 0, int end = -1, bool loss = true)
    {
        CheckRows();
        if (end < 0)
            end = _layers.Length;
        int start = _context.Rows, rows = start;
        _rowsAt[first] = rows;
        try
        {
            for (int i = first; i < end; i++)
            {
                _context.Rows = rows;
                _layers[i].Forward(_context, _activations[i], _activations[i + 1], _gradients[i]);
                rows *= _layers[i].RowFactor(_context);
                _rowsAt[i + 1] = rows;
            }
            _context.Rows = rows;
            if (loss && end == _layers.Length && _loss is not null)
                _loss.Compute(_context, _activations[^1], _gradients[^1]);
        }
        finally
        {
            _context.Rows = start;
        }
    }

    /// <summary>Backward after a forward with the loss: adds dL/dparameters into <see cref="Gradients"/>, last layer first.</summary>
    public void Backward()
    {
        CheckRows();
        int start = _context.Rows;
        try
        {
            BackwardLayers();
        }
        finally
        {
            _context.Rows = start;
        }
    }

    // The rows of every boundary are those of the last forward.
    private void BackwardLayers()
    {
        // The loss wrote dL/d(output); the last layer's backward takes the gradient of its pre-activation.
        if (_layers[^1].OutputActivation is var last && last != Kernels.Activation.Identity)
        {
            long size = (long)_rowsAt[^1] * _layers[^1].OutputWidth;
            Device.Ops.ActivationBackward(_activations[^1].SubView(0, size), _gradients[^1].SubView(0, size),
                _gradients[^1].SubView(0, size), last);
        }
        for (int i = _layers.Length - 1; i >= 0; i--)
        {
            if (_layers[i].InputGradientIsOutputPrefix is not null)
                continue;
            _context.Rows = _rowsAt[i];
            // Where this layer's input gradient goes: past the layers below whose input gradient is a prefix of
            // their output's (label concatenations), straight into the buffer of the first of them.
            int target = i, columns = _layers[i].InputWidth;
            while (target > 0 && _layers[target - 1].InputGradientIsOutputPrefix is int prefix)
            {
                columns = prefix;
                target--;
            }
            ArrayView<float>? dx = target == 0 ? null : _gradients[target];
            // The gradient the layer below needs is that of its pre-activation: the activation's output is x's first
            // columns. A layer takes dx through it in the same launch where it can; otherwise it is done here.
            var below = target == 0
                ? new InputActivation(Kernels.Activation.Identity, default)
                : new InputActivation(_layers[target - 1].OutputActivation, _activations[target]);
            bool through = _layers[i].Backward(_context, _activations[i], _activations[i + 1], _gradients[i + 1], dx, columns, below);
            if (dx is { } input && !through && below.Function != Kernels.Activation.Identity)
            {
                long size = (long)_context.Rows * columns;
                Device.Ops.ActivationBackward(below.Output.SubView(0, size), input.SubView(0, size), input.SubView(0, size), below.Function);
            }
        }
    }

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => Device.Ops.Fill(Gradients, 0f);

    /// <summary>Copies a buffer laid out like the parameters (the parameters, Adam's moments) out as named tensors.</summary>
    /// <param name="flat">A flat buffer of the layout's size.</param>
    /// <param name="prefix">A prefix for the names.</param>
    /// <returns>The tensors in layout order.</returns>
    public List<NamedTensor> Export(ArrayView<float> flat, string prefix = "")
    {
        Device.Ops.Synchronize();
        // Each tensor straight into its own array: no whole-buffer copy in between (the conv VAE's 2.6M parameters
        // and two Adam moments would make every checkpoint 30 MB of extra garbage).
        return Layout.Slots.Select(s =>
        {
            var data = new float[s.Length];
            flat.SubView(s.Offset, s.Length).CopyToCPU(data);
            return new NamedTensor(prefix + s.Name, s.Shape, data);
        }).ToList();
    }

    /// <summary>
    /// Loads named tensors into a flat buffer laid out like the parameters. Every tensor of the layout must be present
    /// with its exact shape and finite values; a model file (no prefix) must hold no other tensor.
    /// </summary>
    /// <param name="file">The checkpoint.</param>
    /// <param name="flat">The destination.</param>
    /// <param name="prefix">The names' prefix.</param>
    /// <param name="source">The file, for messages.</param>
    /// <param name="description">What the layout belongs to, for messages, e.g. "a vae 784-400-20 model".</param>
    public void Import(SafeTensorsFile file, ArrayView<float> flat, string prefix, string source, string description)
    {
        Layout.CheckTensors(file, prefix, source, description);
        var all = new float[Layout.Count];
        foreach (var slot in Layout.Slots)
        {
            file.TryGet(prefix + slot.Name, out var tensor);
            if (tensor!.Data.Any(v => !float.IsFinite(v)))
                throw new InvalidDataException($"{source}: tensor '{prefix + slot.Name}' holds NaN or infinite values");
            tensor.Data.CopyTo(all, slot.Offset);
        }
        flat.SubView(0, Layout.Count).CopyFromCPU(all);
    }

    /// <summary>Overwrites one named tensor of the parameters (an initial value other than the uniform draw).</summary>
    /// <param name="name">The tensor's name, e.g. "out.bias".</param>
    /// <param name="values">Its values, exactly as many as it holds.</param>
    public void SetParameter(string name, ReadOnlySpan<float> values)
    {
        var slot = Layout[name];
        if (values.Length != slot.Length)
            throw new ArgumentException($"'{name}' holds {slot.Length} values, not {values.Length}", nameof(values));
        Parameters.SubView(slot.Offset, slot.Length).CopyFromCPU(values.ToArray());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var buffer in _owned)
            buffer.Dispose();
        _owned.Clear();
    }

    private void Initialize(int seed)
    {
        var random = new Random(seed);
        var values = new float[Layout.Count];
        int slotIndex = 0;
        foreach (var layer in _layers)
        {
            foreach (var spec in layer.Parameters)
            {
                var slot = Layout.Slots[slotIndex++];
                float bound = 1f / MathF.Sqrt(spec.FanIn);
                for (int i = 0; i < slot.Length; i++)
                    values[slot.Offset + i] = (float)((random.NextDouble() * 2 - 1) * bound);
            }
        }
        Parameters.SubView(0, Layout.Count).CopyFromCPU(values);
    }

    // The most rows per input row at each boundary.
    private static int[] Factors(Layer[] layers)
    {
        var factors = new int[layers.Length + 1];
        factors[0] = 1;
        for (int i = 0; i < layers.Length; i++)
            factors[i + 1] = checked(factors[i] * layers[i].MaxRowFactor);
        return factors;
    }

    private ArrayView<float> Rows(int width) => Own(Device.Allocate<float>((long)Capacity * width)).View.BaseView;

    private T Own<T>(T buffer) where T : IDisposable
    {
        _owned.Add(buffer);
        return buffer;
    }

    private void CheckRows()
    {
        int rows = _context.Rows;
        if (rows <= 0 || rows > Capacity)
            throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows for a network built for at most {Capacity}");
    }
}
