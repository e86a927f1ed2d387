using ILGPU;
using ILGPU.Algorithms;

namespace IlgpuVae.Kernels;

/// <summary>Scalars of one Adam step, computed on the host from the step count (no device read).</summary>
internal struct AdamStep
{
    /// <summary>First-moment decay.</summary>
    public float Beta1;
    /// <summary>Second-moment decay.</summary>
    public float Beta2;
    /// <summary>The denominator's epsilon.</summary>
    public float Epsilon;
    /// <summary>lr / (1 - beta1^t).</summary>
    public float StepSize;
    /// <summary>1 / sqrt(1 - beta2^t).</summary>
    public float InverseSqrtBias2;

    /// <summary>The scalars for step <paramref name="t"/> (1-based), as PyTorch's Adam computes them.</summary>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="beta1">First-moment decay.</param>
    /// <param name="beta2">Second-moment decay.</param>
    /// <param name="epsilon">The denominator's epsilon.</param>
    /// <param name="t">The 1-based step.</param>
    /// <returns>The step's scalars.</returns>
    public static AdamStep Create(float learningRate, float beta1, float beta2, float epsilon, long t) => new()
    {
        Beta1 = beta1,
        Beta2 = beta2,
        Epsilon = epsilon,
        StepSize = (float)(learningRate / (1.0 - Math.Pow(beta1, t))),
        InverseSqrtBias2 = (float)(1.0 / Math.Sqrt(1.0 - Math.Pow(beta2, t))),
    };
}

/// <summary>Optimiser kernels over one flat parameter buffer (theory: docs/theory.md, "Adam").</summary>
internal static class OptimizerKernels
{
    /// <summary>
    /// One Adam step over every parameter, in PyTorch's form:
    /// <c>m = b1 m + (1 - b1) g</c>, <c>v = b2 v + (1 - b2) g^2</c>,
    /// <c>p -= StepSize m / (sqrt(v) InverseSqrtBias2 + eps)</c>. The step consumes the gradient: it is zeroed
    /// afterwards, which saves the separate zero-grad launch before the next backward.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="parameters">The parameters (P).</param>
    /// <param name="gradients">The gradients (P), zeroed.</param>
    /// <param name="m">The first moments (P).</param>
    /// <param name="v">The second moments (P).</param>
    /// <param name="step">The step's scalars.</param>
    public static void AdamKernel(Index1D index, int stride, ArrayView<float> parameters, ArrayView<float> gradients,
        ArrayView<float> m, ArrayView<float> v, AdamStep step)
    {
        for (int i = index; i < parameters.IntLength; i += stride)
        {
            float g = gradients[i];
            float mi = step.Beta1 * m[i] + (1f - step.Beta1) * g;
            float vi = step.Beta2 * v[i] + (1f - step.Beta2) * g * g;
            m[i] = mi;
            v[i] = vi;
            parameters[i] -= step.StepSize * mi / (XMath.Sqrt(vi) * step.InverseSqrtBias2 + step.Epsilon);
            gradients[i] = 0f;
        }
    }
}
