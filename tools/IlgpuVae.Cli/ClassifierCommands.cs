using System.Diagnostics;
using System.Text.Json;
using IlgpuVae.Classification;
using IlgpuVae.Training;

namespace IlgpuVae.Cli;

public static partial class Commands
{
    // Options that only one subcommand reads; naming one with the other subcommand is a usage error.
    private static readonly string[] ClassifierTrainOnly = ["--epochs", "--hidden", "--lr", "--lr-schedule", "--batch", "--seed", "--limit", "--out"];
    private static readonly string[] ClassifierEvaluateOnly = ["--model", "--json"];

    private static CommandSpec ClassifierCommand(TextWriter stdout, TextWriter stderr) => new("classifier",
        "an MNIST digit classifier (MLP, softmax cross-entropy): 'classifier train' or 'classifier evaluate --model FILE'",
        [
            new("train", "train a classifier on MNIST and save it as safetensors"),
            new("evaluate", "print a saved classifier's test accuracy, overall and per digit"),
            DataOption,
            new("--epochs", "train: epochs", "N", "10"),
            new("--hidden", "train: hidden widths, e.g. 512,512 (ReLU after each)", "LIST", "512,512"),
            new("--lr", "train: Adam learning rate (at the start, with the cosine schedule)", "RATE", "0.001"),
            new("--lr-schedule", "train: cosine (decays towards 0 over the run) or constant", "KIND", "cosine"),
            new("--batch", "train: images per step", "N", "128"),
            new("--seed", "train: seed of initialisation and shuffling", "N", "1"),
            new("--limit", "train: use the first N training images only", "N"),
            new("--out", "train: the .safetensors file to write", "FILE", Path.Combine("runs", "classifier.safetensors")),
            new("--model", "evaluate: a classifier .safetensors written by 'classifier train'", "FILE"),
            new("--json", "evaluate: print one JSON object on stdout instead of text"),
            DeviceOption,
            CpuOpsOption,
        ],
        (options, token) =>
        {
            bool train = options.Flag("train"), evaluate = options.Flag("evaluate");
            if (train == evaluate)
                throw new UsageException("say 'classifier train' or 'classifier evaluate'");
            var foreign = (train ? ClassifierEvaluateOnly : ClassifierTrainOnly).FirstOrDefault(options.Given);
            if (foreign is not null)
                throw new UsageException($"option '{foreign}' is not for 'classifier {(train ? "train" : "evaluate")}'");
            return train ? ClassifierTrain(options, stdout, stderr, token) : ClassifierEvaluate(options, stdout, stderr, token);
        },
        "usage: ilgpu-vae classifier train [options]\n       ilgpu-vae classifier evaluate --model FILE [options]\n" +
        "The defaults (784-512-512-10, 10 epochs, batch 128, Adam 1e-3 with cosine decay) reach about 98.5% test accuracy.");

    private static int ClassifierTrain(ParsedOptions options, TextWriter stdout, TextWriter stderr, CancellationToken token)
    {
        var training = new ClassifierTrainingOptions
        {
            Epochs = options.Int("--epochs", 1),
            BatchSize = options.Int("--batch", 1),
            LearningRate = options.Float("--lr", 0, exclusiveMin: true),
            Schedule = options.Choice("--lr-schedule", new Dictionary<string, LearningRateSchedule>
            {
                ["cosine"] = LearningRateSchedule.Cosine, ["constant"] = LearningRateSchedule.Constant,
            }),
            Model = new ClassifierConfig(784, options.IntList("--hidden")),
            Seed = options.Int("--seed"),
            Limit = options.OptionalInt("--limit", 1),
        };
        training.Validate();
        string output = options.RequiredString("--out");
        // Fail on an unwritable destination now, not after the training.
        string? directory = Path.GetDirectoryName(Path.GetFullPath(output));
        if (directory is not null)
        {
            try
            {
                Directory.CreateDirectory(directory);
            }
            catch (IOException e)
            {
                throw new IOException($"{output}: cannot create its output directory: {e.Message}", e);
            }
        }
        var data = LoadData(options, stderr, token: token);
        using var device = OpenDevice(options);
        var clock = Stopwatch.StartNew();
        using var trainer = new ClassifierTrainer(device, data, training);
        stdout.WriteLine($"training classifier {training.Model} on {trainer.TrainCount} images, {training.Epochs} epochs of {trainer.StepsPerEpoch} steps (batch {training.BatchSize}, lr {training.LearningRate} {training.Schedule.ToString().ToLowerInvariant()})");
        stdout.WriteLine($"device: {device.Description}");
        var result = trainer.Train(new ClassifierProgressPrinter(stdout), token);
        switch (result.Outcome)
        {
            case TrainingOutcome.Cancelled:
                stderr.WriteLine(result.Message);
                return 130;
            case TrainingOutcome.Diverged:
                stderr.WriteLine($"error: {result.Message}");
                return 1;
        }
        trainer.Save(output);
        var last = trainer.History[^1];
        stdout.WriteLine($"done in {F(clock.Elapsed.TotalSeconds, "F1")} s (training {F(trainer.History.Sum(e => e.EpochSeconds), "F1")} s): test accuracy {F(100 * last.TestAccuracy)}%");
        stdout.WriteLine($"wrote {output}");
        return 0;
    }

    private static int ClassifierEvaluate(ParsedOptions options, TextWriter stdout, TextWriter stderr, CancellationToken token)
    {
        string path = options.RequiredString("--model");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such classifier file");
        var data = LoadData(options, stderr, token: token);
        using var device = OpenDevice(options);
        using var classifier = Classification.Classifier.Load(device, path);
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

    /// <summary>One line per finished epoch; a live line during the epoch when the output is a terminal.</summary>
    private sealed class ClassifierProgressPrinter(TextWriter output) : IProgress<ClassifierProgress>
    {
        private readonly bool _live = !Console.IsOutputRedirected && ReferenceEquals(output, Console.Out);

        public void Report(ClassifierProgress p)
        {
            if (p.Completed is { } m)
            {
                if (_live)
                    output.Write("\r" + new string(' ', Console.WindowWidth > 0 ? Console.WindowWidth - 1 : 100) + "\r");
                output.WriteLine($"epoch {m.Epoch}/{p.Epochs}  train loss {F(m.TrainLoss, "F4")}  test loss {F(m.TestLoss, "F4")}  test accuracy {F(100 * m.TestAccuracy)}%  {F(m.EpochSeconds)} s  {F(m.SamplesPerSecond, "F0")} samples/s");
                return;
            }
            if (!_live)
                return;
            if (p.TrainLoss is not double loss)
                return;
            output.Write($"\repoch {p.Epoch}/{p.Epochs} {p.Step}/{p.StepsPerEpoch}  loss {F(loss, "F4")}  {F(p.SamplesPerSecond, "F0")} samples/s ");
            output.Flush();
        }
    }
}
