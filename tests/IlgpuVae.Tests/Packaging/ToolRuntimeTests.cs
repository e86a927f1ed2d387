using System.Text.Json;
using IlgpuVae.Compute;
using IlgpuVae.Models;
using IlgpuVae.Tests.Cli;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using Xunit;

namespace IlgpuVae.Tests.Packaging;

/// <summary>
/// The tool runs on the .NET runtime alone: its runtimeconfig.json names only Microsoft.NETCore.App, and explore loads
/// ASP.NET Core from the shared framework itself (AspNetCoreRuntime), as a real process of the tool shows.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class ToolRuntimeTests
{
    [Fact]
    public void ToolRuntimeConfig_NamesOnlyTheNetCoreRuntime()
    {
        string path = Path.ChangeExtension(typeof(IlgpuVae.Cli.Program).Assembly.Location, ".runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var options = config.RootElement.GetProperty("runtimeOptions");
        Assert.False(options.TryGetProperty("frameworks", out _), $"{path} names several frameworks: {options}");
        Assert.Equal("Microsoft.NETCore.App", options.GetProperty("framework").GetProperty("name").GetString());
        Assert.DoesNotContain("AspNetCore", File.ReadAllText(path));
    }

    [MnistFact]
    public void Explore_InTheToolsOwnProcess_LoadsAspNetCoreAndServesThePage()
    {
        using var directory = new TempDirectory();
        string model = directory.File("model.safetensors");
        using (var device = ComputeDevice.Open(DeviceChoice.Cpu))
        using (var vae = VaeModel.Create(device, new VaeConfig(784, [16], 2), capacity: 4))
            vae.Save(model);

        using var child = new ChildCli("explore", "--model", model, "--port", "0", "--points", "50", "--device", "cpu",
            "--data", TestData.MnistDirectory!);
        Assert.True(child.WaitForOutput("(Ctrl+C stops it)", TimeSpan.FromMinutes(2)), $"no explorer: {child.Err}");
        string url = System.Text.RegularExpressions.Regex.Match(child.Out, @"http://\S+/").Value;
        using var http = new HttpClient();
        string page = http.GetStringAsync(url).GetAwaiter().GetResult();
        Assert.Contains("<title>ilgpu-vae latent explorer</title>", page);
        child.Signal("INT");
        Assert.NotNull(child.WaitForExit(TimeSpan.FromSeconds(30)));
    }
}
