namespace IlgpuVae.Compute;

/// <summary>
/// A team for the vectorised CPU ops: the caller plus one dedicated thread per other core. <see cref="For"/> splits
/// work into chunks that members claim from a shared counter, so the caller finishes everything alone when the
/// other cores are busy with another process (a fixed split would wait a whole scheduler time slice for a
/// descheduled member), and fast members take more chunks than slow ones. Idle workers spin briefly, because
/// a training step's ops follow each other within microseconds and a sleeping thread takes tens of microseconds
/// to wake, then block.
/// </summary>
internal sealed class CpuWorkers : IDisposable
{
    private const int SpinIterations = 4_000;
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim _wake = new(0);
    private Job? _current;
    private long _generation;
    private volatile bool _stopping;
    private int _sleeping;

    public CpuWorkers(int count)
    {
        Count = Math.Max(1, count);
        _threads = new Thread[Count - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Loop) { IsBackground = true, Name = $"ilgpu-vae cpu {i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads in the team, the caller included.</summary>
    public int Count { get; }

    /// <summary>Runs <paramref name="body"/>(chunk) for every chunk in [0, chunks) and returns when all are done.</summary>
    public void For(int chunks, Action<int> body)
    {
        if (chunks <= 0)
            return;
        if (Count == 1 || chunks == 1)
        {
            for (int c = 0; c < chunks; c++)
                body(c);
            return;
        }
        var job = new Job(chunks, body);
        Volatile.Write(ref _current, job);
        Interlocked.Increment(ref _generation);
        int sleeping = Volatile.Read(ref _sleeping);
        if (sleeping > 0)
            _wake.Release(Math.Min(sleeping, chunks - 1));
        job.Work();
        var spinner = new SpinWait();
        while (Volatile.Read(ref job.Done) < chunks)
            spinner.SpinOnce(sleep1Threshold: -1);
        if (job.Failure is not null)
            throw new AggregateException(job.Failure);
    }

    private void Loop()
    {
        long seen = 0;
        while (!_stopping)
        {
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen && !_stopping)
            {
                if (++spins < SpinIterations)
                {
                    Thread.SpinWait(10);
                    continue;
                }
                Interlocked.Increment(ref _sleeping);
                // Re-check after announcing: a job published before the announcement released no one.
                if (Volatile.Read(ref _generation) == seen && !_stopping)
                    _wake.Wait(50);
                Interlocked.Decrement(ref _sleeping);
                spins = 0;
            }
            seen = Volatile.Read(ref _generation);
            Volatile.Read(ref _current)?.Work();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        if (_threads.Length > 0)
            _wake.Release(_threads.Length);
        foreach (var thread in _threads)
            thread.Join();
        _wake.Dispose();
    }

    private sealed class Job(int chunks, Action<int> body)
    {
        private int _next;
        public int Done;
        public Exception? Failure;

        // Claims chunks until none are left. A member that arrives late finds the counter exhausted and leaves.
        public void Work()
        {
            int chunk;
            while ((chunk = Interlocked.Increment(ref _next) - 1) < chunks)
            {
                try
                {
                    body(chunk);
                }
                catch (Exception e)
                {
                    Failure = e;
                }
                Interlocked.Increment(ref Done);
            }
        }
    }
}
