using System.Globalization;

namespace IlgpuVae.Classification;

/// <summary>
/// The architecture of an MLP classifier: D inputs, ReLU hidden layers, and C classes of logits.
/// </summary>
/// <param name="InputSize">D, 784 for MNIST.</param>
/// <param name="Hidden">Hidden widths from the input side, e.g. [512, 512].</param>
/// <param name="Classes">C, 10 for digits.</param>
public sealed record ClassifierConfig(int InputSize, IReadOnlyList<int> Hidden, int Classes = 10)
{
    /// <summary>The value of the <c>format</c> metadata key that marks a classifier checkpoint.</summary>
    public const string Format = "ilgpu-vae-classifier";

    /// <summary>The default MNIST classifier: 784-512-512-10.</summary>
    public static ClassifierConfig Default => new(784, [512, 512]);

    /// <summary>Value equality, <see cref="Hidden"/> element by element (a record's own would compare the list by
    /// reference).</summary>
    /// <param name="other">The other config.</param>
    /// <returns>Whether they describe the same classifier.</returns>
    public bool Equals(ClassifierConfig? other) => other is not null && (ReferenceEquals(this, other) ||
        (InputSize == other.InputSize && Hidden.SequenceEqual(other.Hidden) && Classes == other.Classes));

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(InputSize);
        foreach (int width in Hidden)
            hash.Add(width);
        hash.Add(Classes);
        return hash.ToHashCode();
    }

    /// <summary>Every layer's (inputs, outputs), from the input to the logits.</summary>
    public IReadOnlyList<(int Inputs, int Outputs)> Layers
    {
        get
        {
            var widths = new List<int> { InputSize };
            widths.AddRange(Hidden);
            widths.Add(Classes);
            return widths.Zip(widths.Skip(1), (a, b) => (a, b)).ToArray();
        }
    }

    /// <summary>Checks every size; throws <see cref="ArgumentException"/> with a one-line message.</summary>
    public void Validate()
    {
        if (InputSize <= 0)
            throw new ArgumentException($"input size must be positive, got {InputSize}");
        // No hidden layer is a valid (linear) classifier; a zero width is not.
        if (Hidden.Any(h => h <= 0))
            throw new ArgumentException($"hidden sizes must be positive, got [{string.Join(",", Hidden)}]");
        if (Classes < 2)
            throw new ArgumentException($"a classifier needs at least 2 classes, got {Classes}");
    }

    /// <summary>The configuration as safetensors metadata, so a checkpoint alone rebuilds the model.</summary>
    /// <returns>The metadata.</returns>
    public Dictionary<string, string> ToMetadata() => new()
    {
        ["format"] = Format,
        ["model"] = "mlp",
        ["input_size"] = InputSize.ToString(CultureInfo.InvariantCulture),
        ["hidden"] = string.Join(",", Hidden.Select(h => h.ToString(CultureInfo.InvariantCulture))),
        ["classes"] = Classes.ToString(CultureInfo.InvariantCulture),
        ["activation"] = "relu",
    };

    /// <summary>Reads the configuration back from checkpoint metadata.</summary>
    /// <param name="metadata">The metadata.</param>
    /// <param name="source">The file, for messages.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="InvalidDataException">The metadata is not a classifier's.</exception>
    public static ClassifierConfig FromMetadata(IReadOnlyDictionary<string, string> metadata, string source)
    {
        if (!metadata.TryGetValue("format", out var format))
            throw new InvalidDataException($"{source}: metadata lacks 'format'; not an {Format} checkpoint");
        if (format != Format)
            throw new InvalidDataException($"{source}: format is '{format}', not '{Format}' (a VAE checkpoint is not a classifier)");
        string Get(string key) => metadata.TryGetValue(key, out var v)
            ? v
            : throw new InvalidDataException($"{source}: metadata lacks '{key}'");
        int Int(string key, string text) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v
            : throw new InvalidDataException($"{source}: metadata '{key}' is not an integer: '{text}'");
        var hidden = Get("hidden").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(h => Int("hidden", h)).ToArray();
        var config = new ClassifierConfig(Int("input_size", Get("input_size")), hidden, Int("classes", Get("classes")));
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

    /// <summary>A short description, e.g. "mlp 784-512-512-10".</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"mlp {string.Join("-", new[] { InputSize }.Concat(Hidden).Append(Classes))}";
}
