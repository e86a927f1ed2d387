using System.CommandLine;

namespace IlgpuVae.Cli;

/// <summary>A usage error: printed as one line, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// One option of a command: <c>--name VALUE</c>, or a flag when <see cref="ValueName"/> is null.
/// Values stay strings until <see cref="ParsedOptions"/> reads them, so every bad value gets the same
/// one-line message whichever command it came from.
/// </summary>
public sealed record OptionSpec(string Name, string Description, string? ValueName = null, string? Default = null)
{
    public bool IsFlag => ValueName is null;

    /// <summary>Other spellings, e.g. <c>-o</c> for <c>--out</c>.</summary>
    public string[] Aliases { get; init; } = [];

    /// <summary>Accepted but not listed in the help (an old spelling kept working).</summary>
    public bool Hidden { get; init; }

    /// <summary>Must be given: a usage error otherwise, and marked so in the help.</summary>
    public bool Required { get; init; }

    internal Option ToOption()
    {
        if (IsFlag)
            return new Option<bool>(Name, Aliases) { Description = Description, Hidden = Hidden, Arity = ArgumentArity.Zero };
        var option = new Option<string>(Name, Aliases) { Description = Description, HelpName = ValueName, Hidden = Hidden, Required = Required };
        if (Default is string value)
            option.DefaultValueFactory = _ => value;
        return option;
    }
}

/// <summary>Builds a System.CommandLine command from option specs and a body that reads <see cref="ParsedOptions"/>.</summary>
public static class CommandBuilder
{
    public static Command Create(string name, string description, IEnumerable<OptionSpec> options, Func<ParsedOptions, int> run)
    {
        var command = new Command(name, description);
        var byName = new Dictionary<string, Option>();
        foreach (var spec in options)
        {
            var option = spec.ToOption();
            command.Options.Add(option);
            byName[spec.Name] = option;
        }
        command.SetAction(result => run(new ParsedOptions(result, byName)));
        return command;
    }

    /// <summary>A command that only groups subcommands: run bare, it is a usage error saying which to pick.</summary>
    public static Command Group(string name, string description, string whenBare, params Command[] subcommands)
    {
        var command = new Command(name, description);
        foreach (var subcommand in subcommands)
            command.Subcommands.Add(subcommand);
        command.SetAction(new Func<ParseResult, int>(_ => throw new UsageException(whenBare)));
        return command;
    }
}
