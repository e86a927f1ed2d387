using IlgpuVae.Compute;
using IlgpuVae.Models;
using Microsoft.Extensions.Logging;
using Xunit;

namespace IlgpuVae.Tests.Compute;

/// <summary>The optional logger: the device chosen with the kernels' load time, and every checkpoint written.</summary>
public sealed class LoggingTests
{
    [Fact]
    public void Logger_ReceivesDeviceChoiceAndCheckpointWrites()
    {
        var logger = new ListLogger();
        using var device = ComputeDevice.Open(DeviceChoice.Cpu, logger: logger);
        using var model = VaeModel.Create(device, new VaeConfig(784, [8], 2), capacity: 4);
        string path = Path.Combine(Directory.CreateTempSubdirectory("ilgpu-vae-log-").FullName, "model.safetensors");
        model.Save(path);

        Assert.Contains(logger.Messages, m => m.StartsWith("IlgpuVae device: CPUAccelerator [Cpu], vectorized ops loaded in ", StringComparison.Ordinal));
        Assert.Contains($"IlgpuVae checkpoint written: {path}", logger.Messages);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Messages)
                Messages.Add(formatter(state, exception));
        }
    }
}
