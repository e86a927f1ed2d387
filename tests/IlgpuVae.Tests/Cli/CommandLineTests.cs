using System.Reflection;
using IlgpuVae.Cli;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

/// <summary>The command line itself: subcommands' own help, typos, --version, aliases, '--', exit codes, hints.</summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("classifier train", "--lr-schedule", "--model")]
    [InlineData("classifier evaluate", "--model", "--epochs")]
    [InlineData("cvae sample", "--format", "--classifier")]
    [InlineData("cvae style", "--count", "--scale")]
    [InlineData("cvae agreement", "--classifier", "--format")]
    [InlineData("train", "--kind", "--iw-samples")]
    public void SubcommandHelp_IsItsOwn(string command, string ownOption, string othersOption)
    {
        var (code, output, _) = Run([.. command.Split(' '), "--help"]);
        Assert.Equal(0, code);
        Assert.Contains($"ilgpu-vae {command} [options]", output);
        Assert.Contains(ownOption, output);
        Assert.DoesNotContain(othersOption, output);
    }

    [Theory]
    [InlineData("classifier", "train", "evaluate")]
    [InlineData("cvae", "sample", "agreement")]
    public void GroupHelp_ListsItsSubcommands(string group, string first, string second)
    {
        var (code, output, _) = Run(group, "--help");
        Assert.Equal(0, code);
        Assert.Contains(first, output);
        Assert.Contains(second, output);
        Assert.DoesNotContain("--device", output);
    }

    [Theory]
    [InlineData("did you mean 'train'?", "trian")]
    [InlineData("did you mean 'evaluate'?", "evalute")]
    [InlineData("did you mean '--epochs'?", "train", "--epoch", "3")]
    [InlineData("did you mean '--classifier'?", "cvae", "agreement", "--clasifier", "c")]
    public void Typo_SuggestsTheNearestNameAndExitsTwo(string suggestion, params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        AssertOneLineError(err, suggestion);
    }

    [Fact]
    public void Version_PrintsTheInformationalVersion()
    {
        var (code, output, _) = Run("--version");
        Assert.Equal(0, code);
        string expected = typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(expected, output.Trim());
        Assert.NotEqual("1.0.0.0", output.Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+", output.Trim());
    }

    [Fact]
    public void TrainModel_IsAHiddenAliasOfKind()
    {
        var (code, output, _) = Run("train", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--kind", output);
        Assert.DoesNotContain("--model", output);
        // Both spellings reach the same check; given together they must agree.
        (code, _, var err) = Run("train", "--model", "gan");
        Assert.Equal(2, code);
        AssertOneLineError(err, "'--model' must be one of vae|cvae");
        (code, _, err) = Run("train", "--kind", "gan");
        Assert.Equal(2, code);
        AssertOneLineError(err, "'--kind' must be one of vae|cvae");
        (code, _, err) = Run("train", "--kind", "vae", "--model", "cvae");
        Assert.Equal(2, code);
        AssertOneLineError(err, "old name of --kind");
        (code, _, err) = Run("train", "--model", "vae", "--conditioning", "every-layer");
        Assert.Equal(2, code);
        AssertOneLineError(err, "--conditioning is for --kind cvae");
    }

    [Fact]
    public void DoubleDash_IsAcceptedAndEndsOptions()
    {
        var (code, output, err) = Run("devices", "--");
        Assert.True(code == 0, err);
        Assert.Contains("cpu", output);
        (code, _, err) = Run("devices", "--", "--json");
        Assert.Equal(2, code);
        AssertOneLineError(err, "unexpected argument '--json' after '--'");
    }

    [Fact]
    public void AtSign_IsALiteralValueNotAResponseFile()
    {
        var (code, _, err) = Run("sample", "--model", "@no-such-model.safetensors");
        Assert.Equal(1, code);
        AssertOneLineError(err, "@no-such-model.safetensors: no such model file");
    }

    [Fact]
    public void ShortAliases_MeanTheLongOptions()
    {
        var (code, _, err) = Run("train", "-e", "0");
        Assert.Equal(2, code);
        AssertOneLineError(err, "'--epochs' must be at least 1");
        (code, _, err) = Run("train", "-d", "tpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, "'--device' must be one of");
        (code, var output, err) = Run("devices", "-j");
        Assert.True(code == 0, err);
        Assert.StartsWith("{", output.Trim());
    }

    [Fact]
    public void ExitCodes_HelpZero_UsageTwo_RuntimeOne()
    {
        var (code, output, _) = Run();
        Assert.Equal(2, code);
        Assert.Contains("train", output);
        (code, _, _) = Run("--help");
        Assert.Equal(0, code);
        (code, _, var err) = Run("cvae");
        Assert.Equal(2, code);
        AssertOneLineError(err, "say 'cvae sample'");
        (code, _, err) = Run("sample", "--model", Path.Combine(Path.GetTempPath(), "no-such-model.safetensors"));
        Assert.Equal(1, code);
        AssertOneLineError(err, "no such model file");
    }

    [Fact]
    public void ErrorHints_AddTheFlagThatHelps()
    {
        Assert.Contains("--device auto", ErrorHints.For(new PlatformNotSupportedException("no CUDA device found")));
        Assert.Contains("--data DIR", ErrorHints.For(new DataLoadException(new FileNotFoundException("MNIST not found"))));
        Assert.Contains("--test-fraction", ErrorHints.For(new DataLoadException(new ArgumentException("no test images beside x"))));
        // The library throws FileNotFoundException for a model file too: only a data load gets the data hint.
        Assert.Equal("", ErrorHints.For(new FileNotFoundException("m.safetensors: no such model file")));
        Assert.True(ErrorHints.IsBadInput(new DataLoadException(new InvalidDataException("x: truncated"))));
        Assert.False(ErrorHints.IsBadInput(new InvalidDataException("m.safetensors: checksum mismatch")));
        Assert.Equal("", ErrorHints.For(new IOException("disk full")));
    }

    [Theory]
    [InlineData(20)]
    [InlineData(40)]
    [InlineData(79)]
    [InlineData(200)]
    public void ProgressLine_NeverWiderThanTheTerminal(int width)
    {
        string[] fields = [" 12345/60000", "loss 123.45", "123456 samples/s", "ETA >12:34:56"];
        foreach (double fraction in new[] { 0.0, 0.37, 1.0 })
        {
            string line = TrainingProgressView.Fit("epoch 10/10 train ", fields, fraction, width);
            Assert.True(line.Length <= width, $"{line.Length} > {width}: {line}");
        }
        // On an 80-column terminal the whole line fits with a bar.
        Assert.Contains("[", TrainingProgressView.Fit("epoch 10/10 train ", fields, 0.5, 79));
    }

    [Theory]
    [InlineData(0, "0:00:00")]
    [InlineData(61.4, "0:01:01")]
    [InlineData(3 * 3600 + 7, "3:00:07")]
    [InlineData(1e12, "99:59:59")]
    [InlineData(double.NaN, "0:00:00")]
    public void ProgressDuration_IsHoursMinutesSeconds(double seconds, string expected) =>
        Assert.Equal(expected, TrainingProgressView.Duration(seconds));
}
