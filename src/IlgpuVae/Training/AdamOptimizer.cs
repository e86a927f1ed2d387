using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;

namespace IlgpuVae.Training;

/// <summary>Adam with PyTorch's bias correction over one flat parameter buffer: one launch per step.</summary>
internal sealed class AdamOptimizer : IDisposable
{
    private readonly ComputeDevice _device;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _m, _v;

    /// <summary>Allocates zeroed moments for <paramref name="count"/> parameters.</summary>
    /// <param name="device">The device.</param>
    /// <param name="count">Parameters.</param>
    public AdamOptimizer(ComputeDevice device, int count)
    {
        _device = device;
        _m = device.Allocate<float>(count);
        _v = device.Allocate<float>(count);
    }

    /// <summary>Steps taken (t in the bias correction).</summary>
    public long Step { get; set; }

    /// <summary>First moments, laid out like the parameters.</summary>
    public ArrayView<float> M => _m.View.BaseView;

    /// <summary>Second moments, laid out like the parameters.</summary>
    public ArrayView<float> V => _v.View.BaseView;

    /// <summary>One update; consumes (zeroes) the gradients.</summary>
    /// <param name="parameters">The parameters.</param>
    /// <param name="gradients">Their gradients.</param>
    /// <param name="learningRate">lr.</param>
    /// <param name="beta1">First-moment decay.</param>
    /// <param name="beta2">Second-moment decay.</param>
    /// <param name="epsilon">Epsilon.</param>
    public void Update(ArrayView<float> parameters, ArrayView<float> gradients, float learningRate, float beta1,
        float beta2, float epsilon)
    {
        Step++;
        _device.Ops.Adam(parameters, gradients, M, V, AdamStep.Create(learningRate, beta1, beta2, epsilon, Step));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _m.Dispose();
        _v.Dispose();
    }
}
