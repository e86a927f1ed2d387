namespace IlgpuVae.Training;

/// <summary>
/// The lifecycle both trainers share: one call at a time (a second one meanwhile is an
/// <see cref="InvalidOperationException"/>), a stop of the running training from <c>DisposeAsync</c>, and a wait until
/// it has returned, so that disposing never pulls buffers from under a step.
/// </summary>
internal sealed class TrainerGate : IDisposable
{
    private int _busy;
    // Cancelled once, by StopAndWaitAsync: every call's token is linked to it.
    private readonly CancellationTokenSource _stopping = new();
    private readonly ManualResetEventSlim _idle = new(initialState: true);

    /// <summary>Whether a call (training, evaluation, a save) holds the trainer.</summary>
    public bool IsBusy => Volatile.Read(ref _busy) != 0;

    /// <summary>Whether <see cref="StopAndWaitAsync"/> has begun: the trainer is being disposed.</summary>
    public bool IsStopping => _stopping.IsCancellationRequested;

    /// <summary>Takes the trainer for one call; dispose the result to let it go.</summary>
    /// <param name="cancellationToken">The caller's token: the call's <see cref="Call.Token"/> is cancelled by it, or
    /// by a stop from <see cref="StopAndWaitAsync"/>.</param>
    /// <returns>The held call.</returns>
    /// <exception cref="InvalidOperationException">Another call holds it.</exception>
    public Call Enter(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException("this trainer is already in use; a trainer serves one thread at a time");
        _idle.Reset();
        return new Call(this, CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token), cancellationToken);
    }

    /// <summary>Stops the running call (a training stops after its step, saving what it saves when cancelled), and any
    /// call that enters later, and completes once the running one has returned; at once when nothing runs.</summary>
    /// <returns>The wait.</returns>
    public async ValueTask StopAndWaitAsync()
    {
        _stopping.Cancel();
        if (!IsBusy)
            return;
        await Task.Run(() => _idle.Wait()).ConfigureAwait(false);
    }

    /// <inheritdoc />
    // _stopping stays undisposed: its token is the one a stopped training's exception carries, and stays whole for the
    // caller who inspects it after the trainer is gone. It holds no timer and no wait handle; each call's linked
    // source unregisters from it when the call ends.
    public void Dispose() => _idle.Dispose();

    /// <summary>One held call.</summary>
    internal readonly struct Call(TrainerGate gate, CancellationTokenSource linked, CancellationToken caller) : IDisposable
    {
        /// <summary>Cancelled by the caller's token or by <see cref="StopAndWaitAsync"/>: the token the work checks.</summary>
        public CancellationToken Token => linked.Token;

        /// <summary>The token a stop is reported with (the <see cref="OperationCanceledException.CancellationToken"/> a
        /// caller sees): the caller's when it is cancelled, else the gate's own stop, which
        /// <see cref="StopAndWaitAsync"/> cancelled.</summary>
        public CancellationToken StoppedBy => caller.IsCancellationRequested ? caller : gate._stopping.Token;

        /// <summary>Lets the trainer go.</summary>
        public void Dispose()
        {
            linked.Dispose();
            Volatile.Write(ref gate._busy, 0);
            gate._idle.Set();
        }
    }
}
