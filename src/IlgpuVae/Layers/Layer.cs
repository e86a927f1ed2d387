using ILGPU;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;

namespace IlgpuVae.Layers;

/// <summary>
/// One tensor a layer declares in the flat parameter buffer, in PyTorch's name and shape.
/// </summary>
/// <param name="Name">The safetensors name, e.g. "encoder.0.weight".</param>
/// <param name="Shape">PyTorch's shape: [out, in] for a linear weight, [out] for a bias.</param>
/// <param name="FanIn">The inputs of the unit it belongs to: PyTorch's default init draws U(-1/sqrt(FanIn), 1/sqrt(FanIn)).</param>
internal sealed record ParameterSpec(string Name, int[] Shape, int FanIn);

/// <summary>
/// What a pass needs beyond the layer's own tensors: the ops, the rows in the batch, the network's input and labels
/// (a loss reads its targets there; a label layer reads the labels), and the knobs of stochastic layers and losses.
/// One instance per network, updated before each pass, so a step allocates nothing.
/// </summary>
internal sealed class PassContext
{
    /// <summary>The ops every layer launches on.</summary>
    public required IOps Ops { get; init; }

    /// <summary>B: rows in this pass.</summary>
    public int Rows { get; set; }

    /// <summary>The network's input (capacity, D): a reconstruction loss's targets.</summary>
    public ArrayView<float> Input { get; init; }

    /// <summary>Labels (capacity): read by label layers and the classification loss.</summary>
    public ArrayView<int> Labels { get; init; }

    /// <summary>The noise stream's seed.</summary>
    public ulong Seed { get; set; }

    /// <summary>The noise stream's counter.</summary>
    public ulong Step { get; set; }

    /// <summary>How a sampling layer gets its noise.</summary>
    public NoiseSource Noise { get; set; } = NoiseSource.Draw;

    /// <summary>The KL weight beta in the gradient of BCE + beta KL.</summary>
    public float KlWeight { get; set; } = 1f;

    /// <summary>Scales the loss gradient: 1 for a summed loss, 1/B for a batch mean.</summary>
    public float LossScale { get; set; } = 1f;

    /// <summary>
    /// The accumulators the per-sample loss terms add their batch sums into when <see cref="LossSlot"/> is not
    /// negative: term t into <c>LossTotals[LossSlot + t]</c>, in the same launch that computes it.
    /// </summary>
    public ArrayView<float> LossTotals { get; set; }

    /// <summary>The slot of term 0 in <see cref="LossTotals"/>, or -1 (the default) when nothing is summed.</summary>
    public int LossSlot { get; set; } = -1;

    /// <summary>
    /// K, posterior samples per image: a sampling layer puts out K rows per input row (sample-major), and the layers
    /// after it run on K B rows. 1 (the default) is the one-sample ELBO with the analytic KL.
    /// </summary>
    public int Samples { get; set; } = 1;

    /// <summary>
    /// The objective of a pass that draws <see cref="Samples"/> samples per image (or an importance-weighted one at
    /// K = 1), and for the importance-weighted bound the encoder's gradient estimator (DReG or the bound's own).
    /// </summary>
    public TrainingObjective Objective { get; set; }

    /// <summary>Whether this pass runs the multi-sample path: K above 1, or the importance-weighted bound.</summary>
    public bool MultiSample => Samples > 1 || Objective.IsImportanceWeighted();
}

/// <summary>
/// The activation whose output a layer's input is: the layer below's, applied element-wise to the first
/// <c>columns</c> columns of the input. A layer's backward may take its input gradient on through it (fused into
/// the op that writes dx); the network does it otherwise.
/// </summary>
/// <param name="Function">The activation (identity when the layer below has none).</param>
/// <param name="Output">Its output, dense (B, columns).</param>
internal readonly record struct InputActivation(Activation Function, ArrayView<float> Output);

/// <summary>
/// A layer of the graph (llm.c style): a forward and a hand-written backward over <see cref="IOps"/>, with its
/// parameter tensors declared. A <see cref="Network"/> lays the declarations out in its flat buffers, binds each
/// layer to its slices, allocates one activation and one gradient buffer per layer boundary, and runs the backward
/// in reverse order. Row-major activations: x is (B, <see cref="InputWidth"/>), y is (B, <see cref="OutputWidth"/>).
/// Backward adds into the parameter gradients and assigns the input gradient. Adding a layer type is one subclass;
/// docs/architecture.md has the recipe.
/// </summary>
internal abstract class Layer
{
    /// <summary>Features per row in.</summary>
    public abstract int InputWidth { get; }

    /// <summary>Features per row out.</summary>
    public abstract int OutputWidth { get; }

    /// <summary>The tensors this layer owns in the flat buffers, in layout order.</summary>
    public virtual IReadOnlyList<ParameterSpec> Parameters => [];

    /// <summary>
    /// Not null when the gradient of this layer's input is just the first N columns of its output's gradient (a
    /// label concatenation: the one-hot is constant). The network then has the layer above write those N columns
    /// straight into this layer's input gradient and skips this layer's backward.
    /// </summary>
    public virtual int? InputGradientIsOutputPrefix => null;

    /// <summary>The activation applied last in this layer's forward (its output is that activation's output).</summary>
    public virtual Activation OutputActivation => Activation.Identity;

    /// <summary>The most output rows per input row this layer ever puts out (a sampling layer's largest K); the
    /// network sizes the buffers after it so.</summary>
    public virtual int MaxRowFactor => 1;

    /// <summary>
    /// Floats per input row of the buffers a layer allocates beyond its output when they are large (a two-stochastic-
    /// layer sample's inner activations), for the memory check before allocation; 0 for the others.
    /// </summary>
    public virtual int ScratchWidth => 0;

    /// <summary>Output rows per input row in the pass <paramref name="context"/> describes.</summary>
    /// <param name="context">The pass.</param>
    /// <returns>The factor, at most <see cref="MaxRowFactor"/>.</returns>
    public virtual int RowFactor(PassContext context) => 1;

    /// <summary>The loss term this layer's forward computes per sample (its index among the model's terms), if any.</summary>
    public int? LossTerm { get; init; }

    /// <summary>Receives where this layer's tensors (in <see cref="Parameters"/> order) sit in the flat buffers.</summary>
    /// <param name="slots">The layer's slots; take views of the parameter and gradient buffers through it.</param>
    public virtual void Bind(LayerSlots slots)
    {
    }

    /// <summary>Allocates per-row state beyond x and y (noise, per-sample losses) through <paramref name="rows"/>.</summary>
    /// <param name="rows">Returns a buffer of (capacity, width) floats for a width.</param>
    public virtual void Allocate(Func<int, ArrayView<float>> rows)
    {
    }

    /// <summary>
    /// y = f(x). <paramref name="dx"/> is the input-gradient buffer: a layer that owns a loss term of its own (the
    /// KL of a Gaussian sample) assigns that term's gradient there, and its backward adds to it.
    /// </summary>
    /// <param name="context">The pass.</param>
    /// <param name="x">Input (B, in).</param>
    /// <param name="y">Output (B, out).</param>
    /// <param name="dx">Input gradient (B, in).</param>
    public abstract void Forward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dx);

    /// <summary>
    /// Backward: adds dL/dparameters into the gradients and, when <paramref name="dx"/> is given, writes the first
    /// <paramref name="dxColumns"/> columns of dL/dx there as a dense (B, dxColumns) matrix. dy arrives as the
    /// gradient of this layer's pre-activation (whoever wrote it took it through <see cref="OutputActivation"/>).
    /// A layer may write dx already taken on through <paramref name="below"/> (the gradient of the layer below's
    /// pre-activation) and then returns true; returning false leaves that to the network.
    /// </summary>
    /// <param name="context">The pass.</param>
    /// <param name="x">The forward's input (B, in).</param>
    /// <param name="y">The forward's output (B, out).</param>
    /// <param name="dy">dL/d(pre-activation) (B, out).</param>
    /// <param name="dx">dL/dx (B, dxColumns), or null when nobody needs it.</param>
    /// <param name="dxColumns">Leading input columns whose gradient is wanted.</param>
    /// <param name="below">The activation whose output the first dxColumns input columns are.</param>
    /// <returns>Whether dx went through <paramref name="below"/>'s backward.</returns>
    public abstract bool Backward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy,
        ArrayView<float>? dx, int dxColumns, InputActivation below);
}

/// <summary>
/// A loss at the end of a network: per-sample values into <see cref="PerSample"/> and dL/d(output) scaled by
/// <see cref="PassContext.LossScale"/>, computed in one fused launch.
/// </summary>
internal abstract class Loss
{
    /// <summary>The per-sample loss of the last pass (capacity).</summary>
    public ArrayView<float> PerSample { get; private set; }

    /// <summary>The loss term this loss is among the model's terms (its slot offset in <see cref="PassContext.LossTotals"/>).</summary>
    public int LossTerm { get; init; }

    /// <summary>Allocates the per-sample buffer (and, in a subclass, its own).</summary>
    /// <param name="rows">Returns a buffer of (capacity, width) floats for a width, capacity being the network's input
    /// rows (the images; a multi-sample loss asks for K columns to hold a value per sample row).</param>
    public virtual void Allocate(Func<int, ArrayView<float>> rows) => PerSample = rows(1);

    /// <summary>Loss of the network output and its gradient.</summary>
    /// <param name="context">The pass.</param>
    /// <param name="output">The network's output (B, width).</param>
    /// <param name="doutput">Its gradient (B, width), assigned.</param>
    public abstract void Compute(PassContext context, ArrayView<float> output, ArrayView<float> doutput);
}

/// <summary>The slots of one layer's tensors in the flat buffers, in the order the layer declared them.</summary>
/// <param name="Slots">The layer's slots.</param>
/// <param name="Parameters">The whole flat parameter buffer.</param>
/// <param name="Gradients">The whole flat gradient buffer, same layout.</param>
internal sealed record LayerSlots(IReadOnlyList<ParameterSlot> Slots, ArrayView<float> Parameters, ArrayView<float> Gradients)
{
    /// <summary>The parameters of <paramref name="count"/> consecutive tensors from <paramref name="first"/>, as one view.</summary>
    /// <param name="first">The first tensor's index among the layer's.</param>
    /// <param name="count">Tensors.</param>
    /// <returns>The view.</returns>
    public ArrayView<float> Parameter(int first, int count = 1) => Span(Parameters, first, count);

    /// <summary>The gradients of <paramref name="count"/> consecutive tensors from <paramref name="first"/>, as one view.</summary>
    /// <param name="first">The first tensor's index among the layer's.</param>
    /// <param name="count">Tensors.</param>
    /// <returns>The view.</returns>
    public ArrayView<float> Gradient(int first, int count = 1) => Span(Gradients, first, count);

    private ArrayView<float> Span(ArrayView<float> flat, int first, int count)
    {
        long length = 0;
        for (int i = first; i < first + count; i++)
            length += Slots[i].Length;
        return flat.SubView(Slots[first].Offset, length);
    }
}
