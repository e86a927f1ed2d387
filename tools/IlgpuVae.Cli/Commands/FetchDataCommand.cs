using System.CommandLine;
using IlgpuVae.Data;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>fetch-data</c>: get a known data set (MNIST unless told) and say where it is.</summary>
public static class FetchDataCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("fetch-data",
        $"get a data set by name ({string.Join(", ", DataFiles.KnownSets)}; default mnist) into its directory, verified by SHA-256, and say where it is",
        [
            new("--data", $"where to keep it (default: ${DataFiles.DataEnvironmentVariable} for mnist, else a per-user cache)", "DIR"),
            new("--dataset", $"the data set: {string.Join(", ", DataFiles.KnownSets)}", "NAME", DataFiles.Mnist),
        ],
        options =>
        {
            string dataset = options.String("--dataset")!;
            if (!DataFiles.IsKnownSet(dataset))
                throw new UsageException($"--dataset: unknown data set '{dataset}'; known: {string.Join(", ", DataFiles.KnownSets)}");
            var data = LoadData(options, cli.Err, token: cli.Token);
            string directory = DataDirectory(options, dataset);
            cli.Out.WriteLine($"{dataset} is in {directory} ({data.Train.Count} training and {data.Test.Count} test images of {data.ImageHeight}x{data.ImageWidth}, {data.Classes} classes, SHA-256 verified)");
            return 0;
        });
}
