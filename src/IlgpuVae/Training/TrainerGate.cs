namespace IlgpuVae.Training;

/// <summary>
/// The lifecycle both trainers share: one call at a time (a second one meanwhile is an
/// <see cref="InvalidOperationException"/>), a stop of the running training from <c>DisposeAsync</c>, and a wait until
/// it has returned, so that disposing never pulls buffers from under a step.
/// </summary>
internal sealed class TrainerGate : IDisposable
{
    private int _busy;
    private CancellationTokenSource? _stop;
    private readonly ManualResetEventSlim _idle = new(initialState: true);

    /// <summary>Whether a call (training, evaluation, a save) holds the trainer.</summary>
    public bool IsBusy => Volatile.Read(ref _busy) != 0;

    /// <summary>Takes the trainer for one call; dispose the result to let it go.</summary>
    /// <param name="cancellationToken">The caller's token: the call's <see cref="Call.Token"/> is it, or a stop from
    /// <see cref="StopAndWaitAsync"/>.</param>
    /// <returns>The held call.</returns>
    /// <exception cref="InvalidOperationException">Another call holds it.</exception>
    public Call Enter(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException("this trainer is already in use; a trainer serves one thread at a time");
        _idle.Reset();
        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Volatile.Write(ref _stop, stop);
        return new Call(this, stop);
    }

    /// <summary>Stops the running call (a training stops after its step, saving what it saves when cancelled) and
    /// completes once it has returned; at once when nothing runs.</summary>
    /// <returns>The wait.</returns>
    public async ValueTask StopAndWaitAsync()
    {
        if (!IsBusy)
            return;
        try
        {
            Volatile.Read(ref _stop)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call returned meanwhile.
        }
        await Task.Run(() => _idle.Wait()).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose() => _idle.Dispose();

    /// <summary>One held call.</summary>
    internal readonly struct Call(TrainerGate gate, CancellationTokenSource stop) : IDisposable
    {
        /// <summary>The caller's token, cancelled too by <see cref="StopAndWaitAsync"/>.</summary>
        public CancellationToken Token => stop.Token;

        /// <summary>Lets the trainer go.</summary>
        public void Dispose()
        {
            Volatile.Write(ref gate._stop, null);
            stop.Dispose();
            Volatile.Write(ref gate._busy, 0);
            gate._idle.Set();
        }
    }
}
