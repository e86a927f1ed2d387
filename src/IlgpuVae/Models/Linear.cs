using ILGPU;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;

namespace IlgpuVae.Models;

/// <summary>
/// A fully connected layer with a fused activation: <c>y = f(x W^T + b)</c>, W stored [out, in] like PyTorch's
/// nn.Linear. Its weights and gradients are views into the network's flat buffers. Backward adds into the
/// gradients (theory: docs/theory.md, "Linear layer").
/// </summary>
public sealed class Linear
{
    /// <summary>Creates the layer over views of the flat parameter and gradient buffers.</summary>
    /// <param name="inputs">in.</param>
    /// <param name="outputs">out.</param>
    /// <param name="activation">f.</param>
    /// <param name="weight">W (out, in).</param>
    /// <param name="bias">b (out).</param>
    /// <param name="weightGradient">dW (out, in).</param>
    /// <param name="biasGradient">db (out).</param>
    public Linear(int inputs, int outputs, Activation activation, ArrayView<float> weight, ArrayView<float> bias,
        ArrayView<float> weightGradient, ArrayView<float> biasGradient)
    {
        Inputs = inputs;
        Outputs = outputs;
        Activation = activation;
        Weight = weight;
        Bias = bias;
        WeightGradient = weightGradient;
        BiasGradient = biasGradient;
    }

    /// <summary>Input features.</summary>
    public int Inputs { get; }

    /// <summary>Output features.</summary>
    public int Outputs { get; }

    /// <summary>The fused activation.</summary>
    public Activation Activation { get; }

    /// <summary>W (out, in).</summary>
    public ArrayView<float> Weight { get; }

    /// <summary>b (out).</summary>
    public ArrayView<float> Bias { get; }

    /// <summary>dW (out, in).</summary>
    public ArrayView<float> WeightGradient { get; }

    /// <summary>db (out).</summary>
    public ArrayView<float> BiasGradient { get; }

    /// <summary><c>y = f(x W^T + b)</c>; x is (rows, in), y is (rows, out).</summary>
    /// <param name="ops">The ops.</param>
    /// <param name="x">The input.</param>
    /// <param name="y">The output.</param>
    /// <param name="rows">B.</param>
    public void Forward(IOps ops, ArrayView<float> x, ArrayView<float> y, int rows)
    {
        ops.Gemm(false, true, rows, Outputs, Inputs, 1f, x, Inputs, Weight, Inputs, 0f, y, Outputs);
        ops.BiasActivation(y.SubView(0, (long)rows * Outputs), Bias, Activation);
    }

    /// <summary>
    /// Backward: dy (rows, out) holds dL/dy on entry and dL/d(pre-activation) on exit;
    /// <c>db += colsum(dy)</c>, <c>dW += dy^T x</c>, and, when <paramref name="dx"/> is given,
    /// <c>dx = dy W[:, :dxColumns]</c> (rows, dxColumns): a conditional decoder needs only z's columns.
    /// </summary>
    /// <param name="ops">The ops.</param>
    /// <param name="x">The forward's input (rows, in).</param>
    /// <param name="y">The forward's output (rows, out).</param>
    /// <param name="dy">The output gradient, overwritten.</param>
    /// <param name="dx">The input gradient, or null for the first layer.</param>
    /// <param name="rows">B.</param>
    /// <param name="dxColumns">Leading input columns whose gradient is wanted (default all).</param>
    public void Backward(IOps ops, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float>? dx,
        int rows, int dxColumns = -1)
    {
        long size = (long)rows * Outputs;
        var dyRows = dy.SubView(0, size);
        if (Activation != Activation.Identity)
            ops.ActivationBackward(y.SubView(0, size), dyRows, dyRows, Activation);
        ops.BiasGradient(dyRows, BiasGradient);
        ops.Gemm(true, false, Outputs, Inputs, rows, 1f, dy, Outputs, x, Inputs, 1f, WeightGradient, Inputs);
        if (dx is { } input)
        {
            int columns = dxColumns < 0 ? Inputs : dxColumns;
            ops.Gemm(false, false, rows, columns, Outputs, 1f, dy, Outputs, Weight, Inputs, 0f, input, columns);
        }
    }
}
