using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

/// <summary>Issue 22's first two cases: a run directory's run is never replaced by accident, and nothing planted in it
/// as a link makes us write outside it.</summary>
public sealed class RunDirectorySafetyCliTests
{
    private static string[] Train(string run, params string[] more) =>
        ["train", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "200", "--hidden", "8", "--latent", "2",
         "--batch", "50", "--device", "cpu", "--out", run, .. more];

    // Case 1: a new run into a directory that holds one (finished here) is a usage error naming --resume and
    // --overwrite, and leaves that run as it was; --overwrite starts over on purpose.
    [MnistFact]
    public void NewRun_IntoADirectoryHoldingARun_IsRefused_UnlessOverwrite()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var (code, _, err) = Run(Train(run));
        Assert.True(code == 0, err);
        byte[] model = File.ReadAllBytes(Path.Combine(run, RunDirectory.ModelFile));
        byte[] state = File.ReadAllBytes(Path.Combine(run, RunDirectory.StateFile));

        (code, _, err) = Run(Train(run, "--seed", "2"));
        Assert.Equal(2, code);
        AssertOneLineError(err, "already holds a run");
        Assert.Contains($"--resume {run}", err);
        Assert.Contains("--overwrite", err);
        Assert.Equal(model, File.ReadAllBytes(Path.Combine(run, RunDirectory.ModelFile)));
        Assert.Equal(state, File.ReadAllBytes(Path.Combine(run, RunDirectory.StateFile)));

        (code, _, err) = Run(Train(run, "--seed", "2", "--overwrite"));
        Assert.True(code == 0, err);
        Assert.NotEqual(model, File.ReadAllBytes(Path.Combine(run, RunDirectory.ModelFile)));
        Assert.Contains("\"seed\": 2,", File.ReadAllText(Path.Combine(run, RunDirectory.ConfigFile)));
    }

    // The library refuses the same, so an app cannot lose a run by accident either.
    [MnistFact]
    public void Library_NewTrainerIntoARun_Throws_UnlessOverwrite()
    {
        using var dir = new TempDirectory();
        var data = IlgpuVae.Data.ImageData.Load(TestData.MnistDirectory!, trainLimit: 100, testLimit: 50);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 50, Model = new IlgpuVae.Models.VaeConfig(784, [8], 2) };
        var device = Compute.OpsHarness.Device("vectorized");
        using (var first = new VaeTrainer(device, data, options, dir.Path))
            first.Train();
        Assert.True(VaeTrainer.HoldsRun(dir.Path));
        var e = Assert.Throws<IOException>(() =>
        {
            using var refused = new VaeTrainer(device, data, options, dir.Path);
        });
        Assert.Contains("already holds a run", e.Message);
        Assert.True(File.Exists(dir.File(RunDirectory.StateFile)));
        using (var again = new VaeTrainer(device, data, options with { Seed = 9 }, dir.Path, overwrite: true))
        {
            Assert.False(File.Exists(dir.File(RunDirectory.StateFile)));
            again.Train();
        }
        Assert.True(File.Exists(dir.File(RunDirectory.StateFile)));
    }

    // Overwriting deletes files by name, so it deletes only files that ilgpu-vae wrote: another program's config.json,
    // metrics.csv and model.safetensors, or one of theirs among ours, are refused (the CLI before it loads anything,
    // exit 2) and left as they were, however often asked. A run of ours stopped before its first checkpoint
    // (config.json only) or with its state damaged still starts over; a damaged state alone shows nothing.
    [MnistFact]
    public void Overwrite_DeletesOnlyARunOfOurs()
    {
        using var dir = new TempDirectory();
        var data = IlgpuVae.Data.ImageData.Load(TestData.MnistDirectory!, trainLimit: 100, testLimit: 50);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 50, Model = new IlgpuVae.Models.VaeConfig(784, [8], 2) };
        var device = Compute.OpsHarness.Device("vectorized");
        void Refused(string directory, params string[] named)
        {
            foreach (int attempt in new[] { 1, 2 })
            {
                // A refusal leaves the lock file behind; that makes nothing ours.
                var e = Assert.Throws<IOException>(() =>
                {
                    using var refused = new VaeTrainer(device, data, options, directory, overwrite: true);
                });
                Assert.Contains("that ilgpu-vae cannot confirm it wrote", e.Message);
                foreach (string name in named)
                    Assert.Contains(name, e.Message);
                Assert.Equal(e.Message, VaeTrainer.OverwriteRefusal(directory));
            }
        }

        string foreign = dir.File("foreign");
        Directory.CreateDirectory(foreign);
        var theirs = new Dictionary<string, string>
        {
            [RunDirectory.ConfigFile] = "{\"their\": \"settings\"}\n",
            [RunDirectory.MetricsFile] = "step,loss\n1,0.5\n",
            [RunDirectory.ModelFile] = "not a safetensors file of ours",
        };
        foreach (var (name, text) in theirs)
            File.WriteAllText(Path.Combine(foreign, name), text);
        Refused(foreign, RunDirectory.ConfigFile, RunDirectory.MetricsFile, RunDirectory.ModelFile);
        var (code, _, err) = Run(Train(foreign, "--overwrite"));
        Assert.Equal(2, code);
        AssertOneLineError(err, "cannot confirm it wrote");
        foreach (var (name, text) in theirs)
            Assert.Equal(text, File.ReadAllText(Path.Combine(foreign, name)));

        string ours = dir.File("ours");
        using (var first = new VaeTrainer(device, data, options, ours))
            first.Train();
        string config = Path.Combine(ours, RunDirectory.ConfigFile);
        string ourConfig = File.ReadAllText(config);
        // Their config.json among our files: refused, naming it alone.
        File.WriteAllText(config, theirs[RunDirectory.ConfigFile]);
        Refused(ours, RunDirectory.ConfigFile);
        Assert.DoesNotContain(RunDirectory.MetricsFile, VaeTrainer.OverwriteRefusal(ours));
        Assert.Equal(theirs[RunDirectory.ConfigFile], File.ReadAllText(config));
        // A link shows nothing, even to a config of ours.
        if (!OperatingSystem.IsWindows())
        {
            string elsewhere = dir.File("our-config.json");
            File.WriteAllText(elsewhere, ourConfig);
            File.Delete(config);
            File.CreateSymbolicLink(config, elsewhere);
            Refused(ours, RunDirectory.ConfigFile);
            File.Delete(config);
        }
        File.WriteAllText(config, ourConfig);
        // Stopped before its first checkpoint: config.json (and the lock).
        File.Delete(Path.Combine(ours, RunDirectory.StateFile));
        File.Delete(Path.Combine(ours, RunDirectory.ModelFile));
        File.Delete(Path.Combine(ours, RunDirectory.MetricsFile));
        Assert.Null(VaeTrainer.OverwriteRefusal(ours));
        using (var again = new VaeTrainer(device, data, options with { Seed = 9 }, ours, overwrite: true))
            again.Train();
        // The state damaged (and config.json gone): the model and the metrics still say whose it is.
        File.Delete(config);
        File.WriteAllText(Path.Combine(ours, RunDirectory.StateFile), "damaged");
        using (var third = new VaeTrainer(device, data, options with { Seed = 10 }, ours, overwrite: true))
            third.Train();
        Assert.Contains("\"seed\": 10", File.ReadAllText(config));
        // A damaged state alone shows nothing.
        foreach (string name in new[] { RunDirectory.ConfigFile, RunDirectory.ModelFile, RunDirectory.MetricsFile })
            File.Delete(Path.Combine(ours, name));
        File.WriteAllText(Path.Combine(ours, RunDirectory.StateFile), "damaged");
        Refused(ours, RunDirectory.StateFile);
    }

    // Case 2: a lock planted as a link to a file outside the run is refused, and that file is left untouched.
    [MnistFact]
    public void Resume_WithTheLockALinkOutside_IsRefused_AndTheTargetUntouched()
    {
        if (OperatingSystem.IsWindows())
            return;
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var (code, _, err) = Run(Train(run));
        Assert.True(code == 0, err);
        string victim = dir.File("victim.txt");
        File.WriteAllText(victim, "precious\n");
        string lockPath = Path.Combine(run, RunDirectory.LockFile);
        File.Delete(lockPath);
        File.CreateSymbolicLink(lockPath, victim);

        (code, _, err) = Run("train", "--resume", run, "--epochs", "2", "--data", TestData.MnistDirectory!);
        Assert.Equal(1, code);
        AssertOneLineError(err, "not a regular file");
        Assert.Equal("precious\n", File.ReadAllText(victim));

        // A directory where the lock should be is refused the same way.
        File.Delete(lockPath);
        Directory.CreateDirectory(lockPath);
        (code, _, err) = Run("train", "--resume", run, "--epochs", "2", "--data", TestData.MnistDirectory!);
        Assert.Equal(1, code);
        AssertOneLineError(err, "not a regular file");

        // Case 8: so is a FIFO (it failed on "Stream does not support seeking", naming nothing).
        Directory.Delete(lockPath);
        HostileDataTests.Fifo(lockPath);
        (code, _, err) = Run("train", "--resume", run, "--epochs", "2", "--data", TestData.MnistDirectory!);
        Assert.Equal(1, code);
        AssertOneLineError(err, $"{lockPath}: not a regular file (a FIFO)");
    }
}
