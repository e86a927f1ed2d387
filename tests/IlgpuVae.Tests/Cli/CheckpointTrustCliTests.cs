using System.Globalization;
using IlgpuVae.Checkpoints;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// Issue 22's cases 4, 5 and 13 at the command line: a resume checks the data by content, not by its directory's name;
/// an edited or damaged training state is refused (its checksum, its counters, its metrics, its format version); a lost
/// state is reported as lost; unknown model kinds and likelihoods are refused. Each refusal is one line naming the file,
/// exit code 1, and leaves the run's files as they were.
/// </summary>
public sealed class CheckpointTrustCliTests
{
    private static readonly string[] Small = ["--limit", "300", "--batch", "100", "--hidden", "16", "--latent", "2", "--device", "cpu"];

    // A finished two-epoch run of 3 steps an epoch in dir/run, trained on `data`.
    private static string TrainedRun(TempDirectory dir, string? data = null, string name = "run", int epochs = 2)
    {
        string run = dir.File(name);
        var (code, _, err) = Run(["train", "--data", data ?? TestData.MnistDirectory!, "--epochs", epochs.ToString(CultureInfo.InvariantCulture),
            "--out", run, .. Small]);
        Assert.True(code == 0, err);
        return run;
    }

    private static (int Code, string Out, string Err) Resume(string run, string? data = null, int epochs = 3) =>
        Run("train", "--resume", run, "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--data", data ?? TestData.MnistDirectory!,
            "--device", "cpu");

    // A copy of the MNIST files in dir/<parent>/<name>; with `otherImages`, its training files are the test set's (other
    // images, the same name and layout).
    private static string CopyOfMnist(TempDirectory dir, string parent, string name, bool otherImages = false)
    {
        string target = Path.Combine(dir.File(parent), name);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(TestData.MnistDirectory!))
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        if (otherImages)
            foreach (var file in Directory.GetFiles(target, "train-*"))
                File.Copy(Path.Combine(target, Path.GetFileName(file).Replace("train-", "t10k-", StringComparison.Ordinal)), file, overwrite: true);
        return target;
    }

    // Rewrites the run's state with `edit` applied to its metadata and tensors; keepChecksum: false also drops the
    // checksum, as a state written before checksums existed has none.
    private static void EditState(string run, Action<Dictionary<string, string>, List<NamedTensor>> edit, bool keepChecksum = true)
    {
        string path = Path.Combine(run, RunDirectory.StateFile);
        var state = SafeTensors.Read(path);
        var metadata = state.Metadata.ToDictionary();
        var tensors = state.Tensors.Select(t => t with { Data = (float[])t.Data.Clone() }).ToList();
        edit(metadata, tensors);
        if (!keepChecksum)
            metadata.Remove(RunDirectory.ChecksumKey);
        SafeTensors.Write(path, metadata, tensors);
    }

    private static void SetMetadata(string run, string key, string value, bool keepChecksum = true) =>
        EditState(run, (metadata, _) => metadata[key] = value, keepChecksum);

    // The run's files, byte for byte: a refusal changes none of them.
    private static Dictionary<string, byte[]> Files(string run) =>
        Directory.GetFiles(run).Where(f => Path.GetFileName(f) != RunDirectory.LockFile)
            .ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    private static void AssertRefused(string run, (int Code, string Out, string Err) result, string fragment, Dictionary<string, byte[]> before)
    {
        Assert.True(result.Code == 1, $"exit {result.Code}: {result.Err}");
        AssertOneLineError(result.Err, Path.Combine(run, RunDirectory.StateFile) + ": ");
        AssertOneLineError(result.Err, fragment);
        Assert.Equal(before, Files(run));
    }

    // Case 4: other images under the data set's name are refused; the same images under another name resume.
    [MnistFact]
    public void Resume_ChecksTheDataByContent_NotByName()
    {
        using var dir = new TempDirectory();
        string run = TrainedRun(dir, CopyOfMnist(dir, "a", "mnist"));
        string other = CopyOfMnist(dir, "b", "mnist", otherImages: true);
        var before = Files(run);
        AssertRefused(run, Resume(run, other),
            "the training data differs from what the run trained on", before);
        var (code, _, err) = Resume(run, CopyOfMnist(dir, "c", "digits"));
        Assert.True(code == 0, err);
        Assert.Equal(3, new RunDirectory(run).ReadMetrics().Count);
    }

    // Case 4: the fingerprint is of the images the run uses (after --limit), and lands in the model file too.
    [MnistFact]
    public void Fingerprint_IsOfTheImagesAsUsed_InStateAndModel()
    {
        using var dir = new TempDirectory();
        string run = TrainedRun(dir);
        var data = IlgpuVae.Data.ImageData.Load(TestData.MnistDirectory!);
        string expected = DataFingerprint.Of(data.Train.Take(300));
        Assert.Equal(expected, DataFingerprint.Of(data.Train.Take(300)));
        Assert.NotEqual(expected, DataFingerprint.Of(data.Train.Take(301)));
        foreach (var file in new[] { RunDirectory.StateFile, RunDirectory.ModelFile })
        {
            var metadata = SafeTensors.ReadHeader(Path.Combine(run, file)).Metadata;
            Assert.Equal(expected, metadata[DataFingerprint.TrainKey]);
            Assert.Equal(DataFingerprint.Of(data.Test), metadata[DataFingerprint.TestKey]);
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        DataFingerprint.Of(data.Train);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"60,000 images took {clock.Elapsed}");
    }

    // Case 4: a state written before the fingerprints falls back to the data set's name.
    [MnistFact]
    public void Resume_OfAStateWithoutFingerprints_ChecksTheName()
    {
        using var dir = new TempDirectory();
        string run = TrainedRun(dir, CopyOfMnist(dir, "a", "mnist"));
        EditState(run, (metadata, _) =>
        {
            metadata.Remove(DataFingerprint.TrainKey);
            metadata.Remove(DataFingerprint.TestKey);
        }, keepChecksum: false);
        string renamed = CopyOfMnist(dir, "c", "digits");
        var before = Files(run);
        AssertRefused(run, Resume(run, renamed), "the run trained on mnist, and these images are digits", before);
    }

    // Case 5: any edit of a state that carries a checksum is refused, whatever it touches.
    [MnistTheory]
    [InlineData("epoch", "1000")]
    [InlineData("step_in_epoch", "500")]
    [InlineData("global_step", "-5")]
    [InlineData("epoch_seconds", "-100")]
    [InlineData("metrics", "epoch,train_loss,test_loss,test_recon,test_kl,epoch_seconds,samples_per_second\n1,NaN,-3,1,1,-1,-9\n")]
    [InlineData("flip", "")]
    public void Resume_OfAnEditedState_FailsItsChecksum(string key, string value)
    {
        using var dir = new TempDirectory();
        string run = TrainedRun(dir);
        if (key == "flip")
            EditState(run, (_, tensors) =>
            {
                // An exponent bit of one weight: the value changes by a large factor, the file still parses.
                var weights = tensors.First(t => t.Name.StartsWith(RunDirectory.WeightsPrefix, StringComparison.Ordinal)).Data;
                weights[0] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(weights[0]) ^ (1 << 27));
            });
        else
            SetMetadata(run, key, value);
        var before = Files(run);
        AssertRefused(run, Resume(run), "checksum mismatch", before);
    }

    // Case 5: a state without a checksum (as written before it existed) still has its counters and metrics checked
    // against the run: 2 epochs of 3 steps, finished.
    [MnistTheory]
    [InlineData("epoch", "1000", "epoch 1000 is not in 1 to 3")]
    [InlineData("epoch", "0", "epoch 0 is not in 1 to 3")]
    [InlineData("step_in_epoch", "500", "step_in_epoch 500 is not in 0 to 2")]
    [InlineData("step_in_epoch", "1", "step_in_epoch 1 is after the run's last epoch")]
    [InlineData("global_step", "-5", "global_step -5 is not 6")]
    [InlineData("adam_step", "4", "adam_step 4 is not global_step 6")]
    [InlineData("epoch_seconds", "-100", "epoch_seconds -100 is not a duration")]
    [InlineData("epoch_seconds", "NaN", "epoch_seconds NaN is not a duration")]
    [InlineData("epoch", "99999999999", "counters are not numbers")]
    [InlineData("format_version", "3", "format version '3' is not one this version of ilgpu-vae reads")]
    [InlineData("format", "ilgpu-vae", "metadata 'format' is 'ilgpu-vae'")]
    [InlineData("metrics", "epoch,train_loss,test_loss,test_recon,test_kl,epoch_seconds,samples_per_second\n1,NaN,1,1,1,1,1\n2,1,1,1,1,1,1\n", "(train_loss 'NaN')")]
    [InlineData("metrics", "epoch,train_loss,test_loss,test_recon,test_kl,epoch_seconds,samples_per_second\n1,1,1,1,1,-1,1\n2,1,1,1,1,1,1\n", "(epoch_seconds '-1')")]
    [InlineData("metrics", "epoch,train_loss,test_loss,test_recon,test_kl,epoch_seconds,samples_per_second\n2,1,1,1,1,1,1\n1,1,1,1,1,1,1\n", "row of epoch 1 follows that of epoch 2")]
    [InlineData("metrics", "epoch,train_loss,test_loss,test_recon,test_kl,epoch_seconds,samples_per_second\n1,1,1,1,1,1,1\n", "holds epochs [1], not 1 to 2")]
    public void Resume_OfAnOldStateWithBadCounters_IsRefused(string key, string value, string fragment)
    {
        using var dir = new TempDirectory();
        string run = TrainedRun(dir);
        SetMetadata(run, key, value, keepChecksum: false);
        var before = Files(run);
        AssertRefused(run, Resume(run), fragment, before);
    }

    // Case 5: a state without a checksum whose counters hold still resumes.
    [MnistFact]
    public void Resume_OfAStateWithoutChecksum_StillResumes()
    {
        using var dir = new TempDirectory();
        string run = TrainedRun(dir);
        EditState(run, (_, _) => { }, keepChecksum: false);
        var (code, _, err) = Resume(run);
        Assert.True(code == 0, err);
        Assert.Equal(3, new RunDirectory(run).ReadMetrics().Count);
        // The resume's saves carry a checksum again.
        Assert.StartsWith("sha256:", SafeTensors.ReadHeader(Path.Combine(run, RunDirectory.StateFile)).Metadata[RunDirectory.ChecksumKey]);
    }

    // Case 5: the checksum is the same for the same contents however the file lays them out, and covers every part.
    [Fact]
    public void Checksum_CoversMetadataAndTensors()
    {
        var metadata = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" };
        NamedTensor[] tensors = [new("x", [2], [1f, 2f]), new("y", [], [3f])];
        string checksum = RunDirectory.Checksum(metadata, tensors);
        Assert.Equal(checksum, RunDirectory.Checksum(new Dictionary<string, string> { ["b"] = "2", ["a"] = "1", [RunDirectory.ChecksumKey] = "x" }, tensors.Reverse()));
        Assert.NotEqual(checksum, RunDirectory.Checksum(new Dictionary<string, string> { ["a"] = "1", ["b"] = "3" }, tensors));
        Assert.NotEqual(checksum, RunDirectory.Checksum(metadata, [new("x", [2], [1f, 2.0000002f]), tensors[1]]));
        Assert.NotEqual(checksum, RunDirectory.Checksum(metadata, [new("x", [1, 2], [1f, 2f]), tensors[1]]));
        Assert.NotEqual(checksum, RunDirectory.Checksum(metadata, [new("z", [2], [1f, 2f]), tensors[1]]));
    }

    // Case 13 (a): a lost state is reported as lost, not as a run that never finished an epoch.
    [MnistFact]
    public void Resume_WithTheStateDeleted_SaysItIsMissingThoughEpochsFinished()
    {
        using var dir = new TempDirectory();
        string run = TrainedRun(dir);
        File.Delete(Path.Combine(run, RunDirectory.StateFile));
        var before = Files(run);
        var result = Resume(run);
        AssertRefused(run, result, "missing, though model.safetensors and metrics.csv show 2 epochs finished", before);
        Assert.Contains("cannot be resumed exactly", result.Err);
        Assert.DoesNotContain("no epoch of this run finished", result.Err);
    }

    // Case 13 (b): a model file naming an unknown kind or likelihood, or a kind its other keys contradict, is refused.
    [MnistTheory]
    [InlineData("model", "gan", "metadata 'model' is 'gan', not vae, cvae, conv-vae or conv-cvae")]
    [InlineData("model", "cvae", "metadata 'model' is 'cvae', but the other metadata describe a vae")]
    // (A Gaussian model is one now: a likelihood no version knows.)
    [InlineData("likelihood", "poisson", "metadata 'likelihood' is 'poisson', not bernoulli-logits, continuous-bernoulli or gaussian")]
    public void Evaluate_ModelOfAnUnknownKindOrLikelihood_IsRefused(string key, string value, string fragment)
    {
        using var dir = new TempDirectory();
        string run = TrainedRun(dir, epochs: 1);
        string path = Path.Combine(run, RunDirectory.ModelFile);
        var model = SafeTensors.Read(path);
        SafeTensors.Write(path, new Dictionary<string, string>(model.Metadata) { [key] = value }, model.Tensors);
        var (code, _, err) = Run("evaluate", "--model", path, "--data", TestData.MnistDirectory!, "--iw-samples", "0", "--no-clustering",
            "--device", "cpu");
        Assert.True(code == 1, $"exit {code}: {err}");
        AssertOneLineError(err, path + ": " + fragment);
    }

    // Case 13 (b): the state's options naming an unknown model kind are refused too.
    [MnistFact]
    public void Resume_StateOfAnUnknownModelKind_IsRefused()
    {
        using var dir = new TempDirectory();
        string run = TrainedRun(dir);
        EditState(run, (metadata, _) => metadata["config"] = metadata["config"].Replace("\"model\": \"vae\"", "\"model\": \"gan\"", StringComparison.Ordinal),
            keepChecksum: false);
        var before = Files(run);
        AssertRefused(run, Resume(run), "model 'gan' is not vae, cvae, conv-vae or conv-cvae", before);
    }

    [Fact]
    public void ModelMetadata_WithoutKindOrLikelihood_StillReads()
    {
        var metadata = new VaeConfig(784, [16], 2).ToMetadata();
        metadata.Remove("model");
        metadata.Remove("likelihood");
        Assert.Equal("vae 784-16-2", VaeConfig.FromMetadata(metadata, "old.safetensors").ToString());
    }
}
