using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace IlgpuVae.Compute;

/// <summary>Which accelerator to run on.</summary>
public enum DeviceChoice
{
    /// <summary>CUDA, else OpenCL, else the CPU accelerator.</summary>
    Auto,
    /// <summary>The first CUDA device.</summary>
    Cuda,
    /// <summary>The first OpenCL device ILGPU accepts.</summary>
    OpenCL,
    /// <summary>ILGPU's CPU accelerator, using every core.</summary>
    Cpu,
}

/// <summary>How ops run on the CPU accelerator.</summary>
public enum CpuOpsMode
{
    /// <summary>Vectorised host code on the CPU accelerator's buffers (the fast default).</summary>
    Vectorized,
    /// <summary>The ILGPU kernels, as they run on a GPU: how their logic gets tested without one.</summary>
    Kernels,
}

/// <summary>What <c>ilgpu-vae devices</c> reports about one accelerator.</summary>
/// <param name="Name">The device's name.</param>
/// <param name="Kind">CUDA, OpenCL or CPU.</param>
/// <param name="MemoryBytes">Device memory in bytes.</param>
/// <param name="Multiprocessors">Multiprocessors (cores for the CPU accelerator).</param>
/// <param name="WarpSize">Threads per warp.</param>
/// <param name="MaxThreadsPerGroup">Largest group.</param>
public sealed record DeviceInfo(string Name, DeviceChoice Kind, long MemoryBytes, int Multiprocessors, int WarpSize,
    int MaxThreadsPerGroup);

/// <summary>Thrown when the requested device is absent or unusable; the message is one line for the user.</summary>
/// <param name="message">What is wrong.</param>
public sealed class DeviceUnavailableException(string message) : Exception(message);

/// <summary>
/// One ILGPU context and accelerator, with the ops that run on it. Create one per process and dispose it last.
/// </summary>
public sealed class ComputeDevice : IDisposable
{
    private readonly Context _context;

    private ComputeDevice(Context context, Accelerator accelerator, DeviceChoice kind, CpuOpsMode cpuOps)
        : this(context, accelerator, kind, kind == DeviceChoice.Cpu && cpuOps == CpuOpsMode.Vectorized
            ? new CpuOps((CPUAccelerator)accelerator)
            : new KernelOps(accelerator))
    {
    }

    private ComputeDevice(Context context, Accelerator accelerator, DeviceChoice kind, IOps ops)
    {
        _context = context;
        Accelerator = accelerator;
        Kind = kind;
        Ops = ops;
    }

    /// <summary>
    /// A CPU accelerator with 256-thread groups running the kernels a GPU runs (tiled GEMMs and all): slow, for tests of
    /// a GPU's launch sequence and of its kernels' logic on small models.
    /// </summary>
    /// <returns>The device; its <see cref="Ops"/> is a <see cref="KernelOps"/>.</returns>
    internal static ComputeDevice OpenGpuShapedCpu()
    {
        var context = Context.Create(builder => builder.CPU(new CPUDevice(32, 8, 1)).EnableAlgorithms().Optimize(OptimizationLevel.O1));
        var accelerator = context.CreateCPUAccelerator(0);
        return new ComputeDevice(context, accelerator, DeviceChoice.Cpu, new KernelOps(accelerator, forceTiledGemm: true));
    }

    /// <summary>The ILGPU accelerator.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The kind of device (never <see cref="DeviceChoice.Auto"/>).</summary>
    public DeviceChoice Kind { get; }

    /// <summary>The numerical ops for this device.</summary>
    public IOps Ops { get; private set; }

    /// <summary>Wraps every op in a <see cref="ProfilingOps"/> (for benchmarks); returns the profiler.</summary>
    /// <returns>The profiler now behind <see cref="Ops"/>.</returns>
    public ProfilingOps EnableProfiling()
    {
        if (Ops is ProfilingOps existing)
            return existing;
        var profiler = new ProfilingOps(Ops);
        _plainOps = Ops;
        Ops = profiler;
        return profiler;
    }

    private IOps? _plainOps;

    /// <summary>A one-line description, e.g. "CPU accelerator (2 cores), vectorized ops".</summary>
    public string Description => $"{Accelerator.Name} [{Kind}], {Ops.Name} ops";

    /// <summary>Opens the device <paramref name="choice"/> names.</summary>
    /// <param name="choice">Which device.</param>
    /// <param name="cpuOps">How ops run when the device is the CPU accelerator.</param>
    /// <returns>The open device.</returns>
    /// <exception cref="DeviceUnavailableException">The device is absent.</exception>
    public static ComputeDevice Open(DeviceChoice choice = DeviceChoice.Auto, CpuOpsMode cpuOps = CpuOpsMode.Vectorized)
    {
        var context = CreateContext();
        try
        {
            var device = Pick(context, choice);
            var kind = KindOf(device);
            var accelerator = device.CreateAccelerator(context);
            return new ComputeDevice(context, accelerator, kind, cpuOps);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Lists every device ILGPU finds and which one <see cref="DeviceChoice.Auto"/> picks.</summary>
    /// <param name="autoIndex">The index of the automatic choice in the list.</param>
    /// <returns>The devices.</returns>
    public static IReadOnlyList<DeviceInfo> List(out int autoIndex)
    {
        using var context = CreateContext();
        var devices = context.Devices.ToList();
        var auto = Pick(context, DeviceChoice.Auto);
        autoIndex = devices.IndexOf(auto);
        return devices.Select(d => new DeviceInfo(d.Name, KindOf(d), d.MemorySize, d.NumMultiprocessors,
            d.WarpSize, d.MaxNumThreadsPerGroup)).ToList();
    }

    /// <summary>Allocates a zeroed buffer on the device.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="length">Elements.</param>
    /// <returns>The buffer; dispose it when done.</returns>
    public MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length) where T : unmanaged
    {
        var buffer = Accelerator.Allocate1D<T>(Math.Max(1, length));
        buffer.MemSetToZero();
        return buffer;
    }

    /// <summary>Copies host data into a new device buffer.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="data">The data.</param>
    /// <returns>The buffer.</returns>
    public MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        var buffer = Accelerator.Allocate1D<T>(Math.Max(1, data.Length));
        if (data.Length > 0)
            buffer.View.BaseView.SubView(0, data.Length).CopyFromCPU(data);
        return buffer;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        ((_plainOps ?? Ops) as IDisposable)?.Dispose();
        Accelerator.Dispose();
        _context.Dispose();
    }

    private static Context CreateContext() => Context.Create(builder => builder
        .Cuda()
        .OpenCL()
        // Every core: one multiprocessor per core, so grid-stride launches use them all.
        .CPU(new CPUDevice(4, 4, Environment.ProcessorCount))
        // Exp, Log, Tanh and friends need the algorithms library's intrinsics on CUDA.
        .EnableAlgorithms()
        .Optimize(OptimizationLevel.O1));

    private static Device Pick(Context context, DeviceChoice choice)
    {
        Device? cuda = context.GetCudaDevices().Count > 0 ? context.GetCudaDevices()[0] : null;
        Device? openCl = context.GetCLDevices().Count > 0 ? context.GetCLDevices()[0] : null;
        Device cpu = context.GetCPUDevices()[0];
        return choice switch
        {
            DeviceChoice.Auto => cuda ?? openCl ?? cpu,
            DeviceChoice.Cuda => cuda ?? throw new DeviceUnavailableException(
                "no CUDA device found (is the NVIDIA driver installed and libcuda.so on the library path?); " +
                "use --device auto or --device cpu"),
            DeviceChoice.OpenCL => openCl ?? throw new DeviceUnavailableException(
                "no OpenCL device that ILGPU accepts (it needs OpenCL 2.0, or 3.0 with the generic address space); " +
                "use --device auto or --device cpu"),
            _ => cpu,
        };
    }

    private static DeviceChoice KindOf(Device device) => device.AcceleratorType switch
    {
        AcceleratorType.Cuda => DeviceChoice.Cuda,
        AcceleratorType.OpenCL => DeviceChoice.OpenCL,
        _ => DeviceChoice.Cpu,
    };
}
