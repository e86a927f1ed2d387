using ILGPU.Runtime;
using IlgpuVae.Classification;
using IlgpuVae.Compute;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Microsoft.Extensions.Logging;
using Xunit;

namespace IlgpuVae.Tests.Compute;

/// <summary>The optional logger factory: each of the library's messages with its own event id (issue 21).</summary>
public sealed class LoggingTests
{
    [Fact]
    public void Device_AndASavedModel_AreLogged_WithTheirEventIds()
    {
        var log = new ListLoggerFactory();
        using var device = ComputeDevice.Open(DeviceChoice.Cpu, loggerFactory: log);
        using var model = VaeModel.Create(device, new VaeConfig(784, [8], 2), capacity: 4);
        using var dir = new TempDirectory();
        string path = dir.File("model.safetensors");
        model.Save(path);

        Assert.Equal(["IlgpuVae"], log.Categories.Distinct());
        var opened = Assert.Single(log.Entries, e => e.Id.Name == "DeviceOpened");
        Assert.Equal(1, opened.Id.Id);
        Assert.StartsWith("device CPUAccelerator [Cpu], vectorized ops: asked for Cpu; its ops loaded in ", opened.Message);
        // A user's Save is a saved model, not a checkpoint.
        Assert.Contains(log.Entries, e => e.Id.Id == 5 && e.Message == $"model saved: {path}");
        Assert.DoesNotContain(log.Entries, e => e.Id.Name == "CheckpointWritten");
    }

    [Fact]
    public void Auto_OnAMachineWithoutAGpu_LogsTheFallback()
    {
        var log = new ListLoggerFactory();
        using var device = ComputeDevice.Open(DeviceChoice.Auto, loggerFactory: log);
        if (device.Description.Contains("[Cpu]", StringComparison.Ordinal))
        {
            Assert.Contains(log.Entries, e => e.Id.Id == 2 && e.Level == LogLevel.Warning);
            Assert.Contains(log.Entries, e => e.Id.Id == 1 && e.Message.Contains("auto, no GPU found", StringComparison.Ordinal));
        }
        else
        {
            Assert.DoesNotContain(log.Entries, e => e.Id.Id == 2);
        }
    }

    [Fact]
    public void Training_LogsEpochsCheckpointsAndAStop()
    {
        var log = new ListLoggerFactory();
        using var device = ComputeDevice.Open(DeviceChoice.Cpu, loggerFactory: log);
        var data = SyntheticIdx.InMemory(100, 20);
        using var dir = new TempDirectory();
        var options = new TrainingOptions { Epochs = 2, BatchSize = 20, Model = new VaeConfig(SyntheticIdx.Height * SyntheticIdx.Width, [8], 2) };
        using (var trainer = new VaeTrainer(device, data, options, dir.Path))
            Assert.Null(trainer.Train().Divergence);
        Assert.Equal(2, log.Entries.Count(e => e.Id.Name == "EpochCompleted" && e.Id.Id == 3));
        Assert.Contains(log.Entries, e => e.Id.Id == 4 && e.Message.StartsWith($"checkpoint written: {Path.Combine(dir.Path, RunDirectory.StateFile)} (after epoch 2)", StringComparison.Ordinal));

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        using (var again = VaeTrainer.Resume(device, data, dir.Path, 3))
            Assert.Throws<OperationCanceledException>(() => again.Train(cancellationToken: cancelled.Token));
        Assert.Contains(log.Entries, e => e.Id.Id == 6 && e.Message.StartsWith("training stopped at epoch 3", StringComparison.Ordinal));
    }

    [Fact]
    public void ClassifierTraining_LogsEpochsAStopAndADivergence_AsTheVaeTrainerDoes()
    {
        var log = new ListLoggerFactory();
        using var device = ComputeDevice.Open(DeviceChoice.Cpu, loggerFactory: log);
        var data = SyntheticIdx.InMemory(100, 20);
        var config = new ClassifierConfig(SyntheticIdx.Height * SyntheticIdx.Width, [8], SyntheticIdx.Classes);
        var settings = ClassifierTrainer.DefaultSettings with { Epochs = 2, BatchSize = 20, ReportEverySteps = 1 };
        using (var trainer = new ClassifierTrainer(device, data, config, settings))
            Assert.Null(trainer.Train().Divergence);
        Assert.Equal(2, log.Entries.Count(e => e.Id.Name == "EpochCompleted" && e.Id.Id == 3 && e.Level == LogLevel.Information));
        Assert.Contains(log.Entries, e => e.Id.Id == 3 && e.Message.StartsWith("epoch 2/2: train loss ", StringComparison.Ordinal));

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        using (var trainer = new ClassifierTrainer(device, data, config, settings))
            Assert.Throws<OperationCanceledException>(() => trainer.Train(cancellationToken: cancelled.Token));
        Assert.Contains(log.Entries, e => e.Id.Name == "TrainingCancelled" && e.Id.Id == 6
            && e.Message == "training stopped at epoch 1, step 0 of 5; nothing was saved");

        using (var trainer = new ClassifierTrainer(device, data, config, settings))
        {
            trainer.Classifier.Network.Parameters.SubView(0, 1).CopyFromCPU(new[] { float.NaN });
            Assert.True(trainer.Train().Diverged);
        }
        var diverged = Assert.Single(log.Entries, e => e.Id.Name == "TrainingDiverged" && e.Id.Id == 7);
        Assert.Equal(LogLevel.Warning, diverged.Level);
        Assert.StartsWith("training diverged: loss became NaN or infinite at epoch 1, step 1", diverged.Message, StringComparison.Ordinal);
        // No checkpoints: the classifier trainer writes none.
        Assert.DoesNotContain(log.Entries, e => e.Id.Name == "CheckpointWritten");
    }

    private sealed record Entry(LogLevel Level, EventId Id, string Message);

    private sealed class ListLoggerFactory : ILoggerFactory
    {
        public List<Entry> Entries { get; } = [];
        public List<string> Categories { get; } = [];

        public ILogger CreateLogger(string categoryName)
        {
            lock (Entries)
                Categories.Add(categoryName);
            return new ListLogger(this);
        }

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public void Dispose()
        {
        }

        private sealed class ListLogger(ListLoggerFactory owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner.Entries)
                    owner.Entries.Add(new Entry(logLevel, eventId, formatter(state, exception)));
            }
        }
    }
}
