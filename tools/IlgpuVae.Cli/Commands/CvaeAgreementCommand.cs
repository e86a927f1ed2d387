using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using IlgpuVae.Classification;
using static IlgpuVae.Cli.Commands.CvaeCommand;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>cvae agreement</c>: test loss and how often a classifier sees the requested digit.</summary>
public static class CvaeAgreementCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("agreement",
        "the test loss, and the share of generated digits a classifier assigns to the requested class: codes z ~ N(0, s^2 I) are decoded with each label 0-9",
        [
            CvaeModelOption,
            new("--classifier", "a classifier .safetensors written by 'classifier train'", "FILE") { Aliases = ["-c"], Required = true },
            CountOption("images per digit (default 1000)", null),
            SeedOption("seed of the codes z", "1"),
            new("--scale", "the codes' scales s, a list, e.g. 1,0.5,0 (1 is the prior)", "LIST", "1"),
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
        string classifierPath = options.RequiredString("--classifier");
        int perClass = options.OptionalInt("--count", 1, MaxAgreementSamples) ?? 1000;
        var scales = Scales(options, single: false);
        int seed = options.Int("--seed", 0);
        RequireInputFile(classifierPath, "classifier");
        using var device = OpenDevice(options);
        var data = LoadData(options, stderr, token: token);
        using var model = LoadConditional(device, path);
        using var classifier = Classifier.Load(device, classifierPath);
        model.CheckCompatible(data.Test);
        classifier.CheckCompatible(data.Test);
        var loss = model.Evaluate(data.Test, seed);
        var results = scales.Select(s => (Scale: s, Figures: classifier.Agreement(model, perClass, seed, s, cancellationToken: token))).ToArray();
        // The classifier's file records its test accuracy; a value that is not a finite number is left out, not fatal.
        double? classifierAccuracy = double.TryParse(classifier.Metadata.GetValueOrDefault("test_accuracy"), NumberStyles.Float,
            CultureInfo.InvariantCulture, out double accuracy) && double.IsFinite(accuracy) ? accuracy : null;
        if (options.Flag("--json"))
        {
            stdout.WriteLine(JsonSerializer.Serialize(new
            {
                model = path, config = model.Config.ToString(), test_images = data.Test.Count,
                test_loss = loss.Loss, test_reconstruction = loss.Reconstruction, test_kl = loss.Kl,
                classifier = classifierPath, classifier_test_accuracy = classifierAccuracy,
                samples_per_class = perClass, seed,
                agreement = results.Select(r => new { scale = r.Scale, overall = r.Figures.Accuracy, per_class = r.Figures.PerClassAccuracy, confusion = r.Figures.Confusion }),
            }));
            return 0;
        }
        int classes = model.Config.Classes;
        stdout.WriteLine($"{model.Config} on {data.Test.Count} test images:");
        stdout.WriteLine($"  test loss {F(loss.Loss, "F4")} per image (reconstruction {F(loss.Reconstruction, "F4")} + KL {F(loss.Kl, "F4")})");
        stdout.WriteLine($"conditional agreement: {perClass} generated digits per class, judged by {classifierPath}" +
            (classifierAccuracy is double a ? $" ({F(100 * a)}% on the test set)" : ""));
        stdout.WriteLine($"  {"z ~",-16} {"overall",8} " + string.Join(" ", Enumerable.Range(0, classes).Select(c => $"{c,6}")));
        foreach (var r in results)
        {
            string where = r.Scale == 1f ? "N(0, I)" : $"N(0, {F(r.Scale)}^2 I)";
            stdout.WriteLine($"  {where,-16} {F(100 * r.Figures.Accuracy, "F1") + "%",8} " + string.Join(" ", r.Figures.PerClassAccuracy.Select(a => $"{F(100 * a, "F1") + "%",6}")));
        }
        return 0;
    }
}
