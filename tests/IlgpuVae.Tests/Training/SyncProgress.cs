namespace IlgpuVae.Tests.Training;

/// <summary>
/// Runs an action on each report, on the reporting thread: <see cref="Progress{T}"/> would post to the thread pool and
/// race the assertions (and a cancellation meant for a given step).
/// </summary>
/// <typeparam name="T">The report type.</typeparam>
/// <param name="action">What to do with each report.</param>
internal sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
{
    public void Report(T value) => action(value);
}
