namespace IlgpuVae.Checkpoints;

/// <summary>
/// Reading and writing a model's safetensors file, the same for every model kind: a missing file or a corrupt one is
/// a one-line error, a network whose import fails is disposed, and the kind's metadata and the caller's extra
/// entries are written beside the tensors.
/// </summary>
internal static class ModelFile
{
    /// <summary>Reads the file and builds the network it describes, giving the file's metadata too.</summary>
    /// <typeparam name="TNetwork">The network type.</typeparam>
    /// <param name="path">The file.</param>
    /// <param name="what">The kind, for messages ("model", "classifier").</param>
    /// <param name="create">Builds the network that the metadata describes.</param>
    /// <param name="import">Loads the tensors into it.</param>
    /// <param name="metadata">The file's metadata.</param>
    /// <returns>The network, loaded.</returns>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid checkpoint of this kind.</exception>
    public static TNetwork Load<TNetwork>(string path, string what, Func<SafeTensorsFile, TNetwork> create,
        Action<TNetwork, SafeTensorsFile> import, out IReadOnlyDictionary<string, string> metadata) where TNetwork : IDisposable
    {
        // Path.Exists: a directory (or a FIFO) is not missing; the reader refuses it with what it is.
        if (!Path.Exists(path))
            throw new FileNotFoundException($"{path}: no such {what} file", path);
        SafeTensorsFile file;
        try
        {
            file = SafeTensors.Read(path);
        }
        catch (CheckpointFormatException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        metadata = file.Metadata;
        TNetwork network;
        try
        {
            network = create(file);
        }
        catch (ArgumentException e)
        {
            // Sizes from the file's metadata that no device can hold (or no index can address).
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        try
        {
            import(network, file);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return network;
    }

    /// <summary>Writes the tensors with the kind's metadata and the caller's extra entries (which win), atomically.</summary>
    /// <param name="path">The file.</param>
    /// <param name="metadata">The kind's metadata (its config).</param>
    /// <param name="extraMetadata">More entries, or null.</param>
    /// <param name="tensors">The parameters.</param>
    public static void Save(string path, Dictionary<string, string> metadata, IReadOnlyDictionary<string, string>? extraMetadata,
        IEnumerable<NamedTensor> tensors)
    {
        if (extraMetadata is not null)
            foreach (var (key, value) in extraMetadata)
                metadata[key] = value;
        SafeTensors.Write(path, metadata, tensors);
    }
}
