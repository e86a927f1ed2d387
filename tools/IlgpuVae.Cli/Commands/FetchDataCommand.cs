using System.CommandLine;
using IlgpuVae.Data;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>fetch-data</c>: get MNIST and say where it is.</summary>
public static class FetchDataCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("fetch-data",
        "get MNIST into the data directory (verified by SHA-256) and say where it is", [DataOption], options =>
        {
            var data = LoadData(options, cli.Err, token: cli.Token);
            string directory = MnistFetcher.ResolveDataDirectory(options.String("--data"));
            cli.Out.WriteLine($"MNIST is in {directory} ({data.Train.Count} training and {data.Test.Count} test images, SHA-256 verified)");
            return 0;
        });
}
