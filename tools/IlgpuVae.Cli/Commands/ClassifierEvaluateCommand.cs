using System.CommandLine;
using System.Text.Json;
using IlgpuVae.Classification;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>classifier evaluate</c>: a saved classifier's test accuracy, overall and per digit.</summary>
public static class ClassifierEvaluateCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("evaluate",
        "print a saved classifier's test accuracy, overall and per digit",
        [
            new("--model", "a classifier .safetensors written by 'classifier train'", "FILE") { Aliases = ["-m"], Required = true },
            .. DataOptions,
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli));

    private static int Run(ParsedOptions options, CliContext cli)
    {
        var (stdout, stderr, token) = cli;
        string path = options.RequiredString("--model");
        RequireInputFile(path, "classifier");
        using var device = OpenDevice(options);
        var data = LoadData(options, stderr, token: token);
        using var classifier = Classifier.Load(device, path);
        classifier.CheckCompatible(data.Test);
        var result = classifier.Evaluate(data.Test);
        var perClass = result.PerClassAccuracy;
        var counts = result.PerClassCount;
        if (options.Flag("--json"))
        {
            stdout.WriteLine(JsonSerializer.Serialize(new
            {
                model = path, config = classifier.Config.ToString(), test_images = result.Count,
                test_accuracy = result.Accuracy, test_loss = result.Loss,
                per_class_accuracy = perClass.Select(a => double.IsNaN(a) ? (double?)null : a),
                per_class_count = counts,
            }));
            return 0;
        }
        stdout.WriteLine($"classifier {classifier.Config} on {result.Count} test images:");
        stdout.WriteLine($"  accuracy {F(100 * result.Accuracy)}%  (cross-entropy {F(result.Loss, "F4")} per image)");
        for (int digit = 0; digit < perClass.Length; digit++)
            stdout.WriteLine($"  digit {digit}: {(double.IsNaN(perClass[digit]) ? "   -  " : F(100 * perClass[digit]) + "%"),7} of {counts[digit]}");
        return 0;
    }
}
