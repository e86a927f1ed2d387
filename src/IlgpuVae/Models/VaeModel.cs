using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Checkpoints;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Data;
using IlgpuVae.Layers;
using IlgpuVae.Training;

namespace IlgpuVae.Models;

/// <summary>
/// A trained (conditional) VAE for embedding in an application: encode, decode, reconstruct, sample, save and
/// load. Inputs and outputs are host arrays of row-major float rows (pixels in [0, 1]); work runs on the device
/// in batches of the capacity given to <see cref="Create"/> or <see cref="Load"/>.
/// </summary>
/// <remarks>
/// Safe to share between threads: every call holds the device's lock (see <see cref="Model"/>). After
/// <see cref="Model.Dispose"/> every member throws <see cref="ObjectDisposedException"/>.
/// </remarks>
public sealed partial class VaeModel : Model
{
    // The trainer's model shares its network (ownsNetwork: false); a created or loaded one owns it.
    internal VaeModel(VaeNetwork network, bool ownsNetwork = true)
        : base(network, network.Graph, ownsNetwork) => Network = network;

    internal VaeNetwork Network { get; }

    /// <summary>The architecture: input size, hidden widths, Z, and for a CVAE the classes and where the label enters.</summary>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public VaeConfig Config
    {
        get
        {
            ThrowIfDisposed();
            return Network.Config;
        }
    }

    /// <summary>
    /// The layers in the order a forward pass runs them, read off the network the model runs: the encoder up to the
    /// one <see cref="ModelLayerKind.GaussianSample"/>, the decoder after it. With <see cref="Model.Tensors"/> (by the
    /// names each layer lists) they are everything an exporter to another format needs (IlgpuVae.Onnx builds its
    /// graphs from them).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public IReadOnlyList<ModelLayer> Layers
    {
        get
        {
            ThrowIfDisposed();
            return [.. Graph.Layers.Select(ModelLayer.Of)];
        }
    }

    /// <summary>
    /// A fresh, untrained model on <paramref name="device"/>, initialised as PyTorch's nn.Linear is (uniform in
    /// +-1/sqrt(fan-in)) from <paramref name="seed"/>; the same seed gives the same weights on every device.
    /// </summary>
    /// <param name="device">Where the model's buffers live and its work runs (see <see cref="ComputeDevice.Open"/>).</param>
    /// <param name="config">The architecture; checked first (<see cref="ArgumentException"/>).</param>
    /// <param name="seed">Seed of the initial weights.</param>
    /// <param name="capacity">Images per device batch: larger batches use more device memory and fewer launches.</param>
    /// <returns>A model that owns its buffers; dispose it.</returns>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    public static VaeModel Create(ComputeDevice device, VaeConfig config, int seed = 1, int capacity = 500)
    {
        ArgumentNullException.ThrowIfNull(device);
        device.ThrowIfDisposed();
        lock (device.Gate)
            return new(new VaeNetwork(device, config, capacity, seed));
    }

    /// <summary>
    /// Reads a model.safetensors written by <see cref="Model.Save"/> (or by PyTorch with the same names, shapes and
    /// metadata). The metadata alone rebuilds the architecture; every tensor must be present, of its exact shape, and
    /// finite.
    /// </summary>
    /// <param name="device">Where to put the model.</param>
    /// <param name="path">The .safetensors file.</param>
    /// <param name="capacity">Images per device batch.</param>
    /// <returns>The loaded model; dispose it.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid VAE checkpoint; the message is one line and names the fault.</exception>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    public static VaeModel Load(ComputeDevice device, string path, int capacity = 500)
    {
        ArgumentNullException.ThrowIfNull(device);
        device.ThrowIfDisposed();
        lock (device.Gate)
        {
            var loaded = ModelFile.Load(path, "model", file =>
                {
                    var config = VaeConfig.FromMetadata(file.Metadata, path);
                    // The file's tensors against its metadata before the network takes any device memory.
                    VaeNetwork.LayoutOf(config).CheckTensors(file, "", path, $"a {config} model");
                    return new VaeNetwork(device, config, capacity, seed: 0);
                },
                (network, file) => network.ImportParameters(file, path), out var metadata);
            return new(loaded) { Metadata = metadata, SourcePath = path };
        }
    }

    /// <inheritdoc />
    private protected override Dictionary<string, string> ConfigMetadata() => Config.ToMetadata();

    /// <summary>The metadata key that marks a model trained on dynamically binarised images.</summary>
    internal const string BinarizationKey = "binarization";

    /// <summary>
    /// Whether the model was trained on dynamically binarised images (its file says "binarization": "dynamic"): its
    /// likelihood is then a normalised Bernoulli one, and evaluation binarises the test set by
    /// <see cref="Data.ImageSet.TestBinarizationSeed"/>.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public bool TrainedOnBinaryImages => Metadata.TryGetValue(BinarizationKey, out var value) && value == "dynamic";

    /// <summary>
    /// The images as the model was trained to see them: for a model of binary images, <paramref name="images"/>
    /// binarised by <see cref="Data.ImageSet.TestBinarizationSeed"/> (the test set it is evaluated on); otherwise
    /// <paramref name="images"/> themselves.
    /// </summary>
    /// <param name="images">Grey-level images.</param>
    /// <returns>The images to evaluate, reconstruct or draw with this model.</returns>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public Data.ImageSet ImagesAsTrained(Data.ImageSet images) => TrainedOnBinaryImages ? images.Binarized() : images;

    private protected override int LabelClasses => Config.Classes;

    private protected override bool ReadsVectors => Config.IsVectors;

    /// <summary>Encodes images into the posterior's mean and log-variance.</summary>
    /// <param name="images">count rows of D pixels in [0, 1].</param>
    /// <param name="labels">count labels for a conditional model, else null.</param>
    /// <returns>mu and logvar, each count rows of Z.</returns>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public (float[] Mu, float[] LogVar) Encode(ReadOnlySpan<float> images, ReadOnlySpan<int> labels = default)
    {
        using var held = Use();
        int count = Rows(images, labels);
        float[]? standardized = Config.IsVectors ? Config.Standardize(images) : null;
        if (standardized is not null)
            images = standardized;
        int z = Config.Latent;
        var mu = new float[count * z];
        var logvar = new float[count * z];
        var stats = new float[Network.Capacity * 2 * z];
        for (int start = 0; start < count; start += Network.Capacity)
        {
            int rows = Math.Min(Network.Capacity, count - start);
            RunForward(images, labels, start, rows, NoiseSource.Zero);
            Network.PosteriorStats.SubView(0, (long)rows * 2 * z).CopyToCPU(stats.AsSpan(0, rows * 2 * z));
            for (int r = 0; r < rows; r++)
            {
                stats.AsSpan(r * 2 * z, z).CopyTo(mu.AsSpan((start + r) * z, z));
                stats.AsSpan(r * 2 * z + z, z).CopyTo(logvar.AsSpan((start + r) * z, z));
            }
        }
        CheckFinite(mu, z, "latent means");
        CheckFinite(logvar, z, "latent log-variances");
        return (mu, logvar);
    }

    /// <summary>Decodes a batch of latent codes into pixel probabilities (the Bernoulli means), in device batches.</summary>
    /// <example>
    /// Decode the midpoint of two images' codes:
    /// <code>
    /// float[] means = model.LatentMeans(twoImages);                 // 2 x Z
    /// int z = model.Config.Latent;
    /// var middle = new float[z];
    /// for (int i = 0; i &lt; z; i++) middle[i] = (means[i] + means[z + i]) / 2;
    /// ImageBatch image = model.Decode(middle);                      // 1 image of 1 x 28 x 28 pixel probabilities
    /// </code>
    /// </example>
    /// <param name="latents">count rows of Z.</param>
    /// <param name="labels">count labels for a conditional model, else empty.</param>
    /// <returns>count images of the model's C x H x W (D values each): the decoder distribution's means (in [0, 1] for
    /// the Bernoulli and continuous Bernoulli decoders; a Gaussian's, unclipped).</returns>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public ImageBatch Decode(ReadOnlySpan<float> latents, ReadOnlySpan<int> labels = default) => Decode(latents, labels, default);

    /// <inheritdoc cref="Decode(ReadOnlySpan{float}, ReadOnlySpan{int})"/>
    /// <param name="latents">count rows of Z.</param>
    /// <param name="labels">count labels for a conditional model, else empty.</param>
    /// <param name="cancellationToken">Checked before each device batch.</param>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The images would not fit in memory.</exception>
    public ImageBatch Decode(ReadOnlySpan<float> latents, ReadOnlySpan<int> labels, CancellationToken cancellationToken)
    {
        using var held = Use();
        int z = Config.Latent, d = Config.InputSize;
        if (latents.Length % z != 0)
            throw new ArgumentException($"{latents.Length} values are not whole rows of Z = {z}", nameof(latents));
        int count = latents.Length / z;
        CheckLabels(labels, count);
        CheckHostMemory((double)count * d, $"{count:N0} images of {d:N0} values");
        var output = new float[(long)count * d];
        for (int start = 0; start < count; start += Network.Capacity)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int rows = Math.Min(Network.Capacity, count - start);
            Network.LatentSample.SubView(0, (long)rows * z).CopyFromCPU(latents.Slice(start * z, rows * z));
            UploadLabels(labels, start, rows);
            Network.DecodeLogits(rows);
            Network.ToMeans(rows);
            var logits = Network.Logits.SubView(0, (long)rows * d);
            Network.Device.Ops.Synchronize();
            logits.CopyToCPU(output.AsSpan(start * d, rows * d));
        }
        CheckFinite(output, d, "decoded pixels");
        // A model of vectors decodes standardised values: back to the data's units.
        if (Config.InputMean is { } mean && Config.InputStd is { } std)
            for (long i = 0; i < output.Length; i++)
                output[i] = output[i] * std[(int)(i % d)] + mean[(int)(i % d)];
        return Config.Batch(output);
    }

    /// <summary>Reconstructs images through the posterior mean (z = mu).</summary>
    /// <param name="images">count rows of D pixels.</param>
    /// <param name="labels">count labels for a conditional model, else empty.</param>
    /// <returns>count reconstructed images of C x H x W pixel probabilities.</returns>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public ImageBatch Reconstruct(ReadOnlySpan<float> images, ReadOnlySpan<int> labels = default)
    {
        using var held = Use();
        var (mu, _) = Encode(images, labels);
        return Decode(mu, labels);
    }

    /// <summary>
    /// Draws images from the prior: z ~ N(0, I), decoded to pixel probabilities (with two stochastic layers,
    /// z2 ~ N(0, I), then z1 ~ p(z1|z2), decoded). The same seed gives the same codes on every device, and the same
    /// images up to the device's rounding.
    /// </summary>
    /// <example>
    /// <code>
    /// ImageBatch digits = model.Sample(count: 16, seed: 7);         // 16 images of 1 x 28 x 28, the same 16 every time
    /// ReadOnlySpan&lt;float&gt; first = digits.Image(0);                  // digits.Height x digits.Width pixel probabilities
    /// </code>
    /// </example>
    /// <param name="count">How many.</param>
    /// <param name="seed">The noise seed.</param>
    /// <param name="labels">For a conditional model, the requested digit of each image (count of them).</param>
    /// <returns>count images of C x H x W.</returns>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public ImageBatch Sample(int count, int seed, ReadOnlySpan<int> labels = default) => Sample(count, seed, labels, default);

    /// <inheritdoc cref="Sample(int, int, ReadOnlySpan{int})"/>
    /// <param name="count">How many.</param>
    /// <param name="seed">The noise seed.</param>
    /// <param name="labels">For a conditional model, the requested digit of each image (count of them).</param>
    /// <param name="cancellationToken">Checked before each device batch.</param>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ArgumentOutOfRangeException">count is not positive, or the images would not fit in memory.</exception>
    public ImageBatch Sample(int count, int seed, ReadOnlySpan<int> labels, CancellationToken cancellationToken)
    {
        using var held = Use();
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        // The codes and the images are held at once: both are checked before either is drawn.
        CheckHostMemory((double)count * (Config.Latent + Config.InputSize), $"{count:N0} samples of {Config.InputSize:N0} values");
        if (Config.IsTwoLayer)
            return Config.Batch(SampleTwoLayers(count, seed, cancellationToken));
        return Decode(PriorSamples(count, seed), labels, cancellationToken);
    }

    // Ancestral samples of a two-stochastic-layer model, on the device: z2 ~ N(0, I), z1 ~ p(z1|z2), x's means given z1.
    // Batch b draws from the (seed, 2 b) and (seed, 2 b + 1) streams.
    private float[] SampleTwoLayers(int count, int seed, CancellationToken cancellationToken)
    {
        int d = Config.InputSize;
        var output = new float[(long)count * d];
        for (int start = 0, batch = 0; start < count; start += Network.Capacity, batch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int rows = Math.Min(Network.Capacity, count - start);
            Network.PriorCodes(rows, (ulong)seed, 2UL * (ulong)batch);
            Network.DecodeLogits(rows);
            Network.ToMeans(rows);
            Network.Device.Ops.Synchronize();
            Network.Logits.SubView(0, (long)rows * d).CopyToCPU(output.AsSpan(start * d, rows * d));
        }
        CheckFinite(output, d, "sampled pixels");
        if (Config.InputMean is { } mean && Config.InputStd is { } std)
            for (long i = 0; i < output.Length; i++)
                output[i] = output[i] * std[(int)(i % d)] + mean[(int)(i % d)];
        return output;
    }

    /// <summary>
    /// A conditional model's samples of one class. Named apart from <see cref="Sample(int, int, ReadOnlySpan{int})"/>:
    /// as an overload, <c>Sample(16, 7, 1)</c> could mean either.
    /// </summary>
    /// <param name="label">The class.</param>
    /// <param name="count">How many.</param>
    /// <param name="seed">The noise seed.</param>
    /// <returns>count images of C x H x W.</returns>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    /// <exception cref="ArgumentException">The model is not conditional, or the label is outside its classes.</exception>
    public ImageBatch SampleClass(int label, int count, int seed)
    {
        ThrowIfDisposed();
        if (!Config.IsConditional)
            throw new ArgumentException($"class {label} asked of an unconditional VAE", nameof(label));
        if (label < 0 || label >= Config.Classes)
            throw new ArgumentOutOfRangeException(nameof(label), $"label {label} is outside 0-{Config.Classes - 1}");
        var labels = Enumerable.Repeat(label, count).ToArray();
        return Sample(count, seed, labels);
    }

    /// <summary>count rows of Z standard-normal numbers from the (seed, 0) stream, as on the device.</summary>
    /// <param name="count">Rows.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The codes.</returns>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public float[] PriorSamples(int count, int seed)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        CheckHostMemory((double)count * Config.Latent, $"{count:N0} codes of {Config.Latent} values");
        var z = new float[(long)count * Config.Latent];
        ulong key = RandomKernels.StreamKey((ulong)seed, 0);
        for (int p = 0; 2 * p < z.Length; p++)
        {
            HostRandom.NormalPair(key, (ulong)p, out float a, out float b);
            z[2 * p] = a;
            if (2 * p + 1 < z.Length)
                z[2 * p + 1] = b;
        }
        return z;
    }

    /// <summary>The posterior mean of each image: a point per image in the latent space, for search, clustering or plots.</summary>
    /// <example>
    /// <code>
    /// float[] means = model.LatentMeans(images);                    // count x Z, row i is image i's code
    /// int z = model.Config.Latent;
    /// ReadOnlySpan&lt;float&gt; first = means.AsSpan(0, z);
    /// </code>
    /// </example>
    /// <param name="images">count rows of D pixels in [0, 1].</param>
    /// <param name="labels">count labels for a conditional model, else empty.</param>
    /// <returns>count rows of Z.</returns>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public float[] LatentMeans(ReadOnlySpan<float> images, ReadOnlySpan<int> labels = default) => Encode(images, labels).Mu;

    /// <summary>
    /// Scores each image by how badly the model explains it: the negative log-likelihood of its reconstruction under the
    /// decoder (the summed binary cross-entropy for the Bernoulli; the images as given, not dequantised) and the KL of
    /// its posterior from the prior, whose sum is the negative ELBO. Images unlike the training data
    /// score high, so <see cref="ImageScores.Loss"/> (or <see cref="ImageScores.Reconstruction"/> alone) is an anomaly
    /// score. Without a seed the code is the posterior mean (z = mu) and the scores are deterministic; with one, z is
    /// one posterior sample, as in training.
    /// </summary>
    /// <example>
    /// Flag the images that score worse than 99% of the test set:
    /// <code>
    /// float[] reference = model.Score(testImages).Loss;
    /// float threshold = reference.Order().ElementAt(reference.Length * 99 / 100);
    /// ImageScores scores = model.Score(incoming);
    /// var anomalies = Enumerable.Range(0, scores.Count).Where(i => scores.Loss[i] > threshold);
    /// </code>
    /// </example>
    /// <param name="images">count rows of D pixels in [0, 1].</param>
    /// <param name="labels">count labels for a conditional model, else empty.</param>
    /// <param name="seed">Null for z = mu; else the posterior noise seed (batch b draws the stream (seed, b)).</param>
    /// <returns>Per image: reconstruction error (nats), KL (nats) and their sum.</returns>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public ImageScores Score(ReadOnlySpan<float> images, ReadOnlySpan<int> labels = default, int? seed = null)
    {
        using var held = Use();
        int count = Rows(images, labels);
        float[]? standardized = Config.IsVectors ? Config.Standardize(images) : null;
        if (standardized is not null)
            images = standardized;
        var reconstruction = new float[count];
        var kl = new float[count];
        int batch = 0;
        for (int start = 0; start < count; start += Network.Capacity, batch++)
        {
            int rows = Math.Min(Network.Capacity, count - start);
            RunForward(images, labels, start, rows, seed is null ? NoiseSource.Zero : NoiseSource.Draw, (ulong)(seed ?? 0), (ulong)batch);
            Network.Device.Ops.Synchronize();
            Network.Reconstruction.SubView(0, rows).CopyToCPU(reconstruction.AsSpan(start, rows));
            Network.Kl.SubView(0, rows).CopyToCPU(kl.AsSpan(start, rows));
        }
        CheckFinite(reconstruction, 1, "reconstruction errors");
        CheckFinite(kl, 1, "KL divergences");
        return new ImageScores(reconstruction, kl);
    }

    // Uploads rows start .. start + rows - 1 (and their labels) and runs the forward with the loss at beta 1.
    private void RunForward(ReadOnlySpan<float> images, ReadOnlySpan<int> labels, int start, int rows, NoiseSource noise,
        ulong seed = 0, ulong step = 0)
    {
        int d = Config.InputSize;
        Network.Input.SubView(0, (long)rows * d).CopyFromCPU(images.Slice(start * d, rows * d));
        UploadLabels(labels, start, rows);
        Network.Forward(rows, seed, step, 1f, noise);
    }

    private void UploadLabels(ReadOnlySpan<int> labels, int start, int rows)
    {
        if (Config.IsConditional)
            Network.Labels.SubView(0, rows).CopyFromCPU(labels.Slice(start, rows));
    }

    private int Rows(ReadOnlySpan<float> images, ReadOnlySpan<int> labels)
    {
        int d = Config.InputSize;
        if (images.Length % d != 0)
            throw new ArgumentException($"{images.Length} values are not whole images of D = {d}", nameof(images));
        int count = images.Length / d;
        CheckLabels(labels, count);
        // A model of vectors takes any finite values, in the data's units (standardised here with the training set's
        // column means and standard deviations).
        if (Config.IsVectors)
        {
            for (int i = 0; i < images.Length; i++)
                if (!float.IsFinite(images[i]))
                    throw new ArgumentException($"value {i % d} of row {i / d} is {images[i]}; rows must be finite", nameof(images));
            return count;
        }
        // The likelihood is of values in [0, 1]: a pixel of 2 (or 255, or NaN) would give a number, not an error.
        for (int i = 0; i < images.Length; i++)
            if (!(images[i] >= 0f && images[i] <= 1f))
                throw new ArgumentException($"value {i % d} of image {i / d} is {images[i]}; images are values in [0, 1]", nameof(images));
        return count;
    }

    private void CheckLabels(ReadOnlySpan<int> labels, int count)
    {
        if (!Config.IsConditional)
        {
            if (labels.Length != 0)
                throw new ArgumentException("labels given to an unconditional VAE", nameof(labels));
            return;
        }
        if (labels.Length != count)
            throw new ArgumentException($"a conditional model needs one label per row: {labels.Length} labels for {count} rows", nameof(labels));
        foreach (int label in labels)
            if ((uint)label >= (uint)Config.Classes)
                throw new ArgumentOutOfRangeException(nameof(labels), $"label {label} is outside 0-{Config.Classes - 1}");
    }
}
