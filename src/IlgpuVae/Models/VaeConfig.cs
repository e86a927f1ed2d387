using System.Globalization;

namespace IlgpuVae.Models;

/// <summary>The activation of every hidden layer (the output and the posterior heads have none).</summary>
public enum HiddenActivation
{
    /// <summary>max(x, 0): pytorch/examples' VAE.</summary>
    Relu,
    /// <summary>tanh(x): Burda et al.'s (2016) models.</summary>
    Tanh,
}

/// <summary>What the encoder meets first and the decoder ends with.</summary>
public enum VaeArchitecture
{
    /// <summary>Dense layers only: pytorch/examples' VAE.</summary>
    Dense,
    /// <summary>
    /// Stride-2 convolutions (kernel 4, padding 1: each halves the image) before the dense layers, and transposed
    /// convolutions after them in the decoder, mirrored.
    /// </summary>
    Convolutional,
}

/// <summary>
/// The architecture of a (conditional) VAE: D inputs, encoder hidden layers, latent size Z, decoder hidden
/// layers (the encoder's, reversed), C classes for conditioning (0 for a plain VAE), and which decoder layers
/// read the label (<see cref="ConditionEveryLayer"/>). The encoder's first layer reads [x | one-hot] in a conditional model.
/// A convolutional model (<see cref="Convolutional"/>) puts <see cref="Channels"/> stride-2 convolutions of the
/// ImageHeight x ImageWidth image before the dense layers <see cref="Hidden"/> and mirrors them with transposed
/// convolutions after the decoder's dense layers; a conditional one reads the label in its dense layers only.
/// </summary>
/// <param name="InputSize">D, 784 for MNIST.</param>
/// <param name="Hidden">Encoder hidden widths from the input side, e.g. [400] or [512, 256].</param>
/// <param name="Latent">Z.</param>
/// <param name="Classes">C: 0 for a VAE, 10 for a CVAE on digits.</param>
public sealed record VaeConfig(int InputSize, IReadOnlyList<int> Hidden, int Latent, int Classes = 0)
{
    /// <summary>
    /// For a conditional model, whether every decoder layer, the output layer included, reads the one-hot label
    /// ([its usual input | one-hot]); false (the default, the common PyTorch recipe): only the first, [z | one-hot].
    /// Spelt "every-layer" or "first-layer" in metadata, config.json and <c>train --conditioning</c>.
    /// </summary>
    public bool ConditionEveryLayer { get; init; }

    /// <summary>pytorch/examples' VAE: 784-400-20.</summary>
    public static VaeConfig Default => new(784, [400], 20);

    /// <summary>
    /// Burda, Grosse and Salakhutdinov's (2016) one-stochastic-layer model: 784-200-200-50 with tanh hidden layers,
    /// mirrored by the decoder (Table 1's "1 stochastic layer" rows).
    /// </summary>
    public static VaeConfig Burda => new(784, [200, 200], 50) { Activation = HiddenActivation.Tanh };

    /// <summary>
    /// Burda, Grosse and Salakhutdinov's (2016) two-stochastic-layer model (Table 1's "2 stochastic layers" rows), with
    /// the widths of the authors' code (yburda/iwae, experiments.py; nbip/IWAE's reproduction uses the same):
    /// x -> two tanh layers of 200 -> Gaussian z1 of 100 -> two tanh layers of 100 -> Gaussian z2 of 50; the generative
    /// side mirrors it: z2 -> two tanh layers of 100 -> Gaussian p(z1|z2) -> two tanh layers of 200 -> Bernoulli p(x|z1).
    /// </summary>
    public static VaeConfig Burda2 => new(784, [200, 200], 100) { Activation = HiddenActivation.Tanh, Hidden2 = [100, 100], Latent2 = 50 };

    /// <summary>
    /// The hidden widths between the first and the second stochastic layer, from the z1 side (q(z2|z1)'s MLP; p(z1|z2)'s
    /// is the same, reversed). Empty for a model with one stochastic layer.
    /// </summary>
    public IReadOnlyList<int> Hidden2 { get; init; } = [];

    /// <summary>Z2, the second stochastic layer's size; 0 (the default) for a model with one stochastic layer.</summary>
    public int Latent2 { get; init; }

    /// <summary>True for a model with two stochastic layers (z1 of <see cref="Latent"/>, z2 of <see cref="Latent2"/>).</summary>
    public bool IsTwoLayer => Latent2 > 0;

    /// <summary>The hidden layers' activation.</summary>
    public HiddenActivation Activation { get; init; } = HiddenActivation.Relu;

    /// <summary>The decoder's distribution; checkpoints that do not record one mean <see cref="DecoderLikelihood.Bernoulli"/>.</summary>
    public DecoderLikelihood Likelihood { get; init; } = DecoderLikelihood.Bernoulli;

    /// <summary>
    /// A Gaussian decoder's fixed standard deviation (on data scaled to [0, 1]), or null for a log-variance learned
    /// per dimension. Only a Gaussian decoder has one.
    /// </summary>
    public float? Sigma { get; init; }

    /// <summary>
    /// The negative log-likelihood <paramref name="nats"/> per item in bits per dimension: <c>nats / (D ln 2)</c>, plus 8
    /// for a Gaussian decoder, whose density is over 8-bit data dequantised and scaled to [0, 1] (a density on
    /// [0, 256) is 256^-D times it), so that the figure compares with published bits per dimension; for a model of vectors, none (its density is of the standardised rows).
    /// </summary>
    /// <param name="nats">-log p(x) per item, in nats.</param>
    /// <returns>Bits per dimension.</returns>
    public double BitsPerDimension(double nats) =>
        nats / (InputSize * Math.Log(2)) + (Likelihood == DecoderLikelihood.Gaussian && !IsVectors ? 8 : 0);

    private readonly int _imageHeight, _imageWidth;

    /// <summary>
    /// For a model of real-valued vectors (<see cref="ForVectors"/>): the training set's mean of each of the D columns,
    /// subtracted from every row before it reaches the encoder (by training, evaluation, scores and every call that takes
    /// rows), and stored in the model file ("input_mean"). Null for images.
    /// </summary>
    public IReadOnlyList<float>? InputMean { get; init; }

    /// <summary>
    /// For a model of real-valued vectors: the training set's standard deviation of each column (population, ddof 0),
    /// by which every row is divided after <see cref="InputMean"/> is subtracted ("input_std"). Null for images.
    /// </summary>
    public IReadOnlyList<float>? InputStd { get; init; }

    /// <summary>Whether the model is one of real-valued, standardised vectors rather than of images.</summary>
    internal bool IsVectors => InputMean is not null;

    /// <summary>
    /// This configuration for the real-valued vectors of <paramref name="train"/> (a CSV file's or an N x D .npy array's
    /// rows): the input size becomes D, the image shape 1 x D, and each column's mean and standard deviation over the set
    /// become <see cref="InputMean"/> and <see cref="InputStd"/>. Such a model needs a Gaussian decoder.
    /// </summary>
    /// <param name="train">The training set, a set of vectors.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ArgumentException">The set holds images, or a column is constant.</exception>
    public VaeConfig ForVectors(Data.ImageSet train)
    {
        ArgumentNullException.ThrowIfNull(train);
        var rows = train.Vectors ?? throw new ArgumentException("the set holds images, not vectors", nameof(train));
        int d = train.PixelsPerImage, n = train.Count;
        var mean = new double[d];
        var sq = new double[d];
        for (int r = 0; r < n; r++)
            for (int f = 0; f < d; f++)
                mean[f] += rows[r * d + f];
        for (int f = 0; f < d; f++)
            mean[f] /= n;
        for (int r = 0; r < n; r++)
            for (int f = 0; f < d; f++)
            {
                double e = rows[r * d + f] - mean[f];
                sq[f] += e * e;
            }
        var std = new float[d];
        for (int f = 0; f < d; f++)
        {
            std[f] = (float)Math.Sqrt(sq[f] / n);
            if (!(std[f] > 0) || !float.IsFinite(1f / std[f]))
                throw new ArgumentException($"column {f + 1} is constant over the {n} training rows; drop it", nameof(train));
        }
        return this with
        {
            InputSize = d,
            ImageHeight = 1,
            ImageWidth = d,
            ImageChannels = 1,
            InputMean = mean.Select(m => (float)m).ToArray(),
            InputStd = std,
        };
    }

    /// <summary>Standardised copy of rows of D values: (x - mean) / std per column; the values as they are for images.</summary>
    internal float[] Standardize(ReadOnlySpan<float> rows)
    {
        var result = rows.ToArray();
        if (InputMean is not { } mean || InputStd is not { } std)
            return result;
        int d = InputSize;
        for (int i = 0; i < result.Length; i++)
            result[i] = (result[i] - mean[i % d]) / std[i % d];
        return result;
    }

    /// <summary>
    /// The image's colour channels C: 1 (grey) or 3 (RGB). A row of the input is one image laid out C x H x W (NCHW), so
    /// <see cref="InputSize"/> D = C x H x W; the Bernoulli likelihood applies to every channel value. Checkpoints without
    /// "image_channels" mean 1. Not to be confused with <see cref="Channels"/>, the convolutions' widths.
    /// </summary>
    public int ImageChannels { get; init; } = 1;

    /// <summary>
    /// The image height H, with <see cref="ImageWidth"/> and <see cref="ImageChannels"/> C x H x W = D: what pictures, the manifold and IDX export lay the
    /// D outputs out as. Unset, it is the side of a square image of D pixels (28 for MNIST's 784), which is what
    /// checkpoints written before the size was recorded mean; a D that is not square is then one row of D pixels.
    /// </summary>
    public int ImageHeight
    {
        get => _imageHeight > 0 ? _imageHeight : ImpliedShape(InputSize / Math.Max(ImageChannels, 1)).Height;
        init => _imageHeight = value;
    }

    /// <summary>The image width W; see <see cref="ImageHeight"/>.</summary>
    public int ImageWidth
    {
        get => _imageWidth > 0 ? _imageWidth : ImpliedShape(InputSize / Math.Max(ImageChannels, 1)).Width;
        init => _imageWidth = value;
    }

    /// <summary>Whether the image size was given rather than implied by the input size.</summary>
    internal bool HasImageSize => _imageHeight > 0 && _imageWidth > 0;

    /// <summary>Rows of <see cref="InputSize"/> values this model made, shaped as its images (C x H x W; 1 x 1 x D for
    /// vectors, or for a shape that does not multiply to D).</summary>
    /// <param name="values">count x D values.</param>
    /// <returns>The batch, over <paramref name="values"/> itself.</returns>
    internal Data.ImageBatch Batch(float[] values)
    {
        int c = ImageChannels, h = ImageHeight, w = ImageWidth, d = InputSize;
        return (long)c * h * w == d
            ? new Data.ImageBatch(values, values.Length / d, c, h, w)
            : new Data.ImageBatch(values, values.Length / d, 1, 1, d);
    }

    /// <summary>This configuration for images of <paramref name="channels"/> x <paramref name="height"/> x
    /// <paramref name="width"/> values: the input size becomes their product and the image shape is recorded.</summary>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="channels">C, 1 (grey) or 3 (RGB).</param>
    /// <returns>The configuration.</returns>
    public VaeConfig ForImages(int height, int width, int channels = 1) =>
        this with { InputSize = channels * height * width, ImageHeight = height, ImageWidth = width, ImageChannels = channels };

    private static (int Height, int Width) ImpliedShape(int pixels)
    {
        int side = (int)Math.Round(Math.Sqrt(Math.Max(pixels, 0)));
        return side > 0 && side * side == pixels ? (side, side) : (1, pixels);
    }

    /// <summary>The convolutions' kernel size.</summary>
    public const int ConvKernel = 4;

    /// <summary>The convolutions' stride: each halves the image.</summary>
    public const int ConvStride = 2;

    /// <summary>The convolutions' zero padding.</summary>
    public const int ConvPadding = 1;

    /// <summary>
    /// How far a <see cref="DecoderLikelihood.ContinuousBernoulli"/> decoder's logits are clipped (either sign) before
    /// its mean and density are computed, as PyTorch's clamp_probs keeps lambda = sigmoid(logit) within 2^-23 of 0 and 1:
    /// an exporter that computes the mean from the logits clips them here too.
    /// </summary>
    public const float ContinuousBernoulliLogitLimit = Kernels.DecoderKernels.LogitLimit;

    /// <summary>
    /// The convolutional VAE of issue 14 (and of the TorchSharp peer's --conv): 1x28x28 -> conv 32 -> conv 64 ->
    /// dense 400 -> Z, mirrored; 2,603,465 parameters with the defaults.
    /// </summary>
    /// <param name="latent">Z.</param>
    /// <param name="channels">The convolutions' output channels from the input side.</param>
    /// <param name="dense">The dense widths after the convolutions.</param>
    /// <param name="classes">C for a conditional model (the label enters the dense layers), else 0.</param>
    /// <param name="height">The image's rows.</param>
    /// <param name="width">The image's columns.</param>
    /// <param name="imageChannels">The image's colour channels C (1 or 3): the first convolution's input and the last
    /// transposed convolution's output.</param>
    /// <returns>The configuration.</returns>
    public static VaeConfig Convolutional(int latent = 20, IReadOnlyList<int>? channels = null, IReadOnlyList<int>? dense = null,
        int classes = 0, int height = 28, int width = 28, int imageChannels = 1) =>
        new(imageChannels * height * width, dense ?? [400], latent, classes)
        {
            Architecture = VaeArchitecture.Convolutional,
            Channels = channels ?? [32, 64],
            ImageHeight = height,
            ImageWidth = width,
            ImageChannels = imageChannels,
        };

    /// <summary>Dense, or convolutions first.</summary>
    public VaeArchitecture Architecture { get; init; } = VaeArchitecture.Dense;

    /// <summary>A convolutional model's channel widths from the input side, e.g. [32, 64]; empty for a dense one.</summary>
    public IReadOnlyList<int> Channels { get; init; } = [];

    /// <summary>True for a convolutional model.</summary>
    public bool IsConvolutional => Architecture == VaeArchitecture.Convolutional;

    /// <summary>The image size after every convolution: (channels, rows, columns) of the last one's output.</summary>
    public (int Channels, int Height, int Width) ConvOutput
    {
        get
        {
            int height = ImageHeight, width = ImageWidth;
            foreach (var _ in Channels)
            {
                height = (height + 2 * ConvPadding - ConvKernel) / ConvStride + 1;
                width = (width + 2 * ConvPadding - ConvKernel) / ConvStride + 1;
            }
            return (Channels.Count > 0 ? Channels[^1] : ImageChannels, height, width);
        }
    }

    /// <summary>True for a conditional VAE.</summary>
    public bool IsConditional => Classes > 0;

    /// <summary>The decoder's hidden widths from the latent side (the encoder's, reversed).</summary>
    public IReadOnlyList<int> DecoderHidden => Hidden.Reverse().ToArray();

    /// <summary>True when the decoder layer at <paramref name="index"/> (0 = the first, <c>DecoderHidden.Count</c> =
    /// the output layer) takes the one-hot label after its usual input.</summary>
    /// <param name="index">The decoder layer.</param>
    /// <returns>Whether it reads the label.</returns>
    public bool DecoderLayerReadsLabel(int index) =>
        IsConditional && (index == 0 || ConditionEveryLayer);

    /// <summary>The model kind as written in metadata and configs: "vae", "cvae", "conv-vae" or "conv-cvae".</summary>
    public string Kind => (IsConvolutional ? "conv-" : "") + (IsConditional ? "cvae" : "vae");

    /// <summary>
    /// Value equality: the same architecture, widths, sizes and activation. A record's generated equality would compare
    /// <see cref="Hidden"/> and <see cref="Channels"/> by reference, so that <c>VaeConfig.Default == VaeConfig.Default</c>
    /// was false (and two equal <see cref="Training.TrainingOptions"/> with it). The image size compares as it reads: an
    /// unset 28 x 28 equals a set one. A new property must be added here and to <see cref="GetHashCode"/>.
    /// </summary>
    /// <param name="other">The other config.</param>
    /// <returns>Whether they describe the same model.</returns>
    public bool Equals(VaeConfig? other) => other is not null && (ReferenceEquals(this, other) ||
        (InputSize == other.InputSize && Hidden.SequenceEqual(other.Hidden) && Latent == other.Latent && Classes == other.Classes
         && ConditionEveryLayer == other.ConditionEveryLayer && Activation == other.Activation && Architecture == other.Architecture
         && Channels.SequenceEqual(other.Channels) && ImageHeight == other.ImageHeight && ImageWidth == other.ImageWidth
         && ImageChannels == other.ImageChannels && Likelihood == other.Likelihood && Sigma == other.Sigma
         && SameValues(InputMean, other.InputMean) && SameValues(InputStd, other.InputStd)
         && Hidden2.SequenceEqual(other.Hidden2) && Latent2 == other.Latent2));

    private static bool SameValues(IReadOnlyList<float>? a, IReadOnlyList<float>? b) =>
        a is null ? b is null : b is not null && a.SequenceEqual(b);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(InputSize);
        foreach (int width in Hidden)
            hash.Add(width);
        hash.Add(Latent);
        hash.Add(Classes);
        hash.Add(ConditionEveryLayer);
        hash.Add(Activation);
        hash.Add(Architecture);
        foreach (int channels in Channels)
            hash.Add(channels);
        hash.Add(ImageHeight);
        hash.Add(ImageWidth);
        hash.Add(ImageChannels);
        hash.Add(Likelihood);
        hash.Add(Sigma);
        hash.Add(InputMean?.Count ?? -1);
        foreach (int width in Hidden2)
            hash.Add(width);
        hash.Add(Latent2);
        return hash.ToHashCode();
    }

    /// <summary>Every <see cref="Kind"/> there is: what the "model" metadata and config.json's "model" may say.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["vae", "cvae", "conv-vae", "conv-cvae"];

    // "vae, cvae, conv-vae or conv-cvae", for messages.
    internal static string KindList => string.Join(", ", Kinds.Take(Kinds.Count - 1)) + " or " + Kinds[^1];

    /// <summary>The option spelling of <paramref name="likelihood"/>: "bernoulli", "continuous-bernoulli" or "gaussian".</summary>
    /// <param name="likelihood">The value.</param>
    /// <returns>The name.</returns>
    public static string LikelihoodName(DecoderLikelihood likelihood) => likelihood switch
    {
        DecoderLikelihood.Bernoulli => "bernoulli",
        DecoderLikelihood.ContinuousBernoulli => "continuous-bernoulli",
        DecoderLikelihood.Gaussian => "gaussian",
        _ => throw new ArgumentOutOfRangeException(nameof(likelihood)),
    };

    /// <summary>Reads <see cref="LikelihoodName"/>'s spelling back.</summary>
    /// <param name="name">"bernoulli", "continuous-bernoulli" or "gaussian".</param>
    /// <param name="likelihood">The value.</param>
    /// <returns>False for any other text.</returns>
    public static bool TryParseLikelihood(string name, out DecoderLikelihood likelihood) =>
        Spelling.TryParse(name, LikelihoodName, out likelihood);

    // The "likelihood" metadata: version 1's "bernoulli-logits" (written by every version, so Bernoulli files stay as
    // they were), and the others' option names.
    private static string LikelihoodMetadata(DecoderLikelihood likelihood) =>
        likelihood == DecoderLikelihood.Bernoulli ? "bernoulli-logits" : LikelihoodName(likelihood);

    /// <summary>Checks every size; throws <see cref="ArgumentException"/> with a one-line message.</summary>
    public void Validate()
    {
        if (InputSize <= 0)
            throw new ArgumentException($"input size must be positive, got {InputSize}");
        if (Hidden.Count == 0 || Hidden.Any(h => h <= 0))
            throw new ArgumentException($"hidden sizes must be positive, got [{string.Join(",", Hidden)}]");
        if (Latent <= 0)
            throw new ArgumentException($"latent size must be positive, got {Latent}");
        if (Classes < 0)
            throw new ArgumentException($"class count must not be negative, got {Classes}");
        if (!IsConditional && ConditionEveryLayer)
            throw new ArgumentException("conditioning every decoder layer needs a conditional model (classes > 0)");
        if (ImageChannels is not (1 or 3))
            throw new ArgumentException($"image channels must be 1 (grey) or 3 (RGB), got {ImageChannels}");
        if (_imageHeight < 0 || _imageWidth < 0 || (long)ImageChannels * ImageHeight * ImageWidth != InputSize)
            throw new ArgumentException(ImageChannels == 1
                ? $"images of {ImageHeight}x{ImageWidth} pixels do not make the input size {InputSize}"
                : $"images of {ImageChannels}x{ImageHeight}x{ImageWidth} values do not make the input size {InputSize}");
        // Layer widths are ints: [mu | logvar] is 2Z wide, a label adds C to a layer's input.
        if (2L * Latent > int.MaxValue)
            throw new ArgumentException($"latent size {Latent} is too large; at most {int.MaxValue / 2}");
        if ((long)Math.Max(InputSize, Math.Max(Latent, Hidden.Max())) + Classes > int.MaxValue)
            throw new ArgumentException($"layer widths plus {Classes} classes exceed {int.MaxValue}");
        if (!Enum.IsDefined(Architecture))
            throw new ArgumentException($"unknown architecture {(int)Architecture}");
        if (!Enum.IsDefined(Activation))
            throw new ArgumentException($"unknown activation {(int)Activation}");
        if (!Enum.IsDefined(Likelihood))
            throw new ArgumentException($"unknown likelihood {(int)Likelihood}");
        if (Sigma is float sigma && Likelihood != DecoderLikelihood.Gaussian)
            throw new ArgumentException($"a fixed sigma ({sigma.ToString(CultureInfo.InvariantCulture)}) belongs to a Gaussian decoder, not a {LikelihoodName(Likelihood)} one");
        if (Sigma is float s && !(float.IsFinite(s) && s > 0 && float.IsFinite(2 * MathF.Log(s))))
            throw new ArgumentException($"sigma must be a positive finite number, got {s.ToString(CultureInfo.InvariantCulture)}");
        if (InputMean is not null || InputStd is not null)
        {
            if (InputMean is null || InputStd is null || InputMean.Count != InputSize || InputStd.Count != InputSize)
                throw new ArgumentException($"a model of vectors needs a mean and a standard deviation for each of its {InputSize} columns");
            if (InputMean.Any(m => !float.IsFinite(m)) || InputStd.Any(v => !(float.IsFinite(v) && v > 0)))
                throw new ArgumentException("the columns' means must be finite and their standard deviations positive");
            if (Likelihood != DecoderLikelihood.Gaussian)
                throw new ArgumentException($"a {LikelihoodName(Likelihood)} decoder models values in [0, 1]; standardised vectors are unbounded: use the gaussian likelihood");
            if (IsConvolutional)
                throw new ArgumentException("a model of vectors is dense (an MLP); convolutions are for images");
        }
        if (Latent2 < 0 || Hidden2.Any(h => h <= 0))
            throw new ArgumentException($"the second stochastic layer's sizes must be positive, got [{string.Join(",", Hidden2)}] and {Latent2}");
        if (!IsTwoLayer && Hidden2.Count > 0)
            throw new ArgumentException("hidden widths between stochastic layers need a second stochastic layer (latent2)");
        if (IsTwoLayer && (IsConvolutional || IsConditional))
            throw new ArgumentException($"two stochastic layers are built for the dense, unconditional VAE, not a {Kind}");
        if (IsTwoLayer && ((long)Math.Max(Latent2, Hidden2.DefaultIfEmpty(0).Max()) > int.MaxValue / 2))
            throw new ArgumentException($"latent2 size {Latent2} is too large");
        if (!IsConvolutional)
        {
            if (Channels.Count > 0)
                throw new ArgumentException("channel widths belong to a convolutional model");
            return;
        }
        if (Channels.Count == 0 || Channels.Any(c => c <= 0))
            throw new ArgumentException($"channel widths must be positive, got [{string.Join(",", Channels)}]");
        int divisor = 1 << Math.Min(Channels.Count, 20);
        if (Channels.Count > 20 || ImageHeight % divisor != 0 || ImageWidth % divisor != 0)
            throw new ArgumentException($"{Channels.Count} stride-2 convolutions need image sides divisible by {divisor}, got {ImageHeight}x{ImageWidth}");
        var (channels, height, width) = ConvOutput;
        if ((long)channels * height * width > int.MaxValue / 2)
            throw new ArgumentException("the convolutions' output is too large");
    }

    /// <summary>The metadata, config.json and option spelling of <paramref name="activation"/>: "relu" or "tanh".</summary>
    /// <param name="activation">The value.</param>
    /// <returns>The name.</returns>
    public static string ActivationName(HiddenActivation activation) => activation switch
    {
        HiddenActivation.Relu => "relu",
        HiddenActivation.Tanh => "tanh",
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>Reads <see cref="ActivationName"/>'s spelling back.</summary>
    /// <param name="name">"relu" or "tanh".</param>
    /// <param name="activation">The value.</param>
    /// <returns>False for any other text.</returns>
    public static bool TryParseActivation(string name, out HiddenActivation activation) =>
        Spelling.TryParse(name, ActivationName, out activation);

    /// <summary>The metadata, config.json and option spelling of <see cref="ConditionEveryLayer"/>.</summary>
    /// <param name="everyLayer">The value.</param>
    /// <returns>"every-layer" or "first-layer".</returns>
    internal static string ConditioningName(bool everyLayer) => everyLayer ? "every-layer" : "first-layer";

    /// <summary>Reads <see cref="ConditioningName"/>'s spelling back.</summary>
    /// <param name="name">"first-layer" or "every-layer".</param>
    /// <param name="everyLayer">The value.</param>
    /// <returns>False for any other text.</returns>
    internal static bool TryParseConditioning(string name, out bool everyLayer)
    {
        everyLayer = name == ConditioningName(true);
        return everyLayer || name == ConditioningName(false);
    }

    /// <summary>The "format" metadata of a model file this library wrote.</summary>
    internal const string Format = "ilgpu-vae";

    /// <summary>
    /// The configuration as safetensors metadata, so a checkpoint alone rebuilds the model. A conditional model also
    /// carries "decoder_conditioning"; checkpoints written before it existed lack it and mean "first-layer". The image
    /// size is "image_height" and "image_width"; checkpoints without them mean a square image (28 x 28 for 784 inputs). A colour
    /// model carries "image_channels" (3); without it, 1.
    /// </summary>
    public Dictionary<string, string> ToMetadata()
    {
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["model"] = Kind,
            ["input_size"] = InputSize.ToString(CultureInfo.InvariantCulture),
            ["hidden"] = string.Join(",", Hidden.Select(h => h.ToString(CultureInfo.InvariantCulture))),
            ["latent"] = Latent.ToString(CultureInfo.InvariantCulture),
            ["classes"] = Classes.ToString(CultureInfo.InvariantCulture),
            ["likelihood"] = LikelihoodMetadata(Likelihood),
            ["image_height"] = ImageHeight.ToString(CultureInfo.InvariantCulture),
            ["image_width"] = ImageWidth.ToString(CultureInfo.InvariantCulture),
        };
        // Written only for colour, so the files of grey-scale models read as before.
        if (ImageChannels != 1)
            metadata["image_channels"] = ImageChannels.ToString(CultureInfo.InvariantCulture);
        if (IsConditional)
            metadata["decoder_conditioning"] = ConditioningName(ConditionEveryLayer);
        // Written only when not ReLU, so the files of ReLU models read as before.
        if (Activation != HiddenActivation.Relu)
            metadata["activation"] = ActivationName(Activation);
        if (InputMean is { } inputMean && InputStd is { } inputStd)
        {
            metadata["input_mean"] = string.Join(",", inputMean.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
            metadata["input_std"] = string.Join(",", inputStd.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        }
        if (Sigma is float sigma)
            metadata["sigma"] = sigma.ToString("R", CultureInfo.InvariantCulture);
        // Written only for two stochastic layers, so the files of one-layer models read as before.
        if (IsTwoLayer)
        {
            metadata["hidden2"] = string.Join(",", Hidden2.Select(h => h.ToString(CultureInfo.InvariantCulture)));
            metadata["latent2"] = Latent2.ToString(CultureInfo.InvariantCulture);
        }
        if (IsConvolutional)
        {
            metadata["architecture"] = "conv";
            metadata["channels"] = string.Join(",", Channels.Select(c => c.ToString(CultureInfo.InvariantCulture)));
            metadata["conv_kernel"] = ConvKernel.ToString(CultureInfo.InvariantCulture);
            metadata["conv_stride"] = ConvStride.ToString(CultureInfo.InvariantCulture);
            metadata["conv_padding"] = ConvPadding.ToString(CultureInfo.InvariantCulture);
        }
        return metadata;
    }

    /// <summary>Reads the configuration back from checkpoint metadata.</summary>
    /// <param name="metadata">The metadata.</param>
    /// <param name="source">The file, for messages.</param>
    /// <returns>The configuration.</returns>
    public static VaeConfig FromMetadata(IReadOnlyDictionary<string, string> metadata, string source)
    {
        string Get(string key) => metadata.TryGetValue(key, out var v)
            ? v
            : throw new InvalidDataException($"{source}: metadata lacks '{key}'; not an ilgpu-vae model checkpoint");
        int Int(string key, string text) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v
            : throw new InvalidDataException($"{source}: metadata '{key}' is not an integer: '{text}'");
        float[] Floats(string key, string text) => text.Split(',').Select(v =>
            float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) ? f
                : throw new InvalidDataException($"{source}: metadata '{key}' holds '{v}', not a number")).ToArray();
        // Files of another kind or likelihood (a newer version's, or edited) would otherwise load as whatever the other
        // keys describe; files without the keys are read as before.
        if (metadata.TryGetValue("model", out var kind) && !Kinds.Contains(kind))
            throw new InvalidDataException($"{source}: metadata 'model' is '{kind}', not {KindList}");
        var decoder = DecoderLikelihood.Bernoulli;
        if (metadata.TryGetValue("likelihood", out var likelihood))
        {
            var named = Enum.GetValues<DecoderLikelihood>().Where(l => LikelihoodMetadata(l) == likelihood).ToArray();
            decoder = named.Length == 1 ? named[0]
                : throw new InvalidDataException($"{source}: metadata 'likelihood' is '{likelihood}', not bernoulli-logits, continuous-bernoulli or gaussian");
        }
        float? sigma = null;
        if (metadata.TryGetValue("sigma", out var sigmaText))
            sigma = float.TryParse(sigmaText, NumberStyles.Float, CultureInfo.InvariantCulture, out float parsedSigma)
                ? parsedSigma
                : throw new InvalidDataException($"{source}: metadata 'sigma' is not a number: '{sigmaText}'");
        var hidden = Get("hidden").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(h => Int("hidden", h)).ToArray();
        bool everyLayer = false;
        if (metadata.TryGetValue("decoder_conditioning", out var name) && !TryParseConditioning(name, out everyLayer))
            throw new InvalidDataException($"{source}: metadata 'decoder_conditioning' is '{name}', not first-layer or every-layer");
        var config = new VaeConfig(Int("input_size", Get("input_size")), hidden, Int("latent", Get("latent")),
            metadata.TryGetValue("classes", out var c) ? Int("classes", c) : 0)
        {
            ConditionEveryLayer = everyLayer,
            ImageHeight = metadata.TryGetValue("image_height", out var h) ? Int("image_height", h) : 0,
            ImageWidth = metadata.TryGetValue("image_width", out var w) ? Int("image_width", w) : 0,
            ImageChannels = metadata.TryGetValue("image_channels", out var ic) ? Int("image_channels", ic) : 1,
            Likelihood = decoder,
            Sigma = sigma,
            InputMean = metadata.TryGetValue("input_mean", out var inputMean) ? Floats("input_mean", inputMean) : null,
            InputStd = metadata.TryGetValue("input_std", out var inputStd) ? Floats("input_std", inputStd) : null,
        };
        if (metadata.TryGetValue("activation", out var activation))
        {
            if (!TryParseActivation(activation, out var parsed))
                throw new InvalidDataException($"{source}: metadata 'activation' is '{activation}', not relu or tanh");
            config = config with { Activation = parsed };
        }
        if (metadata.TryGetValue("latent2", out var latent2))
            config = config with
            {
                Latent2 = Int("latent2", latent2),
                Hidden2 = metadata.TryGetValue("hidden2", out var hidden2)
                    ? hidden2.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(h => Int("hidden2", h)).ToArray()
                    : [],
            };
        else if (metadata.ContainsKey("hidden2"))
            throw new InvalidDataException($"{source}: metadata has 'hidden2' but no 'latent2'");
        if (metadata.TryGetValue("architecture", out var architecture))
        {
            if (architecture != "conv")
                throw new InvalidDataException($"{source}: metadata 'architecture' is '{architecture}', not conv");
            foreach (var (key, value) in new[] { ("conv_kernel", ConvKernel), ("conv_stride", ConvStride), ("conv_padding", ConvPadding) })
                if (Int(key, Get(key)) != value)
                    throw new InvalidDataException($"{source}: metadata '{key}' is {Get(key)}; this version builds {value} only");
            config = config with
            {
                Architecture = VaeArchitecture.Convolutional,
                Channels = Get("channels").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(h => Int("channels", h)).ToArray(),
            };
        }
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}");
        }
        if (kind is not null && kind != config.Kind)
            throw new InvalidDataException($"{source}: metadata 'model' is '{kind}', but the other metadata describe a {config.Kind}");
        return config;
    }

    /// <summary>A short description, e.g. "vae 784-400-20", "vae 784-200-200-50 tanh", "vae 784-200-200-100-100-100-50 tanh (two stochastic layers)", "cvae 784+10-400-20", "conv-vae 1x28x28-c32-c64-400-20", "vae 3x32x32=3072-400-20" or, with the label at every decoder
    /// layer, "cvae 784+10-400-20 (label at every decoder layer)".</summary>
    public override string ToString() =>
        $"{Kind} {(IsConvolutional ? $"{ImageChannels}x{ImageHeight}x{ImageWidth}" : ImageChannels != 1 ? $"{ImageChannels}x{ImageHeight}x{ImageWidth}={InputSize}" : InputSize)}{(IsConditional ? $"+{Classes}" : "")}-" +
        (IsConvolutional ? string.Concat(Channels.Select(c => $"c{c}-")) : "") + $"{string.Join("-", Hidden)}-{Latent}" +
        (IsTwoLayer ? string.Concat(Hidden2.Select(h => $"-{h}")) + $"-{Latent2}" : "") +
        (Activation != HiddenActivation.Relu ? $" {ActivationName(Activation)}" : "") +
        (Likelihood != DecoderLikelihood.Bernoulli ? $" {LikelihoodName(Likelihood)}" : "") +
        (Sigma is float sigma ? $" sigma {sigma.ToString(CultureInfo.InvariantCulture)}" : "") +
        (IsVectors ? " (standardised vectors)" : "") +
        (ConditionEveryLayer ? " (label at every decoder layer)" : "") +
        (IsTwoLayer ? " (two stochastic layers)" : "");
}

/// <summary>Reads back the names that metadata, config.json and options spell enum values with.</summary>
internal static class Spelling
{
    /// <summary>The value whose <paramref name="spell"/> is <paramref name="name"/>.</summary>
    /// <param name="name">The text.</param>
    /// <param name="spell">The value's spelling.</param>
    /// <param name="value">The value, or default.</param>
    /// <returns>False when no value is spelt so.</returns>
    public static bool TryParse<T, TName>(TName name, Func<T, TName> spell, out T value) where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (EqualityComparer<TName>.Default.Equals(spell(candidate), name))
            {
                value = candidate;
                return true;
            }
        }
        value = default;
        return false;
    }
}
