using ILGPU;
using IlgpuVae.Checkpoints;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Layers;

namespace IlgpuVae.Classification;

/// <summary>
/// The digit classifier as a layer graph: x (B, D) -> Linear + ReLU per hidden layer -> Linear -> logits (B, C), with
/// softmax cross-entropy against <see cref="Labels"/>. Tensors are named <c>layers.{i}.weight</c> and
/// <c>layers.{i}.bias</c>, as a PyTorch nn.Sequential of Linear layers would name them with the ReLUs left out.
/// </summary>
internal sealed class ClassifierNetwork : IDisposable
{
    /// <summary>Allocates the classifier on <paramref name="device"/> with PyTorch's default initialisation.</summary>
    /// <param name="device">The device.</param>
    /// <param name="config">The architecture.</param>
    /// <param name="capacity">The most rows one pass takes.</param>
    /// <param name="seed">The initialisation seed.</param>
    public ClassifierNetwork(ComputeDevice device, ClassifierConfig config, int capacity, int seed)
    {
        config.Validate();
        Config = config;
        try
        {
            Graph = new Network(device, Build(config), new SoftmaxCrossEntropyLoss(), capacity, seed);
        }
        catch (ArgumentException e)
        {
            // The sizes came from the user: name them.
            throw new ArgumentException($"{config}: {e.Message}", e);
        }
    }

    /// <summary>The graph that runs the model.</summary>
    public Network Graph { get; }

    /// <summary>The device.</summary>
    public ComputeDevice Device => Graph.Device;

    /// <summary>The architecture.</summary>
    public ClassifierConfig Config { get; }

    /// <summary>The most rows one pass takes.</summary>
    public int Capacity => Graph.Capacity;

    /// <summary>The tensors in buffer order.</summary>
    public IReadOnlyList<ParameterSlot> Slots => Graph.Layout.Slots;

    /// <summary>Total parameters.</summary>
    public int ParameterCount => Graph.Layout.Count;

    /// <summary>All parameters, flat (P).</summary>
    public ArrayView<float> Parameters => Graph.Parameters;

    /// <summary>All gradients, flat (P).</summary>
    public ArrayView<float> Gradients => Graph.Gradients;

    /// <summary>The images (capacity, D) a forward reads.</summary>
    public ArrayView<float> Input => Graph.Input;

    /// <summary>The logits of the last forward (B, C).</summary>
    public ArrayView<float> Logits => Graph.Output;

    /// <summary>Cross-entropy per sample of the last forward (B).</summary>
    public ArrayView<float> SampleLoss => Graph.SampleLoss;

    /// <summary>The labels the loss reads (B).</summary>
    public ArrayView<int> Labels => Graph.Labels;

    /// <summary>The tensors of <paramref name="config"/>'s classifier, in buffer order.</summary>
    /// <param name="config">The architecture.</param>
    /// <returns>The layout.</returns>
    public static ParameterLayout LayoutOf(ClassifierConfig config) => new(Build(config));

    /// <summary>
    /// Forward on <see cref="Input"/>; with <paramref name="lossScale"/> also the loss against <see cref="Labels"/> and
    /// its gradient times the scale (1/B for PyTorch's batch mean).
    /// </summary>
    /// <param name="rows">B.</param>
    /// <param name="lossScale">The loss gradient's scale, or null to skip the loss.</param>
    public void Forward(int rows, float? lossScale)
    {
        Graph.Context.Rows = rows;
        Graph.Context.LossScale = lossScale ?? 1f;
        Graph.Forward(loss: lossScale is not null);
    }

    /// <summary>Backward after a forward with the loss: adds the loss gradient into <see cref="Gradients"/>.</summary>
    public void Backward() => Graph.Backward();

    /// <summary>Copies the parameters out as named tensors.</summary>
    /// <returns>The tensors.</returns>
    public List<NamedTensor> ExportParameters() => Graph.Export(Parameters);

    /// <summary>Loads a classifier file's tensors into the parameters.</summary>
    /// <param name="file">The checkpoint.</param>
    /// <param name="source">The file, for messages.</param>
    public void Import(SafeTensorsFile file, string source) =>
        Graph.Import(file, Parameters, "", source, $"a {Config} classifier");

    /// <inheritdoc />
    public void Dispose() => Graph.Dispose();

    private static List<Layer> Build(ClassifierConfig config)
    {
        var layers = config.Layers;
        // Hidden layers fuse ReLU into the bias add; the last layer's outputs are the logits.
        return layers.Select((l, i) => (Layer)new Linear($"layers.{i}", l.Inputs, l.Outputs,
            i == layers.Count - 1 ? Activation.Identity : Activation.Relu)).ToList();
    }
}
