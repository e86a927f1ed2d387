namespace IlgpuVae.Models;

/// <summary>One named tensor inside the flat parameter buffer.</summary>
/// <param name="Name">The safetensors name, e.g. "encoder.0.weight".</param>
/// <param name="Shape">PyTorch's shape: [out, in] for weights, [out] for biases.</param>
/// <param name="Offset">The first element in the flat buffer.</param>
public sealed record ParameterSlot(string Name, int[] Shape, int Offset)
{
    /// <summary>Elements in the tensor.</summary>
    public int Length => Shape.Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// Where every parameter sits in the one flat buffer that parameters, gradients and Adam moments share
/// (llm.c style). The two posterior heads are laid out as one [2Z, H] matrix and one [2Z] bias
/// (mu.weight, logvar.weight, mu.bias, logvar.bias), so a single GEMM computes both.
/// </summary>
public sealed class ParameterLayout
{
    private readonly List<ParameterSlot> _slots = [];

    /// <summary>Builds the layout for <paramref name="config"/>.</summary>
    /// <param name="config">The architecture.</param>
    public ParameterLayout(VaeConfig config)
    {
        int input = config.InputSize + config.Classes;
        for (int i = 0; i < config.Hidden.Count; i++)
        {
            AddLinear($"encoder.{i}", config.Hidden[i], input);
            input = config.Hidden[i];
        }
        Add("mu.weight", config.Latent, input);
        Add("logvar.weight", config.Latent, input);
        Add("mu.bias", config.Latent);
        Add("logvar.bias", config.Latent);
        // A decoder layer that reads the label takes C more inputs, after its usual ones.
        input = config.Latent;
        var decoder = config.DecoderHidden;
        for (int i = 0; i < decoder.Count; i++)
        {
            AddLinear($"decoder.{i}", decoder[i], input + (config.DecoderLayerReadsLabel(i) ? config.Classes : 0));
            input = decoder[i];
        }
        AddLinear("out", config.InputSize, input + (config.DecoderLayerReadsLabel(decoder.Count) ? config.Classes : 0));
    }

    /// <summary>The tensors in buffer order.</summary>
    public IReadOnlyList<ParameterSlot> Slots => _slots;

    /// <summary>Total parameters.</summary>
    public int Count { get; private set; }

    /// <summary>The slot named <paramref name="name"/>.</summary>
    /// <param name="name">A tensor name.</param>
    /// <returns>The slot.</returns>
    public ParameterSlot this[string name] => _slots.First(s => s.Name == name);

    private void AddLinear(string prefix, int outputs, int inputs)
    {
        Add(prefix + ".weight", outputs, inputs);
        Add(prefix + ".bias", outputs);
    }

    private void Add(string name, params int[] shape)
    {
        var slot = new ParameterSlot(name, shape, Count);
        _slots.Add(slot);
        Count += slot.Length;
    }
}
