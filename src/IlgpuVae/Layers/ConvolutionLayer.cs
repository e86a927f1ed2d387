using ILGPU;
using IlgpuVae.Kernels;

namespace IlgpuVae.Layers;

/// <summary>
/// What <see cref="Conv2d"/> and <see cref="ConvTranspose2d"/> share: a weight of four dimensions and a per-channel
/// bias named <c>{prefix}.weight</c> and <c>{prefix}.bias</c>, PyTorch's initialisation bound (both drawn from
/// U(+-1/sqrt(fan-in))), and an activation fused into the bias add that the network takes back through.
/// </summary>
internal abstract class ConvolutionLayer : Layer
{
    private readonly ParameterSpec[] _parameters;

    /// <summary>Declares the two tensors.</summary>
    /// <param name="prefix">The tensor names' prefix.</param>
    /// <param name="weightShape">PyTorch's weight shape.</param>
    /// <param name="biasLength">The channels the bias has.</param>
    /// <param name="fanIn">The fan-in PyTorch computes for the weight.</param>
    /// <param name="activation">f, fused into the bias add.</param>
    protected ConvolutionLayer(string prefix, int[] weightShape, int biasLength, int fanIn, Activation activation)
    {
        Activation = activation;
        _parameters =
        [
            new ParameterSpec(prefix + ".weight", weightShape, fanIn),
            new ParameterSpec(prefix + ".bias", [biasLength], fanIn),
        ];
    }

    /// <summary>The fused activation.</summary>
    public Activation Activation { get; }

    /// <inheritdoc />
    public override IReadOnlyList<ParameterSpec> Parameters => _parameters;

    /// <inheritdoc />
    public override Activation OutputActivation => Activation;

    /// <summary>W.</summary>
    protected ArrayView<float> Weight { get; private set; }

    /// <summary>b.</summary>
    protected ArrayView<float> Bias { get; private set; }

    /// <summary>dW.</summary>
    protected ArrayView<float> WeightGradient { get; private set; }

    /// <summary>db.</summary>
    protected ArrayView<float> BiasGradient { get; private set; }

    /// <inheritdoc />
    public override void Bind(LayerSlots slots)
    {
        Weight = slots.Parameter(0);
        Bias = slots.Parameter(1);
        WeightGradient = slots.Gradient(0);
        BiasGradient = slots.Gradient(1);
    }
}
