using Microsoft.Extensions.Logging;

namespace IlgpuVae.Compute;

/// <summary>
/// Every message the library logs, each with its own event id so that an app can filter or count them (README lists
/// them): the device chosen and why, a fallback to the CPU, each epoch, each checkpoint and model file written, a stop
/// and a divergence. The logger comes from the <see cref="ILoggerFactory"/> given to <see cref="ComputeDevice.Open"/>,
/// category "IlgpuVae"; the library never writes to the console.
/// </summary>
internal static partial class LibraryLog
{
    /// <summary>The logger category.</summary>
    internal const string Category = "IlgpuVae";

    [LoggerMessage(EventId = 1, EventName = "DeviceOpened", Level = LogLevel.Information,
        Message = "device {Device}: {Reason}; its ops loaded in {Milliseconds:F0} ms")]
    internal static partial void DeviceOpened(ILogger logger, string device, string reason, double milliseconds);

    [LoggerMessage(EventId = 2, EventName = "DeviceFallback", Level = LogLevel.Warning,
        Message = "no CUDA or OpenCL GPU found: running on the CPU")]
    internal static partial void DeviceFallback(ILogger logger);

    [LoggerMessage(EventId = 3, EventName = "EpochCompleted", Level = LogLevel.Information,
        Message = "epoch {Epoch}/{Epochs}: train loss {TrainLoss:F4}, test loss {TestLoss:F4}, {Seconds:F2} s")]
    internal static partial void EpochCompleted(ILogger logger, int epoch, int epochs, double trainLoss, double testLoss, double seconds);

    [LoggerMessage(EventId = 4, EventName = "CheckpointWritten", Level = LogLevel.Information,
        Message = "checkpoint written: {Path} ({Where})")]
    internal static partial void CheckpointWritten(ILogger logger, string path, string where);

    [LoggerMessage(EventId = 5, EventName = "ModelSaved", Level = LogLevel.Information, Message = "model saved: {Path}")]
    internal static partial void ModelSaved(ILogger logger, string path);

    [LoggerMessage(EventId = 6, EventName = "TrainingCancelled", Level = LogLevel.Information, Message = "training {Message}")]
    internal static partial void TrainingCancelled(ILogger logger, string message);

    [LoggerMessage(EventId = 7, EventName = "TrainingDiverged", Level = LogLevel.Warning, Message = "training diverged: {Message}")]
    internal static partial void TrainingDiverged(ILogger logger, string message);
}
