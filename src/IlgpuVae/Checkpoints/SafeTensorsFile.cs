using System.Collections.ObjectModel;

namespace IlgpuVae.Checkpoints;

/// <summary>
/// The contents of a safetensors checkpoint: string metadata and an ordered list of float32 tensors.
/// </summary>
internal sealed class SafeTensorsFile
{
    private readonly Dictionary<string, NamedTensor> _byName;

    /// <summary>Creates a checkpoint from metadata and tensors.</summary>
    /// <param name="metadata">The <c>__metadata__</c> string map (copied).</param>
    /// <param name="tensors">The tensors, in the order they are to be kept (copied).</param>
    /// <param name="sourcePath">The file this was read from, if any; used in error messages.</param>
    /// <exception cref="ArgumentException">Two tensors share a name.</exception>
    public SafeTensorsFile(
        IReadOnlyDictionary<string, string> metadata,
        IEnumerable<NamedTensor> tensors,
        string? sourcePath = null)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(tensors);

        Metadata = new ReadOnlyDictionary<string, string>(new Dictionary<string, string>(metadata, StringComparer.Ordinal));
        var list = new List<NamedTensor>();
        _byName = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (NamedTensor tensor in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            if (!_byName.TryAdd(tensor.Name, tensor))
            {
                throw new ArgumentException($"Duplicate tensor name '{tensor.Name}'.", nameof(tensors));
            }

            list.Add(tensor);
        }

        Tensors = list.AsReadOnly();
        SourcePath = sourcePath;
    }

    /// <summary>The <c>__metadata__</c> string map; empty when there is none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors, in file (buffer) order.</summary>
    public IReadOnlyList<NamedTensor> Tensors { get; }

    /// <summary>The file this checkpoint was read from, or <see langword="null"/> if it was built in memory.</summary>
    public string? SourcePath { get; }

    /// <summary>Whether a tensor named <paramref name="name"/> is present.</summary>
    /// <param name="name">The tensor name.</param>
    /// <returns><see langword="true"/> if present.</returns>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Looks up a tensor by name.</summary>
    /// <param name="name">The tensor name.</param>
    /// <param name="tensor">The tensor, when found.</param>
    /// <returns><see langword="true"/> if found.</returns>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NamedTensor? tensor) =>
        _byName.TryGetValue(name, out tensor);

    /// <summary>Returns the tensor named <paramref name="name"/>.</summary>
    /// <param name="name">The tensor name.</param>
    /// <returns>The tensor.</returns>
    /// <exception cref="KeyNotFoundException">No tensor has that name; the message names it, the file and the tensors present.</exception>
    public NamedTensor Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_byName.TryGetValue(name, out NamedTensor? tensor))
        {
            return tensor;
        }

        const int MaxListed = 20;
        string where = SourcePath is null ? "checkpoint" : $"checkpoint '{SourcePath}'";
        string present = Tensors.Count == 0
            ? "it has no tensors"
            : "present: " + string.Join(", ", Tensors.Take(MaxListed).Select(t => t.Name))
                + (Tensors.Count > MaxListed ? $", ... ({Tensors.Count} in all)" : string.Empty);
        throw new KeyNotFoundException($"Tensor '{name}' not found in {where}; {present}.");
    }
}
