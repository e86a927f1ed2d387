using IlgpuVae.Checkpoints;
using IlgpuVae.Compute;
using IlgpuVae.Data;

namespace IlgpuVae.Cli;

/// <summary>The <c>ilgpu-vae</c> command: parses, dispatches, and turns every expected failure into one line.</summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var commands = Commands.All(stdout, stderr);
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            stdout.Write(Usage(commands));
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] == "--version")
        {
            stdout.WriteLine(typeof(Program).Assembly.GetName().Version);
            return 0;
        }
        var command = commands.FirstOrDefault(c => c.Name == args[0]);
        if (command is null)
        {
            stderr.WriteLine($"error: unknown command '{args[0]}'; run 'ilgpu-vae --help'");
            return 2;
        }
        var rest = args.Skip(1).ToArray();
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            stdout.Write(command.Help());
            return 0;
        }
        using var cancel = new CancellationTokenSource();
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
        try
        {
            return command.Run(command.Parse(rest), cancel.Token);
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"error: {e.Message}; run 'ilgpu-vae {command.Name} --help'");
            return 2;
        }
        catch (Exception e) when (IsExpected(e))
        {
            stderr.WriteLine($"error: {OneLine(e.Message)}");
            return 1;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("ILGPU_VAE_DEBUG") is null)
        {
            stderr.WriteLine($"error: unexpected {e.GetType().Name}: {OneLine(e.Message)} (set ILGPU_VAE_DEBUG=1 for details)");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static bool IsExpected(Exception e) => e is DataFormatException or DataUnavailableException
        or DeviceUnavailableException or CheckpointFormatException or InvalidDataException or IOException
        or UnauthorizedAccessException or ArgumentException or OperationCanceledException;

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    private static string Usage(IReadOnlyList<CommandSpec> commands)
    {
        var lines = new List<string>
        {
            "usage: ilgpu-vae <command> [options]",
            "",
            "Trains variational autoencoders on MNIST with ILGPU kernels (CUDA, OpenCL or the CPU).",
            "",
            "commands:",
        };
        lines.AddRange(commands.Select(c => $"  {c.Name,-14} {c.Summary}"));
        lines.Add("");
        lines.Add("Run 'ilgpu-vae <command> --help' for a command's options.");
        return string.Join(Environment.NewLine, lines) + Environment.NewLine;
    }
}
