namespace IlgpuVae.Kernels;

/// <summary>Element-wise activation functions; kernels branch on the value uniformly across a launch.</summary>
public enum Activation
{
    /// <summary>The identity: y = x.</summary>
    Identity = 0,
    /// <summary>y = max(x, 0).</summary>
    Relu = 1,
    /// <summary>y = 1 / (1 + exp(-x)).</summary>
    Sigmoid = 2,
    /// <summary>y = tanh(x).</summary>
    Tanh = 3,
}
