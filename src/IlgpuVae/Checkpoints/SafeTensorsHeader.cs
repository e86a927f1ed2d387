namespace IlgpuVae.Checkpoints;

/// <summary>
/// The validated header of a safetensors file: metadata and tensor entries, without tensor data.
/// </summary>
internal sealed class SafeTensorsHeader
{
    internal SafeTensorsHeader(
        string path,
        IReadOnlyDictionary<string, string> metadata,
        IReadOnlyList<TensorInfo> tensors,
        long headerLength,
        long fileLength)
    {
        Path = path;
        Metadata = metadata;
        Tensors = tensors;
        HeaderLength = headerLength;
        FileLength = fileLength;
    }

    /// <summary>The file the header was read from.</summary>
    public string Path { get; }

    /// <summary>The <c>__metadata__</c> string map; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor entries in buffer order (ascending data offset).</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>The length in bytes of the JSON header, padding included (the file's leading u64).</summary>
    public long HeaderLength { get; }

    /// <summary>The absolute file offset where the data buffer starts (8 + <see cref="HeaderLength"/>).</summary>
    public long DataStart => 8 + HeaderLength;

    /// <summary>The length of the data buffer in bytes.</summary>
    public long DataLength => FileLength - DataStart;

    /// <summary>The length of the whole file in bytes.</summary>
    public long FileLength { get; }
}
