using ILGPU;

namespace IlgpuVae.Layers;

/// <summary>
/// The scale of a Gaussian decoder: passes the means (B, D) through unchanged and holds the log-variance the
/// <see cref="LikelihoodLoss"/> reads, a learned vector of D values (tensor "out_logvar", initialised near 0) or the
/// fixed <c>2 log sigma</c>. The loss writes the log-variance's gradient per element into <see cref="ElementGradient"/>
/// (it runs in the forward, where no parameter gradient may change); this layer's backward sums it over the rows.
/// </summary>
/// <param name="features">D.</param>
/// <param name="sigma">The fixed standard deviation, or null for a learned log-variance.</param>
internal sealed class GaussianScale(int features, float? sigma) : Layer
{
    private readonly ParameterSpec[] _parameters = sigma is null ? [new ParameterSpec("out_logvar", [features], features)] : [];
    private ArrayView<float> _gradient, _fixed;

    /// <inheritdoc />
    public override int InputWidth => features;

    /// <inheritdoc />
    public override int OutputWidth => features;

    /// <inheritdoc />
    public override IReadOnlyList<ParameterSpec> Parameters => _parameters;

    /// <summary>The log-variance per dimension (D).</summary>
    public ArrayView<float> LogVariance { get; private set; }

    /// <summary>dL/d(log-variance) per element of the last loss (rows, D), written by the loss.</summary>
    public ArrayView<float> ElementGradient { get; private set; }

    /// <inheritdoc />
    public override void Bind(LayerSlots slots)
    {
        if (sigma is not null)
            return;
        LogVariance = slots.Parameter(0);
        _gradient = slots.Gradient(0);
    }

    /// <inheritdoc />
    public override void Allocate(Func<int, ArrayView<float>> rows)
    {
        ElementGradient = rows(features);
        if (sigma is not null)
        {
            // One row of a (capacity, D) buffer: the allocator hands out whole rows.
            _fixed = rows(features).SubView(0, features);
            LogVariance = _fixed;
        }
    }

    /// <summary><c>y = x</c>; with a fixed sigma, also sets the log-variance to <c>2 log sigma</c>.</summary>
    /// <inheritdoc />
    public override void Forward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dx)
    {
        long size = (long)context.Rows * features;
        context.Ops.Activate(x.SubView(0, size), y.SubView(0, size), Kernels.Activation.Identity);
        if (sigma is float s)
            context.Ops.Fill(_fixed, 2f * MathF.Log(s));
    }

    /// <summary><c>dx = dy</c> and, for a learned log-variance, <c>dlogvar += colsum(ElementGradient)</c>.</summary>
    /// <inheritdoc />
    public override bool Backward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy,
        ArrayView<float>? dx, int dxColumns, InputActivation below)
    {
        long size = (long)context.Rows * features;
        if (sigma is null)
            context.Ops.BiasGradient(ElementGradient.SubView(0, size), _gradient);
        if (dx is { } input)
            context.Ops.Activate(dy.SubView(0, size), input.SubView(0, size), Kernels.Activation.Identity);
        return false;
    }
}
