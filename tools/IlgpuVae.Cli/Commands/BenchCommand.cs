using System.CommandLine;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>bench</c>: groups <c>bench ops</c> and <c>bench train</c>.</summary>
public static class BenchCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Group("bench",
        "benchmarks: 'bench ops' (GFLOP/s and GB/s of each op, beside the host's FP32 peak) or 'bench train' (epochs of " +
        "the default VAE, the conv VAE or the IWAE; --rounds and --peer interleave it with a peer); figures print as they " +
        "are measured; compare implementations or peers within one run, by their minimum (shared machines are noisy)",
        "say what to benchmark: 'bench ops' or 'bench train'",
        BenchOpsCommand.Create(cli),
        BenchTrainCommand.Create(cli));
}
