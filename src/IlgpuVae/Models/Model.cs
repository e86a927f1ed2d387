using IlgpuVae.Checkpoints;
using IlgpuVae.Compute;
using IlgpuVae.Layers;
using Microsoft.Extensions.Logging;

namespace IlgpuVae.Models;

/// <summary>
/// What every trained model shares: a network on a device, its size, saving it as safetensors, and disposal.
/// </summary>
/// <remarks>
/// A model may be used from several threads at once: each call holds its device's lock while it runs, so calls on
/// models of one device take turns and each returns what it would have returned alone (the network's buffers are
/// reused by every call; the device's ops serve one thread at a time). Per-call buffers would not let calls overlap
/// either, since the device itself is shared, and would allocate device memory on every call. After
/// <see cref="Dispose"/>, or once its device is disposed, every member throws <see cref="ObjectDisposedException"/>.
/// </remarks>
public abstract class Model : IDisposable
{
    private readonly IDisposable _network;
    private readonly bool _ownsNetwork;
    private readonly ComputeDevice _device;
    private IReadOnlyDictionary<string, string> _metadata = new Dictionary<string, string>();
    private bool _disposed;

    private protected Model(IDisposable network, Network graph, bool ownsNetwork)
    {
        _network = network;
        Graph = graph;
        _ownsNetwork = ownsNetwork;
        _device = graph.Device;
    }

    /// <summary>Trainable parameters.</summary>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public int ParameterCount
    {
        get
        {
            ThrowIfDisposed();
            return Graph.Layout.Count;
        }
    }

    /// <summary>Pixels per image the model reads.</summary>
    public int InputSize => Graph.Layers[0].InputWidth;

    /// <summary>
    /// Checks that the model can read <paramref name="set"/> before anything runs: its images have
    /// <see cref="InputSize"/> pixels and, for a model that reads or predicts labels, the images have labels and
    /// every label is one of its classes. A model trained on other data would otherwise give meaningless numbers, not an error.
    /// </summary>
    /// <param name="set">The images and labels.</param>
    /// <exception cref="ArgumentException">They do not fit the model; the message says how.</exception>
    public void CheckCompatible(Data.ImageSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (set.IsVectors != ReadsVectors)
            throw new ArgumentException(ReadsVectors
                ? "the model was trained on real-valued vectors (a CSV file or an N x D .npy array); these are images"
                : "the model was trained on images; these are real-valued vectors");
        if (set.PixelsPerImage != InputSize)
            throw new ArgumentException($"the model reads images of {InputSize} pixels; these have {set.PixelsPerImage} ({(set.Channels == 1 ? "" : $"{set.Channels}x")}{set.Rows}x{set.Cols})");
        if (LabelClasses > 0 && !set.HasLabels)
            throw new ArgumentException($"the model reads the labels of {LabelClasses} classes; these images have no labels");
        if (LabelClasses > 0 && set.MaxLabel() is int label && label >= LabelClasses)
            throw new ArgumentException($"the model knows {LabelClasses} classes (0-{LabelClasses - 1}); the data has label {label}");
    }

    /// <summary>Whether the model reads real-valued vectors (then only sets of vectors) rather than images.</summary>
    private protected virtual bool ReadsVectors => false;

    /// <summary>The classes the model reads or predicts; 0 when it uses no labels.</summary>
    private protected abstract int LabelClasses { get; }

    /// <summary>
    /// The metadata of the file the model was loaded from (its config, and whatever the writer added: training
    /// figures, the classifier's test accuracy); empty for a model created in this process.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public IReadOnlyDictionary<string, string> Metadata
    {
        get
        {
            ThrowIfDisposed();
            return _metadata;
        }
        internal set => _metadata = value;
    }

    /// <summary>The graph that runs the model.</summary>
    internal Network Graph { get; }

    /// <summary>The device's lock: held by every call that uses the network's buffers or the device's ops.</summary>
    internal object Gate => _device.Gate;

    /// <summary>Writes the weights atomically as safetensors, names and shapes as PyTorch's, the config in the metadata.</summary>
    /// <param name="path">The file; its directory must exist.</param>
    /// <param name="extraMetadata">More metadata (training figures, for instance); it wins over the config's keys.</param>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public void Save(string path, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        // Only the copy off the device needs the device; the file is written without holding it.
        List<NamedTensor> parameters;
        using (Use())
            parameters = Graph.Export(Graph.Parameters);
        Write(path, extraMetadata, parameters);
    }

    /// <summary>
    /// The parameters as <see cref="Save"/> writes them: each tensor's safetensors name (the key PyTorch's state_dict
    /// loads it by), shape and values (row-major), in the file's order. Copies: changing them changes nothing in the
    /// model. An exporter to another format reads them by the names <see cref="VaeModel.Layers"/> gives.
    /// </summary>
    /// <returns>The tensors.</returns>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public IReadOnlyList<(string Name, int[] Shape, float[] Values)> Tensors()
    {
        using (Use())
            return [.. Graph.Export(Graph.Parameters).Select(t => (t.Name, t.Shape, t.Data))];
    }

    /// <summary>Writes parameters already copied off the device (a trainer's checkpoint has them) as this model's file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="extraMetadata">More metadata, or null.</param>
    /// <param name="parameters">The parameters as named tensors, in layout order.</param>
    internal void Write(string path, IReadOnlyDictionary<string, string>? extraMetadata, IEnumerable<NamedTensor> parameters)
    {
        ModelFile.Save(path, ConfigMetadata(), extraMetadata, parameters);
        LibraryLog.ModelSaved(_device.Logger, path);
    }

    /// <summary>Frees the model's device buffers (a trainer's model leaves them to the trainer). Calling it again does nothing.</summary>
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

    /// <summary>
    /// Refuses, with one line and before anything is allocated, a call whose results would not fit in this process's
    /// memory (or in one .NET array): a count of a billion images fails at once instead of growing until killed.
    /// </summary>
    /// <param name="floats">The floats the call returns or holds at once.</param>
    /// <param name="what">What needs them, e.g. "100,000,000 samples of 784 values".</param>
    /// <exception cref="ArgumentOutOfRangeException">They do not fit.</exception>
    internal static void CheckHostMemory(double floats, string what)
    {
        double bytes = floats * sizeof(float);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (floats > Array.MaxLength || (available > 0 && bytes > available))
            throw new ArgumentOutOfRangeException(null, $"{what} need {ComputeDevice.FormatBytes(bytes)} of memory; " +
                (floats > Array.MaxLength ? $"one array holds at most {ComputeDevice.FormatBytes(Array.MaxLength * (double)sizeof(float))}" : $"this process has {ComputeDevice.FormatBytes(available)}"));
    }

    /// <summary>The file the model was loaded from, or null for one made in memory: what errors about it name.</summary>
    internal string? SourcePath { get; init; }

    /// <summary>
    /// Refuses outputs that are not finite, the same way wherever they leave the library: finite weights so large that
    /// float32 overflows give NaN or infinite codes, pixels and losses, which would otherwise print as NaN, break JSON,
    /// or fail deep in clustering without naming the model.
    /// </summary>
    /// <param name="values">The outputs, rows of <paramref name="width"/>.</param>
    /// <param name="width">Values per image.</param>
    /// <param name="what">What they are, e.g. "latent means".</param>
    /// <exception cref="InvalidDataException">One is not finite; one line naming the model's file.</exception>
    internal void CheckFinite(ReadOnlySpan<float> values, int width, string what)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw NotFinite($"{what} ({values[i]} for image {i / Math.Max(1, width)})");
    }

    /// <inheritdoc cref="CheckFinite(ReadOnlySpan{float}, int, string)"/>
    /// <param name="value">The output.</param>
    /// <param name="what">What it is, e.g. "test loss".</param>
    internal void CheckFinite(double value, string what)
    {
        if (!double.IsFinite(value))
            throw NotFinite($"{what} ({value})");
    }

    private InvalidDataException NotFinite(string what) => new(
        $"{SourcePath ?? "the model"}: gives outputs that are not finite: {what}; its weights are damaged or overflow float32");

    /// <summary>Throws when the model or its device was disposed.</summary>
    internal void ThrowIfDisposed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _device.ThrowIfDisposed();
    }

    /// <summary>Takes the device's lock and checks the model is alive; dispose the result to release the lock.</summary>
    /// <returns>The held lock.</returns>
    internal Held Use()
    {
        Monitor.Enter(Gate);
        try
        {
            ThrowIfDisposed();
        }
        catch
        {
            Monitor.Exit(Gate);
            throw;
        }
        return new Held(Gate);
    }

    /// <summary>A held lock, released by <see cref="Dispose"/>.</summary>
    /// <param name="gate">The lock object, entered by the creator.</param>
    internal readonly ref struct Held(object gate)
    {
        /// <summary>Releases the lock.</summary>
        public void Dispose() => Monitor.Exit(gate);
    }
}
