using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Explorer;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;

namespace IlgpuVae.Tests.Explorer;

/// <summary>An explorer server on a free loopback port over a small untrained model and the first MNIST test images.</summary>
public abstract class ExplorerFixture : IAsyncDisposable, IDisposable
{
    public const int Points = 300;

    protected ExplorerFixture(VaeConfig config)
    {
        if (TestData.MnistDirectory is null)
            return;
        Test = ImageData.Load(TestData.MnistDirectory, trainLimit: 1, testLimit: Points).Test;
        Device = ComputeDevice.Open(DeviceChoice.Cpu);
        Model = VaeModel.Create(Device, config, seed: 4, capacity: 64);
        // The library's own decode, on a device of its own so that it never races the server's requests.
        Model.Save(_directory.File("model.safetensors"));
        ReferenceDevice = ComputeDevice.Open(DeviceChoice.Cpu);
        Reference = VaeModel.Load(ReferenceDevice, _directory.File("model.safetensors"));
        Server = ExplorerServer.StartAsync(Model, Test, new ExplorerOptions { Port = 0, Points = Points }).GetAwaiter().GetResult();
        Client = new HttpClient { BaseAddress = Server.Url, Timeout = TimeSpan.FromSeconds(30) };
    }

    private readonly TempDirectory _directory = new();

    public ImageSet Test { get; } = null!;

    public ComputeDevice Device { get; } = null!;

    public VaeModel Model { get; } = null!;

    public ExplorerServer Server { get; } = null!;

    public HttpClient Client { get; } = null!;

    public ComputeDevice ReferenceDevice { get; } = null!;

    /// <summary>The served model's weights, loaded again: what "the library's decode" means in the tests.</summary>
    public VaeModel Reference { get; } = null!;

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (Server is not null)
            await Server.DisposeAsync();
        Model?.Dispose();
        Device?.Dispose();
        Reference?.Dispose();
        ReferenceDevice?.Dispose();
        _directory.Dispose();
        GC.SuppressFinalize(this);
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}

public sealed class VaeExplorerFixture() : ExplorerFixture(new VaeConfig(784, [32], 2));

public sealed class CvaeExplorerFixture() : ExplorerFixture(new VaeConfig(784, [32], 3, 10));
