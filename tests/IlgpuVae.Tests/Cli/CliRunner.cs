using IlgpuVae.Cli;
using Xunit;

namespace IlgpuVae.Tests.Cli;

/// <summary>Runs the CLI in-process, capturing its output, and checks its one-line errors.</summary>
public static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The last line of stderr is "error: ..." naming <paramref name="fragment"/>, and no stack trace came out.</summary>
    public static void AssertOneLineError(string stderr, string fragment)
    {
        Assert.DoesNotContain("   at ", stderr);
        var last = stderr.TrimEnd().Split('\n')[^1];
        Assert.StartsWith("error: ", last);
        Assert.Contains(fragment, last);
    }
}
