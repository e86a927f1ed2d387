using IlgpuVae.Models;

namespace IlgpuVae.Training;

/// <summary>
/// What <see cref="VaeTrainer.EpochCompleted"/> reports after an epoch: the model as the epoch left it, the epoch's
/// metrics and the run directory its checkpoint was just written to. Observers of training (per-epoch pictures,
/// logs) subscribe to the event instead of living in the trainer.
/// </summary>
public sealed class EpochCompletedEventArgs : EventArgs
{
    /// <summary>Creates the arguments.</summary>
    /// <param name="model">The model being trained.</param>
    /// <param name="metrics">The finished epoch's metrics.</param>
    /// <param name="runDirectory">The run directory, or null when the trainer writes nothing.</param>
    public EpochCompletedEventArgs(VaeModel model, EpochMetrics metrics, string? runDirectory)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(metrics);
        Model = model;
        Metrics = metrics;
        RunDirectory = runDirectory;
    }

    /// <summary>The model being trained. It shares the trainer's network, so it holds this epoch's parameters only
    /// until the handler returns and training goes on.</summary>
    public VaeModel Model { get; }

    /// <summary>The finished epoch's metrics (<see cref="EpochMetrics.Epoch"/> is its 1-based number).</summary>
    public EpochMetrics Metrics { get; }

    /// <summary>The run directory, holding the epoch's checkpoint and metrics by now; null when the trainer has none.</summary>
    public string? RunDirectory { get; }
}
