using System.CommandLine;
using System.Globalization;

namespace IlgpuVae.Cli;

/// <summary>A command's parsed option values with typed, validated getters that throw <see cref="UsageException"/>.</summary>
public sealed class ParsedOptions(ParseResult result, IReadOnlyDictionary<string, Option> options)
{
    private Option Symbol(string name) =>
        options.TryGetValue(name, out var option) ? option : throw new InvalidOperationException($"the command has no option {name}");

    /// <summary>True when the user wrote the option (not just its default); false for an option this command lacks.</summary>
    public bool Given(string name) => options.TryGetValue(name, out var option) && result.GetResult(option) is { Implicit: false };

    public bool Flag(string name) => Symbol(name) is Option<bool> flag && result.GetValue(flag);

    public string? String(string name) => result.GetValue((Option<string>)Symbol(name));

    public string RequiredString(string name) => String(name) ?? throw new UsageException($"option '{name}' is required");

    public int? OptionalInt(string name, int min = int.MinValue, int max = int.MaxValue)
    {
        if (String(name) is not string text)
            return null;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
            throw new UsageException($"option '{name}' expects an integer, got '{text}'");
        if (value < min)
            throw new UsageException($"option '{name}' must be at least {min}, got {value}");
        if (value > max)
            throw new UsageException($"option '{name}' must be at most {max}, got {value}");
        return value;
    }

    public int Int(string name, int min = int.MinValue, int max = int.MaxValue) =>
        OptionalInt(name, min, max) ?? throw new UsageException($"option '{name}' is required");

    public float Float(string name, float min = float.NegativeInfinity, bool exclusiveMin = false)
    {
        string text = RequiredString(name);
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
            throw new UsageException($"option '{name}' expects a finite number, got '{text}'");
        if (value < min || (exclusiveMin && value == min))
            throw new UsageException($"option '{name}' must be {(exclusiveMin ? "greater than" : "at least")} {min.ToString(CultureInfo.InvariantCulture)}, got {text}");
        return value;
    }

    public int[] IntList(string name, int min = 1)
    {
        string text = RequiredString(name);
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i]) || values[i] < min)
                throw new UsageException($"option '{name}' expects a comma-separated list of integers >= {min}, got '{text}'");
        }
        return values;
    }

    public T Choice<T>(string name, IReadOnlyDictionary<string, T> choices)
    {
        string text = RequiredString(name);
        return choices.TryGetValue(text.ToLowerInvariant(), out var value)
            ? value
            : throw new UsageException($"option '{name}' must be one of {string.Join("|", choices.Keys)}, got '{text}'");
    }
}
