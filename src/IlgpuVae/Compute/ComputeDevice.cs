using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace IlgpuVae.Compute;

/// <summary>Which accelerator to run on.</summary>
public enum DeviceChoice
{
    /// <summary>
    /// A GPU (CUDA first, then an OpenCL GPU), else the CPU accelerator with the vectorised ops. An OpenCL device of type
    /// CPU (PoCL, Intel's CPU runtime) is never picked automatically: the vectorised ops are far faster on the same cores.
    /// </summary>
    Auto,
    /// <summary>The first CUDA device.</summary>
    Cuda,
    /// <summary>The first OpenCL GPU ILGPU accepts, else its first OpenCL device of any type (a CPU runtime such as PoCL).</summary>
    OpenCL,
    /// <summary>ILGPU's CPU accelerator, using every core.</summary>
    Cpu,
}

/// <summary>What <c>ilgpu-vae devices</c> reports about one accelerator.</summary>
/// <param name="Name">The device's name.</param>
/// <param name="Kind">CUDA, OpenCL or CPU.</param>
/// <param name="MemoryBytes">Device memory in bytes.</param>
/// <param name="Multiprocessors">Multiprocessors (cores for the CPU accelerator).</param>
/// <param name="WarpSize">Threads per warp.</param>
/// <param name="MaxThreadsPerGroup">Largest group.</param>
/// <param name="Type">What the device is: "gpu", "cpu" or "accelerator" (an OpenCL device reports its own type).</param>
public sealed record DeviceInfo(string Name, DeviceChoice Kind, long MemoryBytes, int Multiprocessors, int WarpSize,
    int MaxThreadsPerGroup, string Type)
{
    /// <summary>Whether the device is a GPU, which <see cref="DeviceChoice.Auto"/> prefers to the CPU.</summary>
    public bool IsGpu => Type == "gpu";
}

/// <summary>
/// One ILGPU context and accelerator, with the ops that run on it. Create one per process and dispose it last.
/// </summary>
/// <remarks>
/// The device's ops serve one thread at a time, so every model, trainer and measurement on a device holds the
/// device's lock while it uses it: several models on one device, used from several threads at once, take turns
/// (one training step, one inference batch at a time) and never see each other's work. A disposed device throws
/// <see cref="ObjectDisposedException"/> from every member, and so does every model on it.
/// </remarks>
public sealed class ComputeDevice : IDisposable
{
    private readonly Context _context;
    private readonly DeviceChoice _kind;
    private bool _disposed;

    private ComputeDevice(Context context, Accelerator accelerator, DeviceChoice kind, bool cpuKernels, ILogger logger, string reason)
    {
        _context = context;
        Accelerator = accelerator;
        _kind = kind;
        Logger = logger;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Ops = kind == DeviceChoice.Cpu && !cpuKernels
            ? new CpuOps((CPUAccelerator)accelerator)
            : new KernelOps(accelerator);
        LibraryLog.DeviceOpened(logger, $"{accelerator.Name} [{kind}], {Ops.Name} ops", reason, clock.Elapsed.TotalMilliseconds);
    }

    private ComputeDevice(Context context, Accelerator accelerator, DeviceChoice kind, IOps ops, ILogger logger)
    {
        _context = context;
        Accelerator = accelerator;
        _kind = kind;
        Logger = logger;
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
        return new ComputeDevice(context, accelerator, DeviceChoice.Cpu, new KernelOps(accelerator, forceTiledGemm: true),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
    }

    /// <summary>The ILGPU accelerator.</summary>
    internal Accelerator Accelerator { get; }

    /// <summary>Held by everything that uses the device's ops or its buffers: one thread at a time.</summary>
    internal object Gate { get; } = new();

    /// <summary>Where the library's few messages go (device chosen, kernels loaded, checkpoints written); never the console.</summary>
    internal ILogger Logger { get; }

    /// <summary>Throws <see cref="ObjectDisposedException"/> when the device was disposed.</summary>
    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>The kind of device (never <see cref="DeviceChoice.Auto"/>).</summary>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    public DeviceChoice Kind
    {
        get
        {
            ThrowIfDisposed();
            return _kind;
        }
    }

    /// <summary>The numerical ops for this device.</summary>
    internal IOps Ops { get; private set; }

    /// <summary>Wraps every op in a <see cref="ProfilingOps"/> (for benchmarks); returns the profiler.</summary>
    /// <returns>The profiler now behind <see cref="Ops"/>.</returns>
    internal ProfilingOps EnableProfiling()
    {
        if (Ops is ProfilingOps existing)
            return existing;
        _plainOps = Ops;
        Ops = ProfilingOps.Wrap(Ops);
        return (ProfilingOps)(object)Ops;
    }

    private IOps? _plainOps;

    /// <summary>
    /// The memory buffers can take: the accelerator's, and for the CPU accelerator no more than the process may use
    /// (the machine's memory or the container's limit).
    /// </summary>
    internal long MemoryBytes => Accelerator is CPUAccelerator
        ? Math.Min(Accelerator.MemorySize <= 0 ? long.MaxValue : Accelerator.MemorySize, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)
        : Accelerator.MemorySize;

    /// <summary>Refuses, with one line, a request for more memory than the device has, before anything is allocated.</summary>
    /// <param name="bytes">The bytes needed.</param>
    /// <param name="what">What needs them, e.g. "a vae 784-400-20 model (318,000 parameters)".</param>
    /// <exception cref="ArgumentException">The device has less memory.</exception>
    internal void CheckMemory(double bytes, string what)
    {
        long available = MemoryBytes;
        if (available > 0 && bytes > available)
            throw new ArgumentException($"{what} needs {FormatBytes(bytes)}; the device has {FormatBytes(available)}");
    }

    /// <summary>Bytes in decimal units with two significant digits or so: "3.1 TB", "24 GB", "512 kB".</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The text.</returns>
    internal static string FormatBytes(double bytes)
    {
        string[] units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB"];
        int unit = 0;
        while (bytes >= 1000 && unit < units.Length - 1)
        {
            bytes /= 1000;
            unit++;
        }
        return (bytes < 10 && unit > 0 ? bytes.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)
            : Math.Round(bytes).ToString(System.Globalization.CultureInfo.InvariantCulture)) + " " + units[unit];
    }

    /// <summary>A one-line description, e.g. "CPU accelerator (2 cores), vectorized ops".</summary>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    public string Description
    {
        get
        {
            ThrowIfDisposed();
            return $"{Accelerator.Name} [{_kind}], {Ops.Name} ops";
        }
    }

    /// <summary>Opens the device <paramref name="choice"/> names.</summary>
    /// <example>
    /// <code>
    /// using var device = ComputeDevice.Open(DeviceChoice.Auto, loggerFactory: loggerFactory);
    /// Console.WriteLine(device.Description);   // e.g. "CPUAccelerator [Cpu], vectorized ops"
    /// </code>
    /// </example>
    /// <param name="choice">Which device.</param>
    /// <param name="cpuKernels">
    /// When the device is the CPU accelerator: false (the default) runs the ops as vectorised host code on its buffers,
    /// the fast way; true runs the ILGPU kernels there, as a GPU runs them, which tests their logic without a GPU.
    /// Ignored on a GPU.
    /// </param>
    /// <param name="loggerFactory">
    /// Gives the logger (category "IlgpuVae") for the device chosen and why, a fallback to the CPU, and later each
    /// epoch, checkpoint, saved model, stop and divergence of the models and trainers on this device, each with its
    /// own event id; null for none. The library never writes to the console.
    /// </param>
    /// <returns>The open device.</returns>
    /// <exception cref="PlatformNotSupportedException">The machine has no device of the kind <paramref name="choice"/> asks
    /// for (no CUDA device, or no OpenCL device ILGPU accepts); the message is one line for the user.</exception>
    public static ComputeDevice Open(DeviceChoice choice = DeviceChoice.Auto, bool cpuKernels = false,
        ILoggerFactory? loggerFactory = null)
    {
        var context = CreateContext();
        try
        {
            var device = Pick(context, choice);
            var kind = KindOf(device);
            var logger = loggerFactory?.CreateLogger(LibraryLog.Category) ?? NullLogger.Instance;
            string reason = choice != DeviceChoice.Auto ? $"asked for {choice}"
                : kind == DeviceChoice.Cpu ? "auto, no GPU found" : $"auto, the first {(kind == DeviceChoice.Cuda ? "CUDA" : "OpenCL")} GPU";
            if (choice == DeviceChoice.Auto && kind == DeviceChoice.Cpu)
                LibraryLog.DeviceFallback(logger);
            var accelerator = device.CreateAccelerator(context);
            return new ComputeDevice(context, accelerator, kind, cpuKernels, logger, reason);
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
            d.WarpSize, d.MaxNumThreadsPerGroup, TypeOf(d))).ToList();
    }

    /// <summary>Allocates a zeroed buffer on the device.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="length">Elements.</param>
    /// <returns>The buffer; dispose it when done.</returns>
    internal MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length) where T : unmanaged
    {
        var buffer = Accelerator.Allocate1D<T>(Math.Max(1, length));
        buffer.MemSetToZero();
        return buffer;
    }

    /// <summary>Copies host data into a new device buffer.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="data">The data.</param>
    /// <returns>The buffer.</returns>
    internal MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        var buffer = Accelerator.Allocate1D<T>(Math.Max(1, data.Length));
        if (data.Length > 0)
            buffer.View.BaseView.SubView(0, data.Length).CopyFromCPU(data);
        return buffer;
    }

    /// <summary>Frees the accelerator and its context; models and trainers on the device must be disposed first.</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            ((_plainOps ?? Ops) as IDisposable)?.Dispose();
            Accelerator.Dispose();
            _context.Dispose();
        }
    }

    private static Context CreateContext()
    {
        OpenClLoader.Register();
        return Context.Create(builder => builder
        .Cuda()
        .OpenCL()
        // Every core: one multiprocessor per core, so grid-stride launches use them all.
        .CPU(new CPUDevice(4, 4, Environment.ProcessorCount))
        // Exp, Log, Tanh and friends need the algorithms library's intrinsics on CUDA.
        .EnableAlgorithms()
        .Optimize(OptimizationLevel.O1));
    }

    private static Device Pick(Context context, DeviceChoice choice)
    {
        Device? cuda = context.GetCudaDevices().Count > 0 ? context.GetCudaDevices()[0] : null;
        var openCl = new List<Device>();
        foreach (var device in context.GetCLDevices())
            openCl.Add(device);
        Device? openClGpu = openCl.FirstOrDefault(d => TypeOf(d) == "gpu");
        Device cpu = context.GetCPUDevices()[0];
        return choice switch
        {
            // A CPU OpenCL device runs our kernels ~20x slower than the vectorised ops on the same cores: by name only.
            DeviceChoice.Auto => cuda ?? openClGpu ?? cpu,
            DeviceChoice.Cuda => cuda ?? throw new PlatformNotSupportedException(
                "no CUDA device found (is the NVIDIA driver installed and libcuda.so on the library path?)"),
            DeviceChoice.OpenCL => openClGpu ?? openCl.FirstOrDefault() ?? throw new PlatformNotSupportedException(
                "no OpenCL device that ILGPU accepts (it needs OpenCL 2.0, or 3.0 with the generic address space)"),
            _ => cpu,
        };
    }

    private static string TypeOf(Device device) => device switch
    {
        CLDevice cl when cl.DeviceType.HasFlag(CLDeviceType.CL_DEVICE_TYPE_GPU) => "gpu",
        CLDevice cl when cl.DeviceType.HasFlag(CLDeviceType.CL_DEVICE_TYPE_CPU) => "cpu",
        CLDevice => "accelerator",
        _ when device.AcceleratorType == AcceleratorType.Cuda => "gpu",
        _ => "cpu",
    };

    private static DeviceChoice KindOf(Device device) => device.AcceleratorType switch
    {
        AcceleratorType.Cuda => DeviceChoice.Cuda,
        AcceleratorType.OpenCL => DeviceChoice.OpenCL,
        _ => DeviceChoice.Cpu,
    };
}
