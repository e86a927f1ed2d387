using System.CommandLine;
using IlgpuVae.Imaging;
using IlgpuVae.Models;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>latent</c>: scatter plots of the test set's latent means.</summary>
public static class LatentCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("latent",
        "scatter plot of the test set's latent means coloured by digit: the codes themselves for Z=2, PCA (and optionally t-SNE) for Z>2",
        [
            ModelOption,
            .. DataOptions,
            new("--tsne", "for Z>2, also a t-SNE plot of this many random test means (0: none; exact t-SNE, quadratic cost)", "N", "0"),
            SeedOption("seed of the t-SNE subset", "0"),
            OutOption("output file (default: latent.png beside the model; the t-SNE plot goes beside it as latent-tsne.png)"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli));

    private static int Run(ParsedOptions options, CliContext cli)
    {
        var (stdout, stderr, token) = cli;
        int tsne = options.Int("--tsne", 0), seed = options.Int("--seed");
        if (tsne > LatentPlots.MaxTsnePoints)
            throw new UsageException($"--tsne takes at most {LatentPlots.MaxTsnePoints} points (exact t-SNE holds n x n matrices), got {tsne}");
        string path = ModelPath(options);
        using var device = OpenDevice(options);
        var data = LoadData(options, stderr, trainLimit: 1, token: token);
        using var model = VaeModel.Load(device, path);
        model.CheckCompatible(data.Test);
        if (model.Config.Latent < 2)
            throw new UsageException($"a latent scatter plot needs Z >= 2; {path} has Z = 1");
        var means = model.LatentMeans(data.Test);
        string output = options.String("--out") ?? BesideModel(path, "latent.png");
        var plots = LatentPlots.Write(output, means, data.Test.Labels.Select(l => (int)l).ToArray(), model.Config.Latent,
            $"{model.Config}: test-set latent means{(data.HasLabels ? "" : " (no labels: one colour)")}", tsne, seed);
        string summary = string.Join(Environment.NewLine, plots.Select(p => $"wrote {p.Method} plot of {p.Points} test means to {p.Path}" +
            (p.ExplainedVarianceRatio is { } r ? $" (PC1 {Percent(r[0])}, PC2 {Percent(r[1])} of the variance)" : "")));
        Report(options, stdout, path, plots.Select(p => p.Path).ToArray(), summary,
            new { plots = plots.Select(p => new { path = p.Path, method = p.Method, title = p.Title, points = p.Points, explained_variance_ratio = p.ExplainedVarianceRatio }) });
        return 0;
    }
}
