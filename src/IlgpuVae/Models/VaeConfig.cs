using System.Globalization;

namespace IlgpuVae.Models;

/// <summary>
/// The architecture of a (conditional) VAE: D inputs, encoder hidden layers, latent size Z, decoder hidden
/// layers (the encoder's, reversed), and C classes for conditioning (0 for a plain VAE).
/// </summary>
/// <param name="InputSize">D, 784 for MNIST.</param>
/// <param name="Hidden">Encoder hidden widths from the input side, e.g. [400] or [512, 256].</param>
/// <param name="Latent">Z.</param>
/// <param name="Classes">C: 0 for a VAE, 10 for a CVAE on digits.</param>
public sealed record VaeConfig(int InputSize, IReadOnlyList<int> Hidden, int Latent, int Classes = 0)
{
    /// <summary>pytorch/examples' VAE: 784-400-20.</summary>
    public static VaeConfig Default => new(784, [400], 20);

    /// <summary>True for a conditional VAE.</summary>
    public bool IsConditional => Classes > 0;

    /// <summary>The decoder's hidden widths from the latent side (the encoder's, reversed).</summary>
    public IReadOnlyList<int> DecoderHidden => Hidden.Reverse().ToArray();

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
    }

    /// <summary>The configuration as safetensors metadata, so a checkpoint alone rebuilds the model.</summary>
    public Dictionary<string, string> ToMetadata() => new()
    {
        ["format"] = "ilgpu-vae",
        ["model"] = Kind,
        ["input_size"] = InputSize.ToString(CultureInfo.InvariantCulture),
        ["hidden"] = string.Join(",", Hidden.Select(h => h.ToString(CultureInfo.InvariantCulture))),
        ["latent"] = Latent.ToString(CultureInfo.InvariantCulture),
        ["classes"] = Classes.ToString(CultureInfo.InvariantCulture),
        ["likelihood"] = "bernoulli-logits",
    };

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
        var config = new VaeConfig(Int("input_size", Get("input_size")), hidden, Int("latent", Get("latent")),
            metadata.TryGetValue("classes", out var c) ? Int("classes", c) : 0);
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

    /// <summary>A short description, e.g. "vae 784-400-20".</summary>
    public override string ToString() =>
        $"{Kind} {InputSize}{(IsConditional ? $"+{Classes}" : "")}-{string.Join("-", Hidden)}-{Latent}";
}
