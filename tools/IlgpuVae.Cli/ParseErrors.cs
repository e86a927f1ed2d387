using System.CommandLine;
using System.CommandLine.Parsing;

namespace IlgpuVae.Cli;

/// <summary>Turns System.CommandLine's parse errors into our one-line messages, with a suggestion for a typo.</summary>
public static class ParseErrors
{
    /// <summary>
    /// The first error, said our way: an option given twice or missing its value, an unknown command or option (with
    /// the nearest name); null when the command line parsed. System.CommandLine takes the token after an option as its
    /// value even when that token is another option of the command ("--seed --limit 200" gives --seed the value
    /// "--limit"), so such a value counts as a missing one here, whether or not the parser saw an error.
    /// </summary>
    public static string? Describe(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        var names = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).ToHashSet();
        foreach (var given in parsed.CommandResult.Children.OfType<OptionResult>())
        {
            if (given.IdentifierTokenCount > 1 && given.Option.Arity.MaximumNumberOfValues == 1)
                return $"option '{given.Option.Name}' is given more than once";
            if (given.Tokens.FirstOrDefault(t => names.Contains(t.Value)) is { } swallowed)
                return $"option '{given.Option.Name}' needs a value ({given.Option.HelpName ?? "VALUE"}) before '{swallowed.Value}'";
        }
        if (parsed.Errors.Count == 0)
            return null;
        if (parsed.UnmatchedTokens.Count > 0)
        {
            string token = parsed.UnmatchedTokens[0];
            string where = CommandPath(parsed);
            // After "--" every token is an argument, and no command takes arguments.
            int doubleDash = parsed.Tokens.ToList().FindIndex(t => t.Type == TokenType.DoubleDash);
            if (doubleDash >= 0 && parsed.Tokens.Skip(doubleDash + 1).Any(t => t.Value == token))
                return $"unexpected argument '{token}' after '--' for '{where}' (what follows '--' is never an option or a command)";
            string message = token.StartsWith('-')
                ? $"unknown option '{token}' for '{where}'"
                : command.Parents.Any() ? $"unexpected argument '{token}' for '{where}'" : $"unknown command '{token}'";
            return Nearest(token, Names(command)) is string near ? $"{message} (did you mean '{near}'?)" : message;
        }
        var error = parsed.Errors[0];
        if (error.SymbolResult is OptionResult { Option: var option, IdentifierTokenCount: > 0 } && option.Arity.MinimumNumberOfValues > 0)
            return $"option '{option.Name}' needs a value ({option.HelpName ?? "VALUE"})";
        // System.CommandLine's own messages ("Option '--model' is required."), in our lower-case, unpunctuated style.
        string text = error.Message.TrimEnd('.');
        return text.Length > 0 ? char.ToLowerInvariant(text[0]) + text[1..] : text;
    }

    /// <summary>"ilgpu-vae cvae sample": the command the arguments reached.</summary>
    public static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (SymbolResult? result = parsed.CommandResult; result is not null; result = result.Parent)
            if (result is CommandResult c)
                names.Insert(0, c.Command.Name);
        return string.Join(" ", names);
    }

    private static IEnumerable<string> Names(Command command) =>
        command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name)
            .Concat(command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)));

    /// <summary>The closest name by edit distance, if it is close enough to be what was meant.</summary>
    public static string? Nearest(string token, IEnumerable<string> names)
    {
        string bare = token.Split('=')[0];
        var best = names.Select(n => (Name: n, Distance: Distance(bare, n))).OrderBy(p => p.Distance).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(1, bare.Length / 3) ? best.Name : null;
    }

    // Edit distance with adjacent transpositions counted as one edit ("trian" is one from "train").
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
            d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++)
            d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(d[i - 1, j - 1] + cost, Math.Min(d[i - 1, j], d[i, j - 1]) + 1);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
