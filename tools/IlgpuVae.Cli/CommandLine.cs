using System.Globalization;
using System.Text;

namespace IlgpuVae.Cli;

/// <summary>A usage error: printed as one line, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>One option of a command: --name VALUE, or a flag.</summary>
public sealed record OptionSpec(string Name, string Description, string? ValueName = null, string? Default = null)
{
    public bool IsFlag => ValueName is null;
}

/// <summary>A subcommand: its options, its help, and what it runs.</summary>
public sealed record CommandSpec(string Name, string Summary, IReadOnlyList<OptionSpec> Options,
    Func<ParsedOptions, CancellationToken, int> Run, string? Details = null)
{
    public string Help()
    {
        var text = new StringBuilder();
        text.AppendLine($"usage: ilgpu-vae {Name} [options]");
        text.AppendLine();
        text.AppendLine(Summary);
        if (Details is not null)
            text.AppendLine().AppendLine(Details);
        text.AppendLine();
        text.AppendLine("options:");
        foreach (var option in Options.Append(new OptionSpec("--help", "show this help")))
        {
            string left = option.IsFlag ? option.Name : $"{option.Name} {option.ValueName}";
            string right = option.Default is null ? option.Description : $"{option.Description} (default: {option.Default})";
            text.AppendLine($"  {left,-24} {right}");
        }
        return text.ToString();
    }

    /// <summary>Parses arguments against the options; unknown options and missing values are usage errors.</summary>
    public ParsedOptions Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>();
        var flags = new HashSet<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string name = arg;
            string? inline = null;
            int eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = arg[..eq];
                inline = arg[(eq + 1)..];
            }
            var option = Options.FirstOrDefault(o => o.Name == name)
                ?? throw new UsageException(arg.StartsWith('-')
                    ? $"unknown option '{name}' for '{Name}'"
                    : $"unexpected argument '{arg}' for '{Name}'");
            if (option.IsFlag)
            {
                if (inline is not null)
                    throw new UsageException($"option '{name}' takes no value");
                flags.Add(name);
                continue;
            }
            string? value = inline ?? (i + 1 < args.Count ? args[++i] : null);
            if (value is null)
                throw new UsageException($"option '{name}' needs a value ({option.ValueName})");
            values[name] = value;
        }
        var given = new HashSet<string>(values.Keys.Concat(flags));
        foreach (var option in Options.Where(o => !o.IsFlag && o.Default is not null && !values.ContainsKey(o.Name)))
            values[option.Name] = option.Default!;
        return new ParsedOptions(values, flags, given);
    }
}

/// <summary>Parsed option values with typed, validated getters that throw <see cref="UsageException"/>.</summary>
public sealed class ParsedOptions(Dictionary<string, string> values, HashSet<string> flags, HashSet<string> given)
{
    /// <summary>True when the user wrote the option (not just its default).</summary>
    public bool Given(string name) => given.Contains(name);

    public bool Flag(string name) => flags.Contains(name);

    public string? String(string name) => values.GetValueOrDefault(name);

    public string RequiredString(string name) => String(name) ?? throw new UsageException($"option '{name}' is required");

    public int? OptionalInt(string name, int min = int.MinValue)
    {
        if (String(name) is not string text)
            return null;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
            throw new UsageException($"option '{name}' expects an integer, got '{text}'");
        if (value < min)
            throw new UsageException($"option '{name}' must be at least {min}, got {value}");
        return value;
    }

    public int Int(string name, int min = int.MinValue) =>
        OptionalInt(name, min) ?? throw new UsageException($"option '{name}' is required");

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
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out result[i]) || result[i] < min)
                throw new UsageException($"option '{name}' expects a comma-separated list of integers >= {min}, got '{text}'");
        }
        return result;
    }

    public T Choice<T>(string name, IReadOnlyDictionary<string, T> choices)
    {
        string text = RequiredString(name);
        return choices.TryGetValue(text.ToLowerInvariant(), out var value)
            ? value
            : throw new UsageException($"option '{name}' must be one of {string.Join("|", choices.Keys)}, got '{text}'");
    }
}
