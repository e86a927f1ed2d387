using System.CommandLine;
using IlgpuVae.Cli;

namespace IlgpuVae.Benchmarks;

/// <summary>
/// The benchmarks tool: <c>ops</c> (each op of a training step at the model's shapes, beside the host's FP32 peak) and
/// <c>train</c> (timed training epochs, optionally interleaved with a peer). Run from a clone:
/// <c>dotnet run -c Release --project tools/IlgpuVae.Benchmarks -- ops|train [options]</c>. Parsing, Ctrl+C and the
/// one-line errors are ilgpu-vae's (<see cref="Cli.Program.Run(Func{CliContext, Command}, string[], TextWriter, TextWriter, CancellationToken)"/>).
/// </summary>
internal static class Program
{
    /// <summary>The tool's name in its help and errors: its assembly's, as its build names the executable.</summary>
    public const string Name = "IlgpuVae.Benchmarks";

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>The tool's command tree, writing to <paramref name="cli"/>'s streams.</summary>
    public static Command BuildRoot(CliContext cli) => Cli.Program.Root(Name,
        "Benchmarks of IlgpuVae (a developer tool, not packed): 'ops' (GFLOP/s and GB/s of each op, beside the host's " +
        "FP32 peak) or 'train' (epochs of the default VAE, the conv VAE or the IWAE; --rounds and --peer interleave it " +
        "with a peer); figures print as they are measured; compare implementations or peers within one run, by their " +
        "minimum (shared machines are noisy)",
        [BenchOpsCommand.Create(cli), BenchTrainCommand.Create(cli)]);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, CancellationToken.None);

    /// <summary>Runs a command line; <paramref name="cancellationToken"/> stops it as Ctrl+C does (for tests).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        Cli.Program.Run(BuildRoot, args, stdout, stderr, cancellationToken);
}
