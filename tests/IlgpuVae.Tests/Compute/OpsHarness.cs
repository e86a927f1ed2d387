using System.Reflection;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using IlgpuVae.Compute;
using Xunit;

namespace IlgpuVae.Tests.Compute;

/// <summary>
/// The implementations every op test runs against: the vectorised CPU ops, the ILGPU kernels on the CPU
/// accelerator (grid-stride GEMM), the same with the GPU's tiled GEMM forced (small shapes only), OpenCL when a
/// device is present (PoCL in CI: a real OpenCL compiler and runtime, independent of ILGPU's CPU simulator), and CUDA
/// when present. Devices are opened once per test run.
/// </summary>
public static class OpsHarness
{
    private static readonly Lazy<ComputeDevice> VectorizedDevice = new(() => ComputeDevice.Open(DeviceChoice.Cpu));
    private static readonly Lazy<ComputeDevice> KernelDevice = new(() => ComputeDevice.Open(DeviceChoice.Cpu, cpuKernels: true));
    // The tiled GEMM's 16 x 16 groups need a CPU device with 256 threads per multiprocessor.
    private static readonly Lazy<(Accelerator Accelerator, KernelOps Ops)> Tiled = new(() =>
    {
        var context = Context.Create(b => b.CPU(new CPUDevice(32, 8, 1)).EnableAlgorithms());
        var accelerator = context.CreateCPUAccelerator(0);
        return (accelerator, new KernelOps(accelerator, forceTiledGemm: true));
    });
    // The same accelerator with the 32 x 32 tiles a GPU picks for small products, forced for every shape.
    private static readonly Lazy<KernelOps> SmallTiled = new(() =>
        new KernelOps(Tiled.Value.Accelerator, forceTiledGemm: true) { SmallTilesBelowGroups = int.MaxValue });
    private static readonly Lazy<ComputeDevice?> CudaDevice = new(() =>
    {
        try
        {
            return ComputeDevice.Open(DeviceChoice.Cuda);
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    });
    private static readonly Lazy<ComputeDevice?> OpenClDevice = new(() =>
    {
        try
        {
            return ComputeDevice.Open(DeviceChoice.OpenCL);
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    });
    private static readonly object Gate = new();

    /// <summary>The device behind a CPU implementation, for tests that build whole networks.</summary>
    public static ComputeDevice Device(string implementation) => implementation switch
    {
        "vectorized" => VectorizedDevice.Value,
        "kernels" => KernelDevice.Value,
        "cuda" => CudaDevice.Value!,
        "opencl" => OpenClDevice.Value!,
        _ => throw new ArgumentException(implementation),
    };

    public static bool CudaAvailable => CudaDevice.Value is not null;

    public static bool OpenClAvailable => OpenClDevice.Value is not null;

    /// <summary>Why the OpenCL tests skip on this machine.</summary>
    public const string NoOpenCl =
        "no OpenCL device on this machine (CI sets up PoCL: eval \"$(bash ../shared/opencl/setup.sh)\")";

    public static TheoryData<string> Implementations => new() { "vectorized", "kernels", "tiled", "tiled-small" };

    public static TheoryData<string> CpuImplementations => new() { "vectorized", "kernels" };

    /// <summary>Runs <paramref name="test"/> with the named implementation, one test at a time per device.</summary>
    internal static void With(string implementation, Action<Accelerator, IOps> test)
    {
        var (accelerator, ops) = implementation switch
        {
            "vectorized" => (VectorizedDevice.Value.Accelerator, VectorizedDevice.Value.Ops),
            "kernels" => (KernelDevice.Value.Accelerator, KernelDevice.Value.Ops),
            "tiled" => (Tiled.Value.Accelerator, (IOps)Tiled.Value.Ops),
            "tiled-small" => (Tiled.Value.Accelerator, SmallTiled.Value),
            "cuda" => (CudaDevice.Value!.Accelerator, CudaDevice.Value.Ops),
            "opencl" => (OpenClDevice.Value!.Accelerator, OpenClDevice.Value.Ops),
            _ => throw new ArgumentException(implementation),
        };
        lock (Gate)
            test(accelerator, ops);
    }

    public static float[] Random(int length, int seed, float low = -1f, float high = 1f)
    {
        var random = new Random(seed);
        var data = new float[length];
        for (int i = 0; i < length; i++)
            data[i] = low + (high - low) * (float)random.NextDouble();
        return data;
    }

    public static MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(this Accelerator accelerator, T[] data) where T : unmanaged
    {
        var buffer = accelerator.Allocate1D<T>(Math.Max(1, data.Length));
        if (data.Length > 0)
            buffer.View.BaseView.SubView(0, data.Length).CopyFromCPU(data);
        return buffer;
    }

    /// <summary>A buffer filled with NaN, so an op that leaves an output element unwritten is caught.</summary>
    public static MemoryBuffer1D<float, Stride1D.Dense> Poisoned(this Accelerator accelerator, int length)
    {
        var data = new float[length];
        Array.Fill(data, float.NaN);
        return accelerator.Upload(data);
    }

    internal static float[] Read(this MemoryBuffer1D<float, Stride1D.Dense> buffer, IOps ops, int length = -1)
    {
        ops.Synchronize();
        var data = buffer.GetAsArray1D();
        return length < 0 ? data : data[..length];
    }

    public static ArrayView<T> V<T>(this MemoryBuffer1D<T, Stride1D.Dense> buffer, int length = -1) where T : unmanaged =>
        length < 0 ? buffer.View.BaseView : buffer.View.BaseView.SubView(0, length);

    /// <summary>Asserts |actual - expected| &lt;= rel * max(|expected|, floor) element-wise, naming the first failure.</summary>
    public static void Close(double[] expected, float[] actual, double relative, double floor = 1.0, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = relative * Math.Max(Math.Abs(expected[i]), floor);
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (tolerance {tolerance:G3})");
        }
    }
}

/// <summary>A fact that runs only where a CUDA device is present and is reported as skipped elsewhere.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!OpsHarness.CudaAvailable)
            Skip = "no CUDA device on this machine";
    }
}

/// <summary>
/// The OpenCL rows of a device-level theory: with no member, the single row "opencl"; with a member (a static
/// property or method of the test class, or of <see cref="MemberType"/>, giving the theory's rows), every row whose
/// first value is "kernels" (the ILGPU kernels on the CPU accelerator) again with "opencl" in its place, so OpenCL
/// runs the kernels path's shapes and cases; with <see cref="Prepend"/>, every row with "opencl" put in front. Where no
/// OpenCL device is present the rows are reported as skipped.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class OpenClDataAttribute : Xunit.Sdk.DataAttribute
{
    private readonly string? _member;

    public OpenClDataAttribute(string? member = null)
    {
        _member = member;
        if (!OpsHarness.OpenClAvailable)
            Skip = OpsHarness.NoOpenCl;
    }

    /// <summary>The type that holds the member, when it is not the test class.</summary>
    public Type? MemberType { get; set; }

    /// <summary>Put "opencl" in front of every row of the member instead of in place of "kernels".</summary>
    public bool Prepend { get; set; }

    public override IEnumerable<object?[]> GetData(MethodInfo testMethod)
    {
        if (_member is null)
            return [["opencl"]];
        var type = MemberType ?? testMethod.DeclaringType!;
        const BindingFlags flags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.FlattenHierarchy;
        object? rows = type.GetProperty(_member, flags)?.GetValue(null)
            ?? type.GetMethod(_member, flags, Type.EmptyTypes)?.Invoke(null, null)
            ?? throw new ArgumentException($"{type.Name}.{_member} is not a static property or method without parameters");
        var result = new List<object?[]>();
        foreach (object?[] row in (IEnumerable<object?[]>)rows)
            if (Prepend)
                result.Add(["opencl", .. row]);
            else if (row.Length > 0 && row[0] is "kernels")
                result.Add(["opencl", .. row[1..]]);
        if (result.Count == 0)
            throw new ArgumentException($"{type.Name}.{_member} has no \"kernels\" rows to run on OpenCL");
        return result;
    }
}

/// <summary>One OpenCL row of a device-level theory: "opencl" followed by the given values; skipped without OpenCL.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class OpenClInlineDataAttribute : Xunit.Sdk.DataAttribute
{
    private readonly object?[] _rest;

    public OpenClInlineDataAttribute(params object?[] rest)
    {
        _rest = rest;
        if (!OpsHarness.OpenClAvailable)
            Skip = OpsHarness.NoOpenCl;
    }

    public override IEnumerable<object?[]> GetData(MethodInfo testMethod) => [["opencl", .. _rest]];
}
