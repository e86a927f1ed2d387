using IlgpuVae.Checkpoints;
using IlgpuVae.Layers;

namespace IlgpuVae.Models;

/// <summary>
/// What every trained model shares: a network on a device, its size, saving it as safetensors, and disposal. A
/// model serves one call at a time: concurrent calls from several threads wait for each other (the network's
/// buffers are reused by every call). A disposed model throws <see cref="ObjectDisposedException"/>.
/// </summary>
public abstract class Model : IDisposable
{
    private readonly IDisposable _network;
    private readonly bool _ownsNetwork;
    private bool _disposed;

    private protected Model(IDisposable network, Network graph, bool ownsNetwork)
    {
        _network = network;
        Graph = graph;
        _ownsNetwork = ownsNetwork;
    }

    /// <summary>Trainable parameters.</summary>
    public int ParameterCount => Graph.Layout.Count;

    /// <summary>Pixels per image the model reads.</summary>
    public int InputSize => Graph.Layers[0].InputWidth;

    /// <summary>
    /// Checks that the model can read <paramref name="set"/> before anything runs: its images have
    /// <see cref="InputSize"/> pixels and, for a model that reads or predicts labels, every label is one of its
    /// classes. A model trained on other data would otherwise give meaningless numbers, not an error.
    /// </summary>
    /// <param name="set">The images and labels.</param>
    /// <exception cref="ArgumentException">They do not fit the model; the message says how.</exception>
    public void CheckCompatible(Data.MnistSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (set.PixelsPerImage != InputSize)
            throw new ArgumentException($"the model reads images of {InputSize} pixels; these have {set.PixelsPerImage} ({set.Rows}x{set.Cols})");
        if (LabelClasses > 0 && set.MaxLabel() is int label && label >= LabelClasses)
            throw new ArgumentException($"the model knows {LabelClasses} classes (0-{LabelClasses - 1}); the data has label {label}");
    }

    /// <summary>The classes the model reads or predicts; 0 when it uses no labels.</summary>
    private protected abstract int LabelClasses { get; }

    /// <summary>
    /// The metadata of the file the model was loaded from (its config, and whatever the writer added: training
    /// figures, the classifier's test accuracy); empty for a model created in this process.
    /// </summary>
    public IReadOnlyDictionary<string, string> Metadata { get; internal set; } = new Dictionary<string, string>();

    /// <summary>The graph that runs the model.</summary>
    internal Network Graph { get; }

    /// <summary>Held by every call that uses the network's buffers.</summary>
    private protected object Gate { get; } = new();

    /// <summary>Writes the weights atomically as safetensors, names and shapes as PyTorch's, the config in the metadata.</summary>
    /// <param name="path">The file; its directory must exist.</param>
    /// <param name="extraMetadata">More metadata (training figures, for instance); it wins over the config's keys.</param>
    public void Save(string path, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        lock (Gate)
        {
            ThrowIfDisposed();
            ModelFile.Save(path, ConfigMetadata(), extraMetadata, Graph.Export(Graph.Parameters));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (Gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            if (_ownsNetwork)
                _network.Dispose();
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>The config as safetensors metadata.</summary>
    /// <returns>The metadata.</returns>
    private protected abstract Dictionary<string, string> ConfigMetadata();

    /// <summary>Throws when the model was disposed.</summary>
    private protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
