using IlgpuVae.Data;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// Issue 22's cases 6 and 11: what can be checked before the first step is checked there (the pictures' test images,
/// the length of every path the run writes, free space for a checkpoint), so a run never trains an epoch and then
/// fails on its first save.
/// </summary>
public sealed class PreflightCliTests
{
    // Case 6: --test-fraction 0.003 trained an epoch, then failed on "the test set has 6 images, the pictures need 10",
    // again on every resume. Now refused before the run directory exists.
    [Fact]
    public void Train_ATestSetTooSmallForThePictures_IsRefusedBeforeTheRun()
    {
        using var dir = new TempDirectory();
        var (images, labels) = SyntheticIdx.Make(100, 1);
        IdxWriter.WriteImages(dir.File("x.idx"), images, 100, SyntheticIdx.Height, SyntheticIdx.Width);
        IdxWriter.WriteLabels(dir.File("y.idx"), labels);
        var (code, output, err) = Run("train", "--train-images", dir.File("x.idx"), "--train-labels", dir.File("y.idx"),
            "--test-fraction", "0.06", "--epochs", "1", "--hidden", "8", "--out", dir.File("run"), "--device", "cpu");
        Assert.Equal(1, code);
        AssertOneLineError(err, "the test set has 6 images; the pictures drawn after each epoch show 10");
        Assert.DoesNotContain("epoch 1/", output);
        Assert.False(Directory.Exists(dir.File("run")));
    }

    // Case 11: a 4,036-character --out created the directory and trained a whole epoch before the first save failed.
    [Fact]
    public void Train_AnOutTooLongForTheSystem_IsRefusedBeforeAnythingIsCreated()
    {
        if (OperatingSystem.IsWindows())
            return;
        using var dir = new TempDirectory();
        string first = dir.File(new string('a', 200));
        string run = first;
        while (run.Length < 4036)
            run = Path.Combine(run, new string('b', 200));
        SyntheticIdx.Write(dir.Path);
        var (code, output, err) = Run("train", "--data", dir.Path, "--epochs", "1", "--hidden", "8", "--out", run, "--device", "cpu");
        Assert.Equal(1, code);
        AssertOneLineError(err, "choose a shorter --out");
        Assert.DoesNotContain("epoch 1/", output);
        Assert.False(Directory.Exists(first));
    }

    // Case 11: a part of the path longer than a name may be.
    [Fact]
    public void RunDirectory_ANameLongerThanTheSystemTakes_IsRefused()
    {
        using var dir = new TempDirectory();
        string run = dir.File(new string('n', 300));
        var e = Assert.Throws<IOException>(() => new RunDirectory(run));
        Assert.Contains("is 300 bytes long; a name may have at most 255", e.Message);
        Assert.False(Directory.Exists(run));
        // The longest name a run writes fits beside a directory at the limit.
        Assert.True(".training-state.safetensors.0123456789abcdef0123456789abcdef.tmp".Length <= RunPaths.LongestNameWritten);
    }

    // Case 6: free space where the OS tells it: a model whose checkpoint cannot fit is refused before the first step.
    [Fact]
    public void FreeSpace_TooLittleForACheckpoint_IsRefused_NamingTheDirectory()
    {
        using var dir = new TempDirectory();
        long free = new DriveInfo(dir.Path).AvailableFreeSpace;
        // Parameters whose checkpoint needs more than the disk has: refused; a small model: accepted.
        long tooMany = free / 4 + 1;
        var e = Assert.Throws<IOException>(() => RunPaths.CheckFreeSpace(Path.Combine(dir.Path, "run", "deeper"), tooMany));
        Assert.Contains(Path.Combine(dir.Path, "run", "deeper"), e.Message);
        Assert.Contains("free, and a checkpoint of this model", e.Message);
        RunPaths.CheckFreeSpace(Path.Combine(dir.Path, "run"), 1_000_000);
    }
}
