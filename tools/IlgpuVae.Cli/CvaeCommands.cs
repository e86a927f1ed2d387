using System.Globalization;
using System.Text.Json;
using IlgpuVae.Classification;
using IlgpuVae.Conditional;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using IlgpuVae.Models;
using IlgpuVae.Training;

namespace IlgpuVae.Cli;

public static partial class Commands
{
    // Options that only some subcommands read; naming one with another subcommand is a usage error.
    private static readonly Dictionary<string, string[]> CvaeOptionsOf = new()
    {
        ["sample"] = ["--model", "--class", "--count", "--format", "--out", "--seed", "--scale", "--device", "--cpu-ops"],
        ["style"] = ["--model", "--count", "--out", "--data", "--device", "--cpu-ops"],
        ["agreement"] = ["--model", "--classifier", "--count", "--seed", "--scale", "--data", "--json", "--device", "--cpu-ops"],
    };

    private static CommandSpec CvaeCommand(TextWriter stdout, TextWriter stderr) => new("cvae",
        "a conditional VAE's digits on request: 'cvae sample', 'cvae style' (style transfer) or 'cvae agreement' (with a classifier)",
        [
            new("sample", "draw digits of the requested classes: one row per digit 0-9, or --count of one --class"),
            new("style", "style transfer: encode test digits with their labels, decode each as every digit (one row per input)"),
            new("agreement", "the test loss, and the share of generated digits a classifier assigns to the requested class"),
            new("--model", "a CVAE model.safetensors written by 'train --model cvae'", "FILE"),
            new("--class", "sample: only this digit (0-9)", "N"),
            new("--count", "sample: images per digit (default 10, or 64 with --class); style: test digits (default 10); agreement: images per digit (default 1000)", "N"),
            new("--format", "sample: png (a grid) or idx (MNIST-format images and their requested labels)", "KIND", "png"),
            new("--out", "sample: the .png, or with --format idx the prefix of PREFIX-images-idx3-ubyte and PREFIX-labels-idx1-ubyte (default cvae-samples[.png]); style: the .png (default cvae-style.png)", "PATH"),
            new("--seed", "sample, agreement: seed of the codes z", "N", "1"),
            new("--scale", "sample, agreement: draw z ~ N(0, s^2 I); 1 is the prior; agreement takes a list, e.g. 1,0.5,0", "S", "1"),
            new("--classifier", "agreement: a classifier .safetensors written by 'classifier train'", "FILE"),
            DataOption,
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        (options, token) =>
        {
            var chosen = CvaeOptionsOf.Keys.Where(options.Flag).ToArray();
            if (chosen.Length != 1)
                throw new UsageException("say 'cvae sample', 'cvae style' or 'cvae agreement'");
            string subcommand = chosen[0];
            var foreign = CvaeOptionsOf.Values.SelectMany(o => o).Distinct()
                .Where(o => !CvaeOptionsOf[subcommand].Contains(o)).FirstOrDefault(options.Given);
            if (foreign is not null)
                throw new UsageException($"option '{foreign}' is not for 'cvae {subcommand}'");
            return subcommand switch
            {
                "sample" => CvaeSample(options, stdout),
                "style" => CvaeStyle(options, stdout, stderr, token),
                _ => CvaeAgreement(options, stdout, stderr, token),
            };
        },
        "usage: ilgpu-vae cvae sample --model FILE [--class N] [--count N] [--format png|idx] [--out PATH]\n" +
        "       ilgpu-vae cvae style --model FILE [--count N] [--out FILE.png]\n" +
        "       ilgpu-vae cvae agreement --model FILE --classifier FILE [--count N] [--scale LIST] [--json]\n" +
        "Agreement decodes codes z ~ N(0, s^2 I) with each label 0-9 and counts how often the classifier sees that digit.");

    private static int CvaeSample(ParsedOptions options, TextWriter stdout)
    {
        string path = options.RequiredString("--model");
        int? only = options.OptionalInt("--class");
        int count = options.OptionalInt("--count", 1) ?? (only is null ? 10 : 64);
        float scale = Scales(options).Single();
        ulong seed = (ulong)options.Int("--seed", 0);
        bool idx = options.Choice("--format", new Dictionary<string, bool> { ["png"] = false, ["idx"] = true });
        string output = options.String("--out") ?? (idx ? "cvae-samples" : "cvae-samples.png");
        using var device = OpenDevice(options);
        using var model = LoadConditional(device, path);
        int classes = model.Config.Classes;
        if (only is int requested && (requested < 0 || requested >= classes))
            throw new UsageException($"--class {requested} is outside 0-{classes - 1}");
        var rows = only is int digit ? [digit] : Enumerable.Range(0, classes).ToArray();
        var (images, labels) = ConditionalGeneration.Sample(model, rows, count, seed, scale);
        if (idx)
        {
            string imagesPath = output + "-images-idx3-ubyte", labelsPath = output + "-labels-idx1-ubyte";
            CreateParentDirectory(imagesPath);
            int side = (int)Math.Round(Math.Sqrt(model.Config.InputSize));
            IdxWriter.WriteImages(imagesPath, ToBytes(images), labels.Length, side, model.Config.InputSize / side);
            IdxWriter.WriteLabels(labelsPath, labels.Select(l => (byte)l).ToArray());
            stdout.WriteLine($"wrote {imagesPath} and {labelsPath}: {labels.Length} generated digits and their requested labels");
            return 0;
        }
        CreateParentDirectory(output);
        string where = scale == 1f ? "z ~ N(0, I)" : $"z ~ N(0, {F(scale)}^2 I)";
        if (only is int single)
        {
            int columns = (int)Math.Ceiling(Math.Sqrt(count));
            DigitGrid.Save(output, images, (count + columns - 1) / columns, columns,
                new GridLabels { Title = $"CVAE samples of digit {single}, {where}" });
        }
        else
        {
            DigitGrid.Save(output, images, rows.Length, count, new GridLabels
            {
                Title = $"CVAE samples, one row per requested digit, {where}",
                RowLabels = rows.Select(r => (string?)$"digit {r}").ToArray(),
            });
        }
        stdout.WriteLine($"wrote {output}: {labels.Length} generated digits ({(only is int d ? $"digit {d}" : $"{count} of each digit 0-{classes - 1}")})");
        return 0;
    }

    private static int CvaeStyle(ParsedOptions options, TextWriter stdout, TextWriter stderr, CancellationToken token)
    {
        string path = options.RequiredString("--model");
        int count = options.OptionalInt("--count", 1) ?? 10;
        string output = options.String("--out") ?? "cvae-style.png";
        var data = LoadData(options, stderr, token: token);
        if (count > data.Test.Count)
            throw new UsageException($"--count {count} is more than the {data.Test.Count} test images");
        using var device = OpenDevice(options);
        using var model = LoadConditional(device, path);
        int d = model.Config.InputSize, classes = model.Config.Classes;
        var images = data.Test.Images.AsSpan(0, count * d).ToArray().Select(p => p / 255f).ToArray();
        var labels = data.Test.Labels.Take(count).Select(l => (int)l).ToArray();
        var transferred = ConditionalGeneration.TransferStyle(model, images, labels);
        // One row per input: the test digit itself, then its code decoded as every digit.
        var grid = new float[count * (classes + 1) * d];
        for (int i = 0; i < count; i++)
        {
            images.AsSpan(i * d, d).CopyTo(grid.AsSpan(i * (classes + 1) * d));
            transferred.AsSpan(i * classes * d, classes * d).CopyTo(grid.AsSpan((i * (classes + 1) + 1) * d));
        }
        CreateParentDirectory(output);
        DigitGrid.Save(output, grid, count, classes + 1, new GridLabels
        {
            Title = "Style transfer: each test digit (left) decoded as 0-9",
            ColumnLabels = ["input", .. Enumerable.Range(0, classes).Select(c => c.ToString(CultureInfo.InvariantCulture))],
        });
        stdout.WriteLine($"wrote {output}: {count} test digits, each decoded as 0-{classes - 1}");
        return 0;
    }

    private static int CvaeAgreement(ParsedOptions options, TextWriter stdout, TextWriter stderr, CancellationToken token)
    {
        string path = options.RequiredString("--model");
        string classifierPath = options.RequiredString("--classifier");
        int perClass = options.OptionalInt("--count", 1) ?? 1000;
        var scales = Scales(options);
        ulong seed = (ulong)options.Int("--seed", 0);
        if (!File.Exists(classifierPath))
            throw new FileNotFoundException($"{classifierPath}: no such classifier file");
        var data = LoadData(options, stderr, token: token);
        using var device = OpenDevice(options);
        using var model = LoadConditional(device, path);
        using var classifier = Classifier.Load(device, classifierPath);
        var loss = model.Evaluate(data.Test, seed);
        var results = scales.Select(s => ConditionalAgreement.Measure(model, classifier, perClass, seed, s)).ToArray();
        string? classifierAccuracy = SafeTensorsMetadata(classifierPath).GetValueOrDefault("test_accuracy");
        if (options.Flag("--json"))
        {
            stdout.WriteLine(JsonSerializer.Serialize(new
            {
                model = path, config = model.Config.ToString(), test_images = data.Test.Count,
                test_loss = loss.Loss, test_reconstruction = loss.Reconstruction, test_kl = loss.Kl,
                classifier = classifierPath, classifier_test_accuracy = classifierAccuracy is null ? (double?)null : double.Parse(classifierAccuracy, CultureInfo.InvariantCulture),
                samples_per_class = perClass, seed,
                agreement = results.Select(r => new { scale = r.PriorScale, overall = r.Overall, per_class = r.PerClass, confusion = r.Confusion }),
            }));
            return 0;
        }
        int classes = model.Config.Classes;
        stdout.WriteLine($"{model.Config} on {data.Test.Count} test images:");
        stdout.WriteLine($"  test loss {F(loss.Loss, "F4")} per image (reconstruction {F(loss.Reconstruction, "F4")} + KL {F(loss.Kl, "F4")})");
        stdout.WriteLine($"conditional agreement: {perClass} generated digits per class, judged by {classifierPath}" +
            (classifierAccuracy is null ? "" : $" ({F(100 * double.Parse(classifierAccuracy, CultureInfo.InvariantCulture))}% on the test set)"));
        stdout.WriteLine($"  {"z ~",-16} {"overall",8} " + string.Join(" ", Enumerable.Range(0, classes).Select(c => $"{c,6}")));
        foreach (var r in results)
        {
            string where = r.PriorScale == 1f ? "N(0, I)" : $"N(0, {F(r.PriorScale)}^2 I)";
            stdout.WriteLine($"  {where,-16} {F(100 * r.Overall, "F1") + "%",8} " + string.Join(" ", r.PerClass.Select(a => $"{F(100 * a, "F1") + "%",6}")));
        }
        return 0;
    }

    private static VaeModel LoadConditional(Compute.ComputeDevice device, string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such model file");
        var model = VaeModel.Load(device, path);
        if (!model.Config.IsConditional)
        {
            model.Dispose();
            throw new InvalidDataException($"{path}: holds a {model.Config} model, which takes no labels; train one with 'train --model cvae'");
        }
        return model;
    }

    private static float[] Scales(ParsedOptions options)
    {
        string text = options.RequiredString("--scale");
        var scales = text.Split(',', StringSplitOptions.TrimEntries).Select(part =>
            float.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out float s) && float.IsFinite(s) && s >= 0
                ? s
                : throw new UsageException($"option '--scale' expects numbers >= 0, got '{text}'")).ToArray();
        if (scales.Length > 1 && !options.Flag("agreement"))
            throw new UsageException($"option '--scale' takes one number here, got '{text}'");
        return scales;
    }

    private static IReadOnlyDictionary<string, string> SafeTensorsMetadata(string path) =>
        Checkpoints.SafeTensors.ReadHeader(path).Metadata;

    private static byte[] ToBytes(float[] pixels) =>
        pixels.Select(p => (byte)Math.Clamp(MathF.Round(p * 255f), 0f, 255f)).ToArray();

    private static void CreateParentDirectory(string path)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
    }
}
