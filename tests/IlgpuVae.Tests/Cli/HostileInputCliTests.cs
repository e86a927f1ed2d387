using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// Issue 22, cases 8, 10 and 13 at the command line: a model or data path that is a FIFO or a directory, data files
/// whose headers disagree or whose gzip is damaged, and an export target that is not a directory are each one line
/// naming the path, exit code 1, without hanging.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class HostileInputCliTests
{
    private static string Model(TempDirectory dir)
    {
        string path = dir.File("model.safetensors");
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Create(device, new VaeConfig(784, [8], 2), capacity: 4);
        model.Save(path);
        return path;
    }

    [Fact]
    public void Sample_ModelThatIsAFifo_IsRefusedWithoutBlocking()
    {
        if (OperatingSystem.IsWindows())
            return;
        using var dir = new TempDirectory();
        string fifo = HostileDataTests.Fifo(dir, "model.safetensors");
        var (code, _, err) = HostileDataTests.Within(fifo, () => Run("sample", "--model", fifo, "--out", dir.File("s.png"), "--device", "cpu"));
        Assert.Equal(1, code);
        AssertOneLineError(err, $"{fifo}: not a regular file (a FIFO)");
    }

    [Theory]
    [InlineData("sample")]
    [InlineData("export")]
    [InlineData("evaluate")]
    public void ModelThatIsADirectory_IsNamedAsOne(string command)
    {
        using var dir = new TempDirectory();
        string model = dir.File("model.safetensors");
        Directory.CreateDirectory(model);
        string[] args = command == "export" ? [command, "--model", model] : [command, "--model", model, "--device", "cpu"];
        var (code, _, err) = Run(args);
        Assert.Equal(1, code);
        AssertOneLineError(err, $"{model}: is a directory");
    }

    [Fact]
    public void TrainImagesThatAreAFifoOrADirectory_AreRefusedWithTheirPath()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("images"));
        var (code, _, err) = Run("train", "--train-images", dir.File("images"), "--test-fraction", "0.2", "--epochs", "1",
            "--out", dir.File("run"), "--device", "cpu");
        Assert.Equal(2, code); // a data error
        AssertOneLineError(err, $"{dir.File("images")}: is a directory");
        if (OperatingSystem.IsWindows())
            return;
        string fifo = HostileDataTests.Fifo(dir, "fifo");
        (code, _, err) = HostileDataTests.Within(fifo, () => Run("train", "--train-images", fifo, "--test-fraction", "0.2", "--epochs", "1",
            "--out", dir.File("run"), "--device", "cpu"));
        Assert.Equal(2, code); // a data error
        AssertOneLineError(err, $"{fifo}: not a regular file (a FIFO)");
        Assert.False(Directory.Exists(dir.File("run")));
    }

    [Fact]
    public void Train_DataWithABadCrcOrTrailingGarbageOrTwoDifferentCopies_IsOneLineNamingTheFile()
    {
        using var dir = new TempDirectory();
        SyntheticIdx.Write(dir.Path);
        string gz = dir.File(MnistFiles.TestImages + ".gz");
        byte[] good = File.ReadAllBytes(gz);
        string[] train = ["train", "--data", dir.Path, "--epochs", "1", "--hidden", "8", "--out", dir.File("run"), "--device", "cpu"];

        byte[] bad = (byte[])good.Clone();
        bad[^8] ^= 0xFF;
        File.WriteAllBytes(gz, bad);
        var (code, _, err) = Run(train);
        Assert.Equal(2, code); // a data error
        AssertOneLineError(err, $"{gz}: corrupt gzip data: CRC mismatch");

        File.WriteAllBytes(gz, [.. good, .. "GARBAGE!"u8]);
        (code, _, err) = Run(train);
        Assert.Equal(2, code); // a data error
        AssertOneLineError(err, $"{gz}: 8 bytes after the end of the gzip stream");

        File.WriteAllBytes(gz, good);
        string raw = dir.File(MnistFiles.TestImages);
        var (images, _) = SyntheticIdx.Make(60, 4);
        IdxWriter.WriteImages(raw, images, 60, SyntheticIdx.Height, SyntheticIdx.Width);
        (code, _, err) = Run(train);
        Assert.Equal(2, code); // a data error
        AssertOneLineError(err, $"{raw} and {gz} both exist and hold different data");
        Assert.False(File.Exists(Path.Combine(dir.File("run"), "model.safetensors")));
    }

    [Fact]
    public void Train_ImagesClaimingMoreThanTheirGzipCanHold_AreRefusedAtOnce()
    {
        using var dir = new TempDirectory();
        SyntheticIdx.Write(dir.Path);
        // 40000 x 50000 images claimed by a file of a few bytes: its size settles it, nothing is decompressed.
        string images = dir.File(MnistFiles.TrainImages);
        File.Delete(images);
        File.WriteAllBytes(images + ".gz", IdxReaderTests.Gzip(IdxReaderTests.Idx(0x08, [40000, 50000, 1], 0)));
        var (code, _, err) = Run("train", "--data", dir.Path, "--epochs", "1", "--out", dir.File("run"), "--device", "cpu");
        Assert.Equal(2, code); // a data error
        AssertOneLineError(err, $"{images}.gz: truncated: expected 2000000000 bytes of pixels, but a gzip file of");
    }

    [Theory]
    [InlineData("file")]
    [InlineData("/dev/null")]
    [InlineData("/proc/version")]
    [InlineData("/proc/self/no-such-dir")]
    public void Export_OutThatIsNoDirectory_IsOneClearLine(string target)
    {
        if (OperatingSystem.IsWindows() && target.StartsWith('/'))
            return;
        if (target.StartsWith("/proc", StringComparison.Ordinal) && !Directory.Exists("/proc"))
            return;
        using var dir = new TempDirectory();
        string model = Model(dir);
        if (target == "file")
        {
            target = dir.File("file");
            File.WriteAllText(target, "keep");
        }
        var (code, _, err) = Run("export", "--model", model, "--out", target);
        Assert.Equal(1, code);
        AssertOneLineError(err, $"{target}: ");
        Assert.Contains(target.EndsWith("no-such-dir", StringComparison.Ordinal) ? "cannot create the export directory" : "not a directory", err);
        if (target.StartsWith(dir.Path, StringComparison.Ordinal))
            Assert.Equal("keep", File.ReadAllText(target));
    }
}
