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

/// <summary>Where a Gaussian sample's noise eps comes from.</summary>
public enum NoiseSource
{
    /// <summary>Whatever is already in the noise buffer.</summary>
    Keep = 0,
    /// <summary>Drawn from the counter-based generator.</summary>
    Draw = 1,
    /// <summary>Zero, so z = mu.</summary>
    Zero = 2,
}
