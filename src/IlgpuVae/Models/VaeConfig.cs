using System.Globalization;

namespace IlgpuVae.Models;

/// <summary>Which of a conditional VAE's decoder layers read the one-hot label.</summary>
public enum DecoderConditioning
{
    /// <summary>Only the first: it takes [z | one-hot] (the common PyTorch recipe).</summary>
    FirstLayer,
    /// <summary>Every one, the output layer included: each takes [its usual input | one-hot].</summary>
    EveryLayer,
}

/// <summary>
/// The architecture of a (conditional) VAE: D inputs, encoder hidden layers, latent size Z, decoder hidden
/// layers (the encoder's, reversed), C classes for conditioning (0 for a plain VAE), and which decoder layers
/// read the label. The encoder's first layer reads [x | one-hot] in a conditional model.
/// </summary>
/// <param name="InputSize">D, 784 for MNIST.</param>
/// <param name="Hidden">Encoder hidden widths from the input side, e.g. [400] or [512, 256].</param>
/// <param name="Latent">Z.</param>
/// <param name="Classes">C: 0 for a VAE, 10 for a CVAE on digits.</param>
/// <param name="Conditioning">For a conditional model, which decoder layers read the label.</param>
public sealed record VaeConfig(int InputSize, IReadOnlyList<int> Hidden, int Latent, int Classes = 0,
    DecoderConditioning Conditioning = DecoderConditioning.FirstLayer)
{
    /// <summary>pytorch/examples' VAE: 784-400-20.</summary>
    public static VaeConfig Default => new(784, [400], 20);

    private readonly int _imageHeight, _imageWidth;

    /// <summary>
    /// The image height H, with <see cref="ImageWidth"/> H x W = D: what pictures, the manifold and IDX export lay the
    /// D outputs out as. Unset, it is the side of a square image of D pixels (28 for MNIST's 784), which is what
    /// checkpoints written before the size was recorded mean; a D that is not square is then one row of D pixels.
    /// </summary>
    public int ImageHeight
    {
        get => _imageHeight > 0 ? _imageHeight : ImpliedShape(InputSize).Height;
        init => _imageHeight = value;
    }

    /// <summary>The image width W; see <see cref="ImageHeight"/>.</summary>
    public int ImageWidth
    {
        get => _imageWidth > 0 ? _imageWidth : ImpliedShape(InputSize).Width;
        init => _imageWidth = value;
    }

    /// <summary>Whether the image size was given rather than implied by the input size.</summary>
    internal bool HasImageSize => _imageHeight > 0 && _imageWidth > 0;

    /// <summary>This configuration for images of <paramref name="height"/> x <paramref name="width"/> pixels: the
    /// input size becomes their product and the image size is recorded.</summary>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <returns>The configuration.</returns>
    public VaeConfig ForImages(int height, int width) =>
        this with { InputSize = height * width, ImageHeight = height, ImageWidth = width };

    private static (int Height, int Width) ImpliedShape(int pixels)
    {
        int side = (int)Math.Round(Math.Sqrt(Math.Max(pixels, 0)));
        return side > 0 && side * side == pixels ? (side, side) : (1, pixels);
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
        IsConditional && (index == 0 || Conditioning == DecoderConditioning.EveryLayer);

    /// <summary>The model kind as written in metadata and configs: "vae" or "cvae".</summary>
    public string Kind => IsConditional ? "cvae" : "vae";

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
        if (!Enum.IsDefined(Conditioning))
            throw new ArgumentException($"unknown decoder conditioning {(int)Conditioning}");
        if (!IsConditional && Conditioning != DecoderConditioning.FirstLayer)
            throw new ArgumentException("conditioning every decoder layer needs a conditional model (classes > 0)");
        if (_imageHeight < 0 || _imageWidth < 0 || (long)ImageHeight * ImageWidth != InputSize)
            throw new ArgumentException($"images of {ImageHeight}x{ImageWidth} pixels do not make the input size {InputSize}");
        // Layer widths are ints: [mu | logvar] is 2Z wide, a label adds C to a layer's input.
        if (2L * Latent > int.MaxValue)
            throw new ArgumentException($"latent size {Latent} is too large; at most {int.MaxValue / 2}");
        if ((long)Math.Max(InputSize, Math.Max(Latent, Hidden.Max())) + Classes > int.MaxValue)
            throw new ArgumentException($"layer widths plus {Classes} classes exceed {int.MaxValue}");
    }

    /// <summary>The metadata and config.json spelling of <paramref name="conditioning"/>.</summary>
    /// <param name="conditioning">The value.</param>
    /// <returns>"first-layer" or "every-layer".</returns>
    public static string ConditioningName(DecoderConditioning conditioning) => conditioning switch
    {
        DecoderConditioning.FirstLayer => "first-layer",
        DecoderConditioning.EveryLayer => "every-layer",
        _ => throw new ArgumentOutOfRangeException(nameof(conditioning)),
    };

    /// <summary>Reads <see cref="ConditioningName"/>'s spelling back.</summary>
    /// <param name="name">"first-layer" or "every-layer".</param>
    /// <param name="conditioning">The value.</param>
    /// <returns>False for any other text.</returns>
    public static bool TryParseConditioning(string name, out DecoderConditioning conditioning)
    {
        foreach (var value in Enum.GetValues<DecoderConditioning>())
        {
            if (ConditioningName(value) == name)
            {
                conditioning = value;
                return true;
            }
        }
        conditioning = default;
        return false;
    }

    /// <summary>
    /// The configuration as safetensors metadata, so a checkpoint alone rebuilds the model. A conditional model also
    /// carries "decoder_conditioning"; checkpoints written before it existed lack it and mean "first-layer". The image
    /// size is "image_height" and "image_width"; checkpoints without them mean a square image (28 x 28 for 784 inputs).
    /// </summary>
    public Dictionary<string, string> ToMetadata()
    {
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "ilgpu-vae",
            ["model"] = Kind,
            ["input_size"] = InputSize.ToString(CultureInfo.InvariantCulture),
            ["hidden"] = string.Join(",", Hidden.Select(h => h.ToString(CultureInfo.InvariantCulture))),
            ["latent"] = Latent.ToString(CultureInfo.InvariantCulture),
            ["classes"] = Classes.ToString(CultureInfo.InvariantCulture),
            ["likelihood"] = "bernoulli-logits",
            ["image_height"] = ImageHeight.ToString(CultureInfo.InvariantCulture),
            ["image_width"] = ImageWidth.ToString(CultureInfo.InvariantCulture),
        };
        if (IsConditional)
            metadata["decoder_conditioning"] = ConditioningName(Conditioning);
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
        var hidden = Get("hidden").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(h => Int("hidden", h)).ToArray();
        var conditioning = DecoderConditioning.FirstLayer;
        if (metadata.TryGetValue("decoder_conditioning", out var name) && !TryParseConditioning(name, out conditioning))
            throw new InvalidDataException($"{source}: metadata 'decoder_conditioning' is '{name}', not first-layer or every-layer");
        var config = new VaeConfig(Int("input_size", Get("input_size")), hidden, Int("latent", Get("latent")),
            metadata.TryGetValue("classes", out var c) ? Int("classes", c) : 0, conditioning)
        {
            ImageHeight = metadata.TryGetValue("image_height", out var h) ? Int("image_height", h) : 0,
            ImageWidth = metadata.TryGetValue("image_width", out var w) ? Int("image_width", w) : 0,
        };
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}");
        }
        return config;
    }

    /// <summary>A short description, e.g. "vae 784-400-20", "cvae 784+10-400-20" or, with the label at every decoder
    /// layer, "cvae 784+10-400-20 (label at every decoder layer)".</summary>
    public override string ToString() =>
        $"{Kind} {InputSize}{(IsConditional ? $"+{Classes}" : "")}-{string.Join("-", Hidden)}-{Latent}" +
        (Conditioning == DecoderConditioning.EveryLayer ? " (label at every decoder layer)" : "");
}
