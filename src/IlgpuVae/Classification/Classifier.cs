using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Checkpoints;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Training;

namespace IlgpuVae.Classification;

/// <summary>
/// A trained MNIST classifier for embedding in an application, e.g. to judge whether a conditional VAE's samples
/// show the requested digit: predict, save and load. Inputs are host arrays of row-major image rows (pixels in
/// [0, 1], as <see cref="Models.VaeModel.Sample(int, int, ReadOnlySpan{int})"/> returns them); work runs on the
/// device in batches of the capacity given to <see cref="Create"/> or <see cref="Load"/>.
/// </summary>
/// <remarks>
/// Safe to share between threads: every call holds the device's lock (see <see cref="Model"/>). After
/// <see cref="Model.Dispose"/> every member throws <see cref="ObjectDisposedException"/>.
/// </remarks>
public sealed partial class Classifier : Model
{
    /// <summary>Loads a classifier checkpoint (safetensors); the file alone rebuilds the architecture.</summary>
    /// <param name="device">The device.</param>
    /// <param name="path">The .safetensors file.</param>
    /// <param name="capacity">Rows per device batch.</param>
    /// <returns>The classifier.</returns>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid classifier checkpoint; the message is one line.</exception>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    public static Classifier Load(ComputeDevice device, string path, int capacity = 1000)
    {
        ArgumentNullException.ThrowIfNull(device);
        device.ThrowIfDisposed();
        lock (device.Gate)
        {
            var loaded = ModelFile.Load(path, "classifier", file =>
                {
                    var config = ClassifierConfig.FromMetadata(file.Metadata, path);
                    ClassifierNetwork.LayoutOf(config).CheckTensors(file, "", path, $"a {config} classifier");
                    return new ClassifierNetwork(device, config, capacity, seed: 0);
                },
                (network, file) => network.Import(file, path), out var metadata);
            return new(loaded) { Metadata = metadata };
        }
    }

    /// <summary>Creates an untrained classifier with PyTorch's default initialisation.</summary>
    /// <param name="device">The device.</param>
    /// <param name="config">The architecture.</param>
    /// <param name="seed">The initialisation seed.</param>
    /// <param name="capacity">Rows per device batch.</param>
    /// <returns>The classifier.</returns>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    public static Classifier Create(ComputeDevice device, ClassifierConfig config, int seed = 1, int capacity = 1000)
    {
        ArgumentNullException.ThrowIfNull(device);
        device.ThrowIfDisposed();
        lock (device.Gate)
            return new(new ClassifierNetwork(device, config, capacity, seed));
    }

    // A trainer's classifier shares its network; a created or loaded one owns it.
    internal Classifier(ClassifierNetwork network, bool ownsNetwork = true)
        : base(network, network.Graph, ownsNetwork) => Network = network;

    internal ClassifierNetwork Network { get; }

    /// <summary>The architecture.</summary>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    public ClassifierConfig Config
    {
        get
        {
            ThrowIfDisposed();
            return Network.Config;
        }
    }

    /// <inheritdoc />
    private protected override Dictionary<string, string> ConfigMetadata() => Config.ToMetadata();

    private protected override int LabelClasses => Config.Classes;

    /// <summary>The most likely class of each image (the first one on a tie).</summary>
    /// <param name="images">count rows of D finite pixels, in [0, 1] as the classifier was trained.</param>
    /// <returns>count labels in [0, C).</returns>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    public int[] Predict(ReadOnlySpan<float> images) => Predict(images, out _);

    /// <summary>The most likely class of each image and the softmax probabilities of every class.</summary>
    /// <param name="images">count rows of D finite pixels.</param>
    /// <param name="probabilities">count rows of C probabilities, each row summing to 1.</param>
    /// <returns>count labels in [0, C).</returns>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    public int[] Predict(ReadOnlySpan<float> images, out float[] probabilities)
    {
        var logits = Logits(images);
        int c = Config.Classes, count = logits.Length / c;
        var labels = new int[count];
        probabilities = new float[logits.Length];
        for (int r = 0; r < count; r++)
        {
            var row = logits.AsSpan(r * c, c);
            labels[r] = ArgMax(row);
            // Softmax on the host: C numbers per image cost nothing next to the GEMMs that made them.
            float max = row[labels[r]];
            double sum = 0;
            for (int j = 0; j < c; j++)
                sum += Math.Exp(row[j] - max);
            for (int j = 0; j < c; j++)
                probabilities[r * c + j] = (float)(Math.Exp(row[j] - max) / sum);
        }
        return labels;
    }

    /// <summary>The fraction of images whose predicted class is the given label.</summary>
    /// <param name="images">count rows of D finite pixels.</param>
    /// <param name="labels">count labels.</param>
    /// <returns>The accuracy in [0, 1].</returns>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    public double Accuracy(ReadOnlySpan<float> images, ReadOnlySpan<int> labels)
    {
        var predicted = Predict(images);
        if (labels.Length != predicted.Length)
            throw new ArgumentException($"{labels.Length} labels for {predicted.Length} images", nameof(labels));
        if (predicted.Length == 0)
            throw new ArgumentException("no images to score", nameof(images));
        int correct = 0;
        for (int i = 0; i < predicted.Length; i++)
            correct += predicted[i] == labels[i] ? 1 : 0;
        return correct / (double)predicted.Length;
    }

    /// <summary>The logits of each image.</summary>
    /// <param name="images">count rows of D finite pixels.</param>
    /// <returns>count rows of C logits.</returns>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    public float[] Logits(ReadOnlySpan<float> images)
    {
        using var held = Use();
        int d = Config.InputSize, c = Config.Classes;
        if (images.Length % d != 0)
            throw new ArgumentException($"{images.Length} values are not whole images of D = {d}", nameof(images));
        // A NaN pixel would make every logit NaN and the prediction an arbitrary 0: refuse it instead.
        for (int i = 0; i < images.Length; i++)
            if (!float.IsFinite(images[i]))
                throw new ArgumentException($"pixel {i % d} of image {i / d} is {images[i]}, not a finite number", nameof(images));
        int count = images.Length / d;
        var logits = new float[count * c];
        for (int start = 0; start < count; start += Network.Capacity)
        {
            int rows = Math.Min(Network.Capacity, count - start);
            Network.Input.SubView(0, (long)rows * d).CopyFromCPU(images.Slice(start * d, rows * d));
            Network.Forward(rows, lossScale: null);
            Network.Device.Ops.Synchronize();
            Network.Logits.SubView(0, (long)rows * c).CopyToCPU(logits.AsSpan(start * c, rows * c));
        }
        return logits;
    }

    /// <summary>The index of the largest value, the first one on a tie (as torch.argmax).</summary>
    /// <param name="row">The values.</param>
    /// <returns>The index.</returns>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++)
            if (row[j] > row[best])
                best = j;
        return best;
    }

}
