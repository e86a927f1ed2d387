using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Reflection;
using System.Runtime.InteropServices;
using IlgpuVae.Cli.Commands;

namespace IlgpuVae.Cli;

/// <summary>The <c>ilgpu-vae</c> command: parses, dispatches, and turns every expected failure into one line.</summary>
public static class Program
{
    public const string Name = "ilgpu-vae";

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>The informational version (e.g. 0.5.0+commit), as <c>--version</c> prints it.</summary>
    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Program).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The whole command tree, writing to <paramref name="cli"/>'s streams.</summary>
    public static Command BuildRoot(CliContext cli) => Root(Name,
        "Trains variational autoencoders on MNIST with ILGPU kernels (CUDA, OpenCL or the CPU). The benchmarks (op " +
        "throughput, timed training) are a developer tool of the repository: dotnet run -c Release --project " +
        "tools/IlgpuVae.Benchmarks -- ops|train",
        [
            TrainCommand.Create(cli),
            EvaluateCommand.Create(cli),
            DevicesCommand.Create(cli),
            FetchDataCommand.Create(cli),
            SampleCommand.Create(cli),
            ReconstructCommand.Create(cli),
            InterpolateCommand.Create(cli),
            ManifoldCommand.Create(cli),
            LatentCommand.Create(cli),
            SweepCommand.Create(cli),
            ClassifierCommand.Create(cli),
            CvaeCommand.Create(cli),
            ExportCommand.Create(cli),
            ScoreCommand.Create(cli),
            ExploreCommand.Create(cli),
        ]);

    /// <summary>
    /// A root command as ilgpu-vae's: <c>--help</c>, <c>--version</c>, the <paramref name="commands"/>, and run bare
    /// it shows the help, as a usage error. The benchmarks tool (tools/IlgpuVae.Benchmarks) builds its root so too.
    /// </summary>
    public static Command Root(string name, string description, IEnumerable<Command> commands)
    {
        var root = new Command(name, description);
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption { Action = new PrintVersion() });
        foreach (var command in commands)
            root.Subcommands.Add(command);
        root.SetAction(result =>
        {
            new HelpAction().Invoke(result);
            return 2;
        });
        return root;
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, CancellationToken.None);

    /// <summary>Runs a command line; <paramref name="cancellationToken"/> stops it as Ctrl+C does (for embedding and tests).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        Run(BuildRoot, args, stdout, stderr, cancellationToken);

    /// <summary>
    /// Runs a command line against the command tree <paramref name="buildRoot"/> makes, with everything ilgpu-vae's
    /// commands get: Ctrl+C, SIGTERM and SIGHUP as a clean stop, and every expected failure as one line with exit code
    /// 2 (usage) or 1 (runtime). The benchmarks tool (tools/IlgpuVae.Benchmarks) runs its commands through this.
    /// </summary>
    public static int Run(Func<CliContext, Command> buildRoot, string[] args, TextWriter stdout, TextWriter stderr,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(buildRoot);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var cli = new CliContext(stdout, stderr, cancel.Token);
        var root = buildRoot(cli);
        // Values are taken literally: no @file response-file expansion (an --out of "@x.png" is a file name).
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        // Help and --version answer even beside other mistakes; any other parse error is one line and exit code 2.
        if (parsed.Action is not (HelpAction or PrintVersion) && ParseErrors.Describe(parsed) is string parseError)
        {
            stderr.WriteLine($"error: {parseError}; run '{ParseErrors.CommandPath(parsed)} --help'");
            return 2;
        }
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The first Ctrl+C asks for a clean stop after the current step; a second one kills the process.
            if (!cancel.IsCancellationRequested)
            {
                e.Cancel = true;
                cancel.Cancel();
                stderr.WriteLine();
                stderr.WriteLine("stopping after the current step (Ctrl+C again to abort)...");
            }
        };
        Console.CancelKeyPress += onCancel;
        // SIGTERM (kill, systemd, Docker, CI runners) and SIGHUP (a closed terminal) stop as Ctrl+C does: the step
        // finishes, the run is saved, and the exit code is 128 + the signal's number (143, 129) as a shell expects.
        int? stoppedBy = null;
        var signals = new List<PosixSignalRegistration>();
        foreach (var (signal, number, name) in new[] { (PosixSignal.SIGTERM, 15, "SIGTERM"), (PosixSignal.SIGHUP, 1, "SIGHUP") })
        {
            try
            {
                signals.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    // A second signal ends the process the default way.
                    if (cancel.IsCancellationRequested)
                        return;
                    context.Cancel = true;
                    stoppedBy = number;
                    cancel.Cancel();
                    stderr.WriteLine();
                    stderr.WriteLine($"{name}: stopping after the current step...");
                }));
            }
            catch (PlatformNotSupportedException)
            {
                // SIGHUP where the platform has no such signal: only Ctrl+C and SIGTERM stop cleanly there.
            }
        }
        int ExitCode(int code) => code == 130 && stoppedBy is int signal ? 128 + signal : code;
        try
        {
            return ExitCode(parsed.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                // Ctrl+C is ours (above): it stops training cleanly instead of ending the process.
                ProcessTerminationTimeout = null,
            }));
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // Ctrl+C before training started (e.g. while fetching data): nothing to save.
            stderr.WriteLine("stopped");
            return ExitCode(130);
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"error: {e.Message}; run '{ParseErrors.CommandPath(parsed)} --help'");
            return 2;
        }
        catch (Exception e) when (ErrorHints.IsBadInput(e))
        {
            // Bad data (a corrupt or mismatched file, named in the message) is the user's input to fix, as a usage error is.
            stderr.WriteLine($"error: {ErrorHints.OneLine(e.Message)}{ErrorHints.For(e)}");
            return 2;
        }
        catch (Exception e) when (ErrorHints.IsExpected(e))
        {
            stderr.WriteLine($"error: {ErrorHints.OneLine(e.Message)}{ErrorHints.For(e)}");
            return 1;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("ILGPU_VAE_DEBUG") is null)
        {
            stderr.WriteLine($"error: unexpected {e.GetType().Name}: {ErrorHints.OneLine(e.Message)} (set ILGPU_VAE_DEBUG=1 for details)");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            foreach (var registration in signals)
                registration.Dispose();
        }
    }

    /// <summary>Prints this assembly's informational version (System.CommandLine's own would print the test host's).</summary>
    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Version);
            return 0;
        }
    }
}
