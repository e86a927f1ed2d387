using ILGPU;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;

namespace IlgpuVae.Layers;

/// <summary>
/// A fully connected layer with a fused activation: <c>y = f(x W^T + b)</c>, W stored [out, in] like PyTorch's
/// nn.Linear. Backward adds into the gradients (theory: docs/theory.md, "Linear layer").
/// </summary>
/// <remarks>
/// The weight and bias may be declared as several named tensors stacked by rows: the posterior heads are one
/// [2Z, H] matrix saved as mu.weight and logvar.weight (and mu.bias, logvar.bias), so one GEMM computes both.
/// </remarks>
internal sealed class Linear : Layer
{
    private readonly ParameterSpec[] _parameters;
    private ArrayView<float> _weight, _bias, _weightGradient, _biasGradient;

    /// <summary>A layer whose tensors are named <c>{prefix}.weight</c> and <c>{prefix}.bias</c>.</summary>
    /// <param name="prefix">The tensor names' prefix, e.g. "encoder.0".</param>
    /// <param name="inputs">in.</param>
    /// <param name="outputs">out.</param>
    /// <param name="activation">f, fused into the bias add.</param>
    public Linear(string prefix, int inputs, int outputs, Activation activation)
        : this([prefix], inputs, outputs, activation)
    {
    }

    /// <summary>A layer whose out rows are split evenly among the named parts (weights first, then biases).</summary>
    /// <param name="parts">The prefixes of the parts, e.g. ["mu", "logvar"].</param>
    /// <param name="inputs">in.</param>
    /// <param name="outputs">out, a multiple of the parts.</param>
    /// <param name="activation">f.</param>
    public Linear(IReadOnlyList<string> parts, int inputs, int outputs, Activation activation)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputs);
        if (outputs % parts.Count != 0)
            throw new ArgumentException($"{outputs} outputs do not split into {parts.Count} equal parts", nameof(parts));
        Inputs = inputs;
        Outputs = outputs;
        Activation = activation;
        int rows = outputs / parts.Count;
        _parameters =
        [
            .. parts.Select(p => new ParameterSpec(p + ".weight", [rows, inputs], inputs)),
            .. parts.Select(p => new ParameterSpec(p + ".bias", [rows], inputs)),
        ];
    }

    /// <summary>Input features.</summary>
    public int Inputs { get; }

    /// <summary>Output features.</summary>
    public int Outputs { get; }

    /// <summary>The fused activation.</summary>
    public Activation Activation { get; }

    /// <summary>
    /// Whether the backward adds <c>dy W</c> into dx instead of assigning it (for an input that feeds several layers,
    /// a two-stochastic-layer model's z1; the input then must not be an activation's output).
    /// </summary>
    public bool AccumulatesInputGradient { get; init; }

    /// <inheritdoc />
    public override int InputWidth => Inputs;

    /// <inheritdoc />
    public override int OutputWidth => Outputs;

    /// <inheritdoc />
    public override IReadOnlyList<ParameterSpec> Parameters => _parameters;

    /// <inheritdoc />
    public override Activation OutputActivation => Activation;

    /// <inheritdoc />
    public override void Bind(LayerSlots slots)
    {
        // The parts are consecutive in the layout: all weights, then all biases.
        int parts = _parameters.Length / 2;
        _weight = slots.Parameter(0, parts);
        _bias = slots.Parameter(parts, parts);
        _weightGradient = slots.Gradient(0, parts);
        _biasGradient = slots.Gradient(parts, parts);
    }

    /// <summary><c>y = f(x W^T + b)</c>; x is (B, in), y is (B, out).</summary>
    /// <inheritdoc />
    public override void Forward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dx)
    {
        context.Ops.LinearForward(x, _weight, _bias, y, context.Rows, Inputs, Outputs, Activation);
    }

    /// <summary>
    /// dy (B, out) holds dL/d(pre-activation); <c>db += colsum(dy)</c>, <c>dW += dy^T x</c>, and
    /// <c>dx = (dy W[:, :dxColumns]) f'(below)</c>, the layer below's activation backward fused into the product: a
    /// layer that reads a label needs only the columns before it.
    /// </summary>
    /// <inheritdoc />
    public override bool Backward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy,
        ArrayView<float>? dx, int dxColumns, InputActivation below)
    {
        var ops = context.Ops;
        int rows = context.Rows;
        ops.LinearParameterGradient(dy, x, _weightGradient, _biasGradient, rows, Inputs, Outputs);
        if (dx is { } input)
        {
            if (AccumulatesInputGradient)
            {
                if (below.Function != Activation.Identity)
                    throw new InvalidOperationException("an accumulated input gradient cannot go through the activation below");
                ops.Gemm(false, false, rows, dxColumns, Outputs, 1f, dy, Outputs, _weight, Inputs, 1f, input, dxColumns);
            }
            else
            {
                ops.LinearInputGradient(dy, _weight, input, rows, Inputs, Outputs, dxColumns, below.Output, below.Function);
            }
        }
        return true;
    }
}
