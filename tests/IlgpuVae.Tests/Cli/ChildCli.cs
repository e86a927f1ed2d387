using System.Diagnostics;
using System.Text;
using IlgpuVae.Cli;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// The CLI in a child process, for what only a real process shows: real signals, their exit codes (128 + the signal)
/// and how soon a command acts on them. Its output is collected as it comes.
/// </summary>
public sealed class ChildCli : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new(), _err = new();
    private readonly Stopwatch _sinceSignal = new();

    public ChildCli(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CliAssembly());
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Append(_out, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_err, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>
    /// The tool as its own build lays it out (tools/IlgpuVae.Cli/bin/CONFIG/TFM), not the copy beside the tests: the
    /// tests' folder takes Microsoft.Extensions.* from ASP.NET Core's shared framework, which the tool's runtimeconfig
    /// does not name.
    /// </summary>
    private static string CliAssembly()
    {
        var tests = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string own = Path.Combine(IlgpuVae.Tests.Data.TestData.RepositoryRoot(), "tools", "IlgpuVae.Cli", "bin", tests.Parent!.Name, tests.Name,
            Path.GetFileName(typeof(Program).Assembly.Location));
        if (!File.Exists(own))
            throw new FileNotFoundException($"{own}: the tool's own build is missing; build the solution");
        return own;
    }

    public string Out => Read(_out);
    public string Err => Read(_err);

    /// <summary>Waits until stdout holds <paramref name="text"/>; false if the child ended or the time ran out first.</summary>
    public bool WaitForOutput(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!Out.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited || clock.Elapsed > timeout)
                return Out.Contains(text, StringComparison.Ordinal);
            Thread.Sleep(20);
        }
        return true;
    }

    /// <summary>Sends SIG<paramref name="name"/> (TERM, HUP, INT) and starts the clock <see cref="WaitForExit"/> reads.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        _sinceSignal.Restart();
        kill.WaitForExit();
    }

    /// <summary>The exit code and the seconds from the signal to the exit; null if it did not end in time.</summary>
    public (int Code, double SecondsAfterSignal)? WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
            return null;
        _process.WaitForExit(); // the output's last lines
        return (_process.ExitCode, _sinceSignal.Elapsed.TotalSeconds);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    private static void Append(StringBuilder to, string? line)
    {
        if (line is null)
            return;
        lock (to)
            to.AppendLine(line);
    }

    private static string Read(StringBuilder from)
    {
        lock (from)
            return from.ToString();
    }
}
