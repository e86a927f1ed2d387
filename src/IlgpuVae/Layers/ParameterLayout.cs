using IlgpuVae.Checkpoints;

namespace IlgpuVae.Layers;

/// <summary>One named tensor inside the flat parameter buffer.</summary>
/// <param name="Name">The safetensors name, e.g. "encoder.0.weight".</param>
/// <param name="Shape">PyTorch's shape: [out, in] for weights, [out] for biases.</param>
/// <param name="Offset">The first element in the flat buffer.</param>
internal sealed record ParameterSlot(string Name, int[] Shape, int Offset)
{
    /// <summary>Elements in the tensor.</summary>
    public int Length => Shape.Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// Where every parameter sits in the one flat buffer that parameters, gradients and Adam moments share (llm.c
/// style): the layers' declared tensors, in layer order. The sizes are summed in checked 64-bit arithmetic and
/// refused beyond what one buffer can index, so an absurd architecture fails here with a message.
/// </summary>
internal sealed class ParameterLayout
{
    private readonly List<ParameterSlot> _slots = [];
    private readonly Dictionary<string, ParameterSlot> _byName = [];

    /// <summary>Lays out the tensors declared by <paramref name="layers"/>.</summary>
    /// <param name="layers">The layers, in network order.</param>
    public ParameterLayout(IEnumerable<Layer> layers)
    {
        long count = 0;
        foreach (var layer in layers)
        {
            foreach (var spec in layer.Parameters)
            {
                long length = 1;
                foreach (int dimension in spec.Shape)
                    length = checked(length * dimension);
                if (count + length > int.MaxValue)
                    throw new ArgumentException($"the model has more than {int.MaxValue:N0} parameters; choose smaller layers");
                var slot = new ParameterSlot(spec.Name, spec.Shape, (int)count);
                if (!_byName.TryAdd(spec.Name, slot))
                    throw new ArgumentException($"two tensors are named '{spec.Name}'");
                _slots.Add(slot);
                count += length;
            }
        }
        Count = (int)count;
    }

    /// <summary>The parameters <paramref name="layers"/> declare, summed in checked 64-bit arithmetic (any sizes that
    /// fit in <see cref="int"/> dimensions fit: a few products of two ints).</summary>
    /// <param name="layers">The layers.</param>
    /// <returns>The count.</returns>
    /// <exception cref="ArgumentException">The count does not fit in 64 bits.</exception>
    public static long CountOf(IEnumerable<Layer> layers)
    {
        try
        {
            long count = 0;
            foreach (var layer in layers)
                foreach (var spec in layer.Parameters)
                {
                    long length = 1;
                    foreach (int dimension in spec.Shape)
                        length = checked(length * dimension);
                    count = checked(count + length);
                }
            return count;
        }
        catch (OverflowException)
        {
            throw new ArgumentException("the model's parameter count overflows 64 bits; choose smaller layers");
        }
    }

    /// <summary>The tensors in buffer order.</summary>
    public IReadOnlyList<ParameterSlot> Slots => _slots;

    /// <summary>Total parameters.</summary>
    public int Count { get; }

    /// <summary>The slot named <paramref name="name"/>.</summary>
    /// <param name="name">A tensor name.</param>
    /// <returns>The slot.</returns>
    public ParameterSlot this[string name] => _byName[name];

    /// <summary>
    /// Refuses a checkpoint whose tensors are not this layout's: one missing or of another shape, or (with no prefix)
    /// one the layout does not have. Cheap, so a model file is checked before its network takes any device memory.
    /// </summary>
    /// <param name="file">The checkpoint.</param>
    /// <param name="prefix">The prefix of these tensors' names in the file ("" for a model file).</param>
    /// <param name="source">The file, for messages.</param>
    /// <param name="description">What the layout is of, for messages ("a vae 784-400-20 model").</param>
    /// <exception cref="InvalidDataException">The tensors do not match; the message is one line naming the tensor.</exception>
    public void CheckTensors(SafeTensorsFile file, string prefix, string source, string description)
    {
        foreach (var slot in _slots)
        {
            if (!file.TryGet(prefix + slot.Name, out var tensor))
                throw new InvalidDataException($"{source}: tensor '{prefix + slot.Name}' is missing for {description}");
            if (!tensor.Shape.SequenceEqual(slot.Shape))
                throw new InvalidDataException($"{source}: tensor '{prefix + slot.Name}' has shape " +
                    $"{NamedTensor.FormatShape(tensor.Shape)}, {description} needs {NamedTensor.FormatShape(slot.Shape)}");
        }
        // A tensor the metadata does not account for means the metadata and the weights disagree.
        if (prefix.Length == 0)
            foreach (var tensor in file.Tensors)
                if (!_byName.ContainsKey(tensor.Name))
                    throw new InvalidDataException($"{source}: unexpected tensor '{tensor.Name}' for {description}");
    }
}
