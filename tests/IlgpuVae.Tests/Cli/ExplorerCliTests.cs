using System.Text.RegularExpressions;
using IlgpuVae.Cli;
using IlgpuVae.Compute;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

[Collection(SharedDevices.Name)]
public sealed partial class ExplorerCliTests
{
    [Theory]
    [InlineData("expects an IP address or localhost, got 'example.org'", "--host", "example.org")]
    [InlineData("'--port' must be at most 65535", "--port", "70000")]
    [InlineData("'--port' must be at least 0", "--port", "-1")]
    [InlineData("'--points' must be at least 2", "--points", "1")]
    public void Explore_BadOptions_AreUsageErrors(string fragment, params string[] options)
    {
        var (code, _, stderr) = Run(["explore", "--model", "m.safetensors", .. options]);

        Assert.Equal(2, code);
        AssertOneLineError(stderr, fragment);
    }

    [MnistFact]
    public async Task Explore_ServesOnLoopbackUntilCancelled()
    {
        using var directory = new TempDirectory();
        string path = directory.File("model.safetensors");
        using (var device = ComputeDevice.Open(DeviceChoice.Cpu))
        using (var model = VaeModel.Create(device, new VaeConfig(784, [16], 2), capacity: 4))
            model.Save(path);
        var stdout = new StringWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = Task.Run(() => Program.Run(["explore", "--model", path, "--data", TestData.MnistDirectory!, "--port", "0",
            "--points", "100", "--device", "cpu"], TextWriter.Synchronized(stdout), TextWriter.Null, stop.Token));
        Match url;
        while (!(url = Url().Match(stdout.ToString())).Success && !run.IsCompleted)
            await Task.Delay(50);
        Assert.True(url.Success, "no URL printed");
        Assert.StartsWith("http://127.0.0.1:", url.Value);

        using (var client = new HttpClient())
            Assert.Contains("Latent-space explorer", await client.GetStringAsync(url.Value));
        stop.Cancel();

        // Stopped as README's table says: 130 for Ctrl+C (143, 129 for SIGTERM, SIGHUP).
        Assert.Equal(130, await run);
        Assert.EndsWith("stopped", stdout.ToString().TrimEnd());
    }

    [GeneratedRegex(@"http://[^ ]+/")]
    private static partial Regex Url();
}
