using IlgpuVae.Compute;
using Microsoft.Extensions.Logging;

namespace IlgpuVae.Training;

/// <summary>
/// The lifecycle both trainers share (<see cref="VaeTrainer"/>, <see cref="Classification.ClassifierTrainer"/>): one
/// call at a time, training on the caller's thread or off it, the epochs finished so far, the .NET cancellation
/// convention (a cancelled token stops after the current step and throws <see cref="OperationCanceledException"/>
/// carrying that token, with what a stop saves saved), disposal that stops a running training and waits for it, and the
/// log of each finished epoch, a stop and a divergence (event ids 3, 6 and 7 of the device's logger).
/// </summary>
public abstract class Trainer : IDisposable, IAsyncDisposable
{
    private readonly TrainerGate _gate = new();
    private bool _disposed;

    // Only the library's trainers derive: the engine behind them is internal.
    private protected Trainer()
    {
    }

    /// <summary>Steps per epoch (the last one may be a short batch).</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public abstract int StepsPerEpoch { get; }

    /// <summary>Training images per epoch.</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public abstract int TrainCount { get; }

    /// <summary>Every finished epoch's metrics (for a resumed VAE run, the earlier ones too).</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public IReadOnlyList<EpochMetrics> History => Alive(Finished);

    /// <summary>The finished epochs, in order.</summary>
    private protected List<EpochMetrics> Finished { get; } = [];

    /// <summary>Trains until every epoch is done, the token is cancelled (after the current step) or a loss stops being
    /// finite.</summary>
    /// <param name="progress">Receives reports: part "training" after every step and when an epoch ends, "testing" after
    /// every test batch (see <see cref="WorkProgress"/>); null for none.</param>
    /// <param name="cancellationToken">Stops training after the current step (a VAE trainer with a run directory saves
    /// a resumable state first).</param>
    /// <returns>The epochs it finished, and whether the loss diverged (<see cref="TrainingResult.Diverged"/>).</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled; the message says where training stopped
    /// and what was saved, and <see cref="OperationCanceledException.CancellationToken"/> is
    /// <paramref name="cancellationToken"/> (a stop by <see cref="DisposeAsync"/> carries the trainer's own token, see
    /// there). Every long operation of the library stops this way.</exception>
    /// <exception cref="InvalidOperationException">The trainer is already in use (on another thread).</exception>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public TrainingResult Train(IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var busy = Enter(cancellationToken);
        return Run(busy, progress);
    }

    /// <summary>
    /// <see cref="Train"/> on a thread-pool thread: the caller's thread stays free (a UI, a server's request loop).
    /// The call takes the trainer before it returns (so a <see cref="DisposeAsync"/> right after it finds the training
    /// to stop); a cancelled token stops training after the current step and the task ends
    /// <see cref="TaskStatus.Canceled"/>: awaiting it throws the <see cref="OperationCanceledException"/>
    /// <see cref="Train"/> throws, with the message and the token.
    /// </summary>
    /// <example>
    /// <code>
    /// using var cancel = new CancellationTokenSource();
    /// Console.CancelKeyPress += (_, e) =&gt; { e.Cancel = true; cancel.Cancel(); };
    /// try
    /// {
    ///     TrainingResult result = await trainer.TrainAsync(new Progress&lt;WorkProgress&gt;(p =&gt; Console.Write($"\r{p.Epoch}:{p.Done}")), cancel.Token);
    /// }
    /// catch (OperationCanceledException e)
    /// {
    ///     Console.WriteLine(e.Message);   // "stopped at epoch 3, step 120 of 469; the run in ... can be resumed"
    /// }
    /// </code>
    /// </example>
    /// <param name="progress">Receives reports (a <see cref="Progress{T}"/> posts them to the caller's context); null for none.</param>
    /// <param name="cancellationToken">Stops training after the current step.</param>
    /// <returns>The epochs it finished, and whether the loss diverged.</returns>
    /// <exception cref="OperationCanceledException">(From the task.) The token was cancelled: the task is
    /// canceled.</exception>
    /// <exception cref="InvalidOperationException">(From the call.) The trainer is already in use.</exception>
    /// <exception cref="ObjectDisposedException">(From the call.) The trainer was disposed.</exception>
    public Task<TrainingResult> TrainAsync(IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        // Held here, on the caller's thread, and let go by the pool thread when the training returns.
        var busy = Enter(cancellationToken);
        return RunOffThreadAsync(busy, progress);
    }

    // An OperationCanceledException that leaves an async method ends its task Canceled, with the exception's token.
    private async Task<TrainingResult> RunOffThreadAsync(TrainerGate.Call busy, IProgress<WorkProgress>? progress) =>
        await Task.Run(() =>
        {
            using (busy)
                return Run(busy, progress);
        }, CancellationToken.None).ConfigureAwait(false);

    /// <summary>One training on the held trainer: logs a stop and a divergence, and reports a stop with the token that
    /// caused it (the subclass sees only the call's linked token).</summary>
    private TrainingResult Run(TrainerGate.Call busy, IProgress<WorkProgress>? progress)
    {
        TrainingResult result;
        try
        {
            result = TrainOnce(progress, busy.Token);
        }
        catch (OperationCanceledException stop) when (stop.CancellationToken == busy.Token)
        {
            LibraryLog.TrainingCancelled(Logger, stop.Message);
            throw new OperationCanceledException(stop.Message, stop, busy.StoppedBy);
        }
        if (result.Divergence is string divergence)
            LibraryLog.TrainingDiverged(Logger, divergence);
        return result;
    }

    /// <summary>Frees the trainer's device buffers and its model. Calling it again does nothing.</summary>
    /// <exception cref="InvalidOperationException">The trainer is training (on another thread): use
    /// <see cref="DisposeAsync"/>, which stops it and waits, or cancel it and wait first.</exception>
    public void Dispose()
    {
        if (_disposed)
            return;
        if (_gate.IsBusy)
            throw new InvalidOperationException("this trainer is still training: use DisposeAsync, or cancel it and wait for Train to return before disposing");
        _disposed = true;
        DisposeParts();
        _gate.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Stops a training that runs, as a cancelled token does (after the current step, with what a stop saves saved),
    /// waits for it to return, then frees the trainer. Calling it again does nothing.
    /// </summary>
    /// <remarks>The stopped training throws (its task ends canceled with) an <see cref="OperationCanceledException"/>
    /// whose <see cref="OperationCanceledException.CancellationToken"/> is the trainer's own, cancelled token, not the
    /// caller's (unless the caller's was cancelled too): <c>catch (OperationCanceledException e) when
    /// (e.CancellationToken == myToken)</c> tells a stop one asked for from a disposal.</remarks>
    /// <example>
    /// <code>
    /// await using var trainer = new VaeTrainer(device, data, options, "runs/app");
    /// var training = trainer.TrainAsync();
    /// // ... the app closes: the run stops after its step, is saved, and the trainer is freed.
    /// </code>
    /// </example>
    /// <returns>The wait.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        await _gate.StopAndWaitAsync().ConfigureAwait(false);
        Dispose();
    }

    /// <summary>One training call, holding the trainer; <paramref name="cancellationToken"/> also carries a stop from
    /// <see cref="DisposeAsync"/>. A stop throws <see cref="OperationCanceledException"/> with this token and a message
    /// saying where training stopped and what was saved; the caller logs it, and a divergence, and gives the exception
    /// the caller's token.</summary>
    private protected abstract TrainingResult TrainOnce(IProgress<WorkProgress>? progress, CancellationToken cancellationToken);

    /// <summary>Where the trainer logs: its device's logger.</summary>
    private protected abstract ILogger Logger { get; }

    /// <summary>Records a finished epoch in <see cref="History"/> and logs it (event 3).</summary>
    /// <param name="metrics">Its metrics.</param>
    /// <param name="epochs">The run's epochs.</param>
    private protected void EpochFinished(EpochMetrics metrics, int epochs)
    {
        Finished.Add(metrics);
        LibraryLog.EpochCompleted(Logger, metrics.Epoch, epochs, metrics.TrainLoss, metrics.TestLoss, metrics.EpochSeconds);
    }

    /// <summary>The "training" report of a step.</summary>
    private protected static WorkProgress StepReport(EngineReport r, int epochs) => new(TrainingPart, r.Step, r.StepsPerEpoch)
    {
        Epoch = r.Epoch,
        Epochs = epochs,
        TrainLoss = r.TrainLoss,
        SamplesPerSecond = r.SamplesPerSecond,
    };

    /// <summary>The "testing" report after <paramref name="done"/> of <paramref name="batches"/> test batches.</summary>
    private protected static WorkProgress TestReport(EpochSummary epoch, int epochs, int done, int batches) => new("testing", done, batches)
    {
        Epoch = epoch.Epoch,
        Epochs = epochs,
        SamplesPerSecond = epoch.SamplesPerSecond,
    };

    /// <summary>The "training" report that ends an epoch, with its metrics.</summary>
    private protected WorkProgress EpochReport(EpochMetrics metrics, int epochs) => new(TrainingPart, StepsPerEpoch, StepsPerEpoch)
    {
        Epoch = metrics.Epoch,
        Epochs = epochs,
        TrainLoss = metrics.TrainLoss,
        SamplesPerSecond = metrics.SamplesPerSecond,
        Completed = metrics,
    };

    private const string TrainingPart = "training";

    /// <summary>Frees what the trainer holds; runs once, when nothing uses it.</summary>
    private protected abstract void DisposeParts();

    /// <summary>Holds the trainer for one call (training, evaluation, a save); a second caller meanwhile gets an
    /// <see cref="InvalidOperationException"/>.</summary>
    private protected TrainerGate.Call Enter(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var call = _gate.Enter(cancellationToken);
        if (_gate.IsStopping)
        {
            // DisposeAsync has begun.
            call.Dispose();
            ObjectDisposedException.ThrowIf(true, this);
        }
        return call;
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> once the trainer is disposed.</summary>
    private protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary><paramref name="value"/>, unless the trainer is disposed.</summary>
    private protected T Alive<T>(T value)
    {
        ThrowIfDisposed();
        return value;
    }
}
