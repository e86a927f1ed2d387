using System.CommandLine;
using System.Globalization;
using System.Text;
using IlgpuVae.Models;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>score</c>: an anomaly score per image, as CSV in the set's order (the library's VaeModel.Score).</summary>
public static class ScoreCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("score",
        "write an anomaly score per image of the test set (or --set train), or for a model of vectors per row of --data FILE.csv|.npy " +
        "(every row, standardised as in training), in input order, as CSV: the negative ELBO " +
        "in nats, or with --iw-samples K the importance-weighted negative log-likelihood; high means unlike the training data",
        [
            ModelOption,
            .. DataOptions,
            new("--set", "the images to score: test or train", "NAME", "test"),
            new("--iw-samples", "K > 0: score by the importance-weighted -log p(x) with K posterior samples; 0: the negative ELBO (one sample)", "K", "0"),
            new("--posterior-mean", "decode the posterior mean (z = mu) instead of a sample: deterministic scores of the " +
                "pixels as they are (p / 255, no dequantisation), for comparing with another implementation"),
            SeedOption("seed of the posterior samples", "1"),
            OutOption("the CSV file (default: standard output)"),
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli));

    private static int Run(ParsedOptions options, CliContext cli)
    {
        var (stdout, stderr, token) = cli;
        bool train = options.Choice("--set", new Dictionary<string, bool> { ["test"] = false, ["train"] = true });
        int samples = options.Int("--iw-samples", 0, VaeModel.MaxImportanceSamples);
        int seed = options.Int("--seed");
        bool mean = options.Flag("--posterior-mean");
        if (mean && samples > 0)
            throw new UsageException("--posterior-mean scores the negative ELBO at z = mu; --iw-samples draws samples");
        string path = ModelPath(options);
        string? output = options.String("--out");
        using var device = OpenDevice(options);
        using var model = VaeModel.Load(device, path);
        string? given = options.String("--data");
        bool vectors = model.Config.InputMean is not null;
        Data.ImageSet set;
        if (vectors)
        {
            // A model of vectors scores every row of the file it is given, in order: no split.
            if (given is null || !(given.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || given.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)))
                throw new UsageException("the model was trained on vectors: give --data FILE.csv or FILE.npy of its columns");
            if (options.Given("--set") || options.Given("--test-fraction"))
                throw new UsageException("a model of vectors scores every row of --data; --set and --test-fraction are for images");
            if (mean)
                throw new UsageException("--posterior-mean is for images (pixels as they are); score vectors without it");
            if (!File.Exists(given))
                throw new UsageException($"--data: no such file '{given}'");
            set = DataLoadException.Run(() => Data.ImageData.LoadVectorSet(given, options.String("--label-column")));
        }
        else
        {
            var data = LoadData(options, stderr, token: token);
            set = model.ImagesAsTrained(train ? data.Train : data.Test);
        }
        model.CheckCompatible(set);
        float[] scores = mean
            ? model.Score(set.Gather([.. Enumerable.Range(0, set.Count)]),
                model.Config.IsConditional ? set.Labels.Select(l => (int)l).ToArray() : default).Loss
            : model.Score(set, samples, seed, token);
        var csv = new StringBuilder(samples > 0 ? "index,label,neg_log_likelihood\n" : "index,label,neg_elbo\n");
        for (int i = 0; i < scores.Length; i++)
            csv.Append(CultureInfo.InvariantCulture, $"{i},{(set.HasLabels ? set.Labels[i].ToString(CultureInfo.InvariantCulture) : "")},{scores[i]:R}\n");
        if (output is null)
        {
            stdout.Write(csv.ToString());
            return 0;
        }
        WriteTextAtomically(output, csv.ToString());
        stderr.WriteLine($"wrote {scores.Length} scores of the {(vectors ? "rows of " + given : train ? "training images" : "test images")} to {output}");
        return 0;
    }
}
