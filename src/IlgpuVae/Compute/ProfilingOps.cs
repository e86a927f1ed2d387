using System.Diagnostics;
using System.Reflection;
using System.Runtime.ExceptionServices;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>
/// A profiler for benchmarks: an <see cref="IOps"/> made by <see cref="DispatchProxy"/> that runs every op on the
/// wrapped ops, synchronises after it and adds its time to a per-op table (per shape where a formatter below names
/// one). Every op is timed by its name without code of its own here, so a new op needs nothing in this file. The
/// synchronisations cost time, so totals exceed a normal run's.
/// </summary>
internal class ProfilingOps : DispatchProxy
{
    // The shape that tells one call of an op from another, for the ops whose cost depends on more than their length.
    private static readonly Dictionary<string, Func<object?[], string>> Details = new()
    {
        [nameof(IOps.Gemm)] = a => $"{((bool)a[0]! ? 'T' : 'N')}{((bool)a[1]! ? 'T' : 'N')} {a[2]}x{a[3]}x{a[4]}",
        [nameof(IOps.BiasActivation)] = a => $"{Length(a[0]) / Length(a[1])}x{Length(a[1])}",
        [nameof(IOps.ActivationBackward)] = a => $"{Length(a[0])}",
        [nameof(IOps.BiasGradient)] = a => $"{Length(a[0]) / Length(a[1])}x{Length(a[1])}",
        [nameof(IOps.LinearForward)] = a => $"{a[4]}x{a[6]}x{a[5]}",
        [nameof(IOps.LinearParameterGradient)] = a => $"{a[6]}x{a[5]}x{a[4]}",
        [nameof(IOps.LinearInputGradient)] = a => $"{a[3]}x{a[6]}x{a[5]}",
        [nameof(IOps.Conv2d)] = a => a[3]!.ToString()!,
        [nameof(IOps.Conv2dTransposed)] = a => a[3]!.ToString()!,
        [nameof(IOps.Conv2dWeightGradient)] = a => a[3]!.ToString()!,
        [nameof(IOps.ChannelBiasActivation)] = a => $"{Length(a[0]) / Length(a[1]) / (int)a[2]!}x{Length(a[1])}x{a[2]}",
        [nameof(IOps.ChannelBiasGradient)] = a => $"{Length(a[0]) / Length(a[1]) / (int)a[2]!}x{Length(a[1])}x{a[2]}",
    };

    private readonly Dictionary<string, (double Seconds, long Calls)> _table = [];
    private IOps _inner = null!;

    /// <summary>Wraps <paramref name="inner"/>: the returned ops time every call into the returned profiler's table.</summary>
    /// <param name="inner">The ops to time.</param>
    /// <returns>The timing ops (also a <see cref="ProfilingOps"/>).</returns>
    public static IOps Wrap(IOps inner)
    {
        var ops = Create<IOps, ProfilingOps>();
        ((ProfilingOps)(object)ops)._inner = inner;
        return ops;
    }

    /// <summary>Seconds and calls per op name, largest first.</summary>
    public IReadOnlyList<(string Op, double Seconds, long Calls)> Table =>
        _table.Select(e => (e.Key, e.Value.Seconds, e.Value.Calls)).OrderByDescending(e => e.Seconds).ToList();

    /// <summary>Forgets what was measured.</summary>
    public void Reset() => _table.Clear();

    /// <inheritdoc />
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        // Properties (the name) and the synchronisation itself pass through untimed.
        if (targetMethod.IsSpecialName || targetMethod.Name == nameof(IOps.Synchronize))
            return Call(targetMethod, args);
        long start = Stopwatch.GetTimestamp();
        object? result = Call(targetMethod, args);
        _inner.Synchronize();
        string key = Details.TryGetValue(targetMethod.Name, out var detail) ? $"{targetMethod.Name} {detail(args!)}" : targetMethod.Name;
        var (seconds, calls) = _table.GetValueOrDefault(key);
        _table[key] = (seconds + Stopwatch.GetElapsedTime(start).TotalSeconds, calls + 1);
        return result;
    }

    // The wrapped ops' own implementation (an op they do not override runs the interface's default on them).
    private object? Call(MethodInfo method, object?[]? args)
    {
        try
        {
            return method.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    private static long Length(object? view) => view switch
    {
        ILGPU.ArrayView<float> f => f.Length,
        ILGPU.ArrayView<int> i => i.Length,
        _ => 0,
    };
}
