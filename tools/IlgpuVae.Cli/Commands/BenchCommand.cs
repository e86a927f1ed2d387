using System.CommandLine;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>bench</c>: groups <c>bench ops</c> and <c>bench train</c>.</summary>
public static class BenchCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Group("bench",
        "benchmarks: 'bench ops' (GFLOP/s and GB/s of each op) or 'bench train' (epochs of the default VAE); figures print " +
        "as they are measured; compare implementations or peers within one run (shared machines are noisy)",
        "say what to benchmark: 'bench ops' or 'bench train'",
        BenchOpsCommand.Create(cli),
        BenchTrainCommand.Create(cli));
}
