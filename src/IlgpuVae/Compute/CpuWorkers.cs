namespace IlgpuVae.Compute;

/// <summary>
/// A fixed team of threads for the vectorised CPU ops: the caller plus one dedicated thread per other core.
/// Unlike Parallel.For, every member is guaranteed to run at once, so work items may wait on each other at a
/// barrier; workers spin briefly between jobs, because the ops of a training step follow each other within
/// microseconds and a sleeping thread takes tens of microseconds to wake.
/// </summary>
internal sealed class CpuWorkers : IDisposable
{
    private const int SpinIterations = 5_000;
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private Action<int>? _work;
    private long _generation;
    private int _pending;
    private volatile bool _stopping;
    private Exception? _failure;

    public CpuWorkers(int count)
    {
        Count = Math.Max(1, count);
        _threads = new Thread[Count - 1];
        _wake = new SemaphoreSlim[Count - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int member = i + 1;
            _wake[i] = new SemaphoreSlim(0);
            _threads[i] = new Thread(() => Loop(member)) { IsBackground = true, Name = $"ilgpu-vae cpu {member}" };
            _threads[i].Start();
        }
        Barrier = new SpinBarrier(Count);
    }

    /// <summary>Threads in the team, the caller included.</summary>
    public int Count { get; }

    /// <summary>A barrier for the members of one <see cref="Run"/>.</summary>
    public SpinBarrier Barrier { get; }

    /// <summary>Runs <paramref name="work"/>(member) on every member and returns when all are done.</summary>
    public void Run(Action<int> work)
    {
        if (Count == 1)
        {
            work(0);
            return;
        }
        _work = work;
        _failure = null;
        Volatile.Write(ref _pending, Count - 1);
        Interlocked.Increment(ref _generation);
        foreach (var wake in _wake)
        {
            if (wake.CurrentCount == 0)
                wake.Release();
        }
        try
        {
            work(0);
        }
        finally
        {
            var spinner = new SpinWait();
            while (Volatile.Read(ref _pending) != 0)
                spinner.SpinOnce(sleep1Threshold: -1);
            _work = null;
        }
        if (_failure is not null)
            throw new AggregateException(_failure);
    }

    private void Loop(int member)
    {
        long seen = 0;
        while (true)
        {
            // Spin for the next job first; block only when the team has been idle for a while.
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen && !_stopping)
            {
                if (++spins < SpinIterations)
                    Thread.SpinWait(10);
                else
                    _wake[member - 1].Wait();
            }
            if (_stopping)
                return;
            seen = Volatile.Read(ref _generation);
            try
            {
                _work!(member);
            }
            catch (Exception e)
            {
                _failure = e;
            }
            Interlocked.Decrement(ref _pending);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (var wake in _wake)
            wake.Release();
        foreach (var thread in _threads)
            thread.Join();
        foreach (var wake in _wake)
            wake.Dispose();
    }
}

/// <summary>A sense-reversing spin barrier for a team whose members all run at once.</summary>
internal sealed class SpinBarrier(int members)
{
    private readonly int _members = members;
    private int _remaining = members;
    private volatile int _sense;

    public void SignalAndWait()
    {
        int sense = _sense;
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _remaining = _members;
            _sense = 1 - sense;
            return;
        }
        var spinner = new SpinWait();
        while (_sense == sense)
            spinner.SpinOnce(sleep1Threshold: -1);
    }
}
