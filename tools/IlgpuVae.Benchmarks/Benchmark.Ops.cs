using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Models;

namespace IlgpuVae.Benchmarks;

/// <summary>One op's measured time at one shape.</summary>
/// <param name="Implementation">The <see cref="IOps"/> implementation that ran it (its <see cref="IOps.Name"/>).</param>
/// <param name="Op">What ran, e.g. "gemm NT" or "adam".</param>
/// <param name="Shape">Its shape, e.g. "128x400x784" (GEMM: MxNxK) or "1.07M params".</param>
/// <param name="Role">Where training uses it, e.g. "forward" or "weight grad"; empty when there is one use.</param>
/// <param name="Seconds">Time of one call, synchronised: the mean over the fastest of up to ten groups of calls.</param>
/// <param name="Work">Floating-point operations (for a GEMM) or bytes moved (for the rest) of one call.</param>
/// <param name="Unit">"GFLOP/s" when <paramref name="Work"/> counts operations, "GB/s" when it counts bytes.</param>
internal sealed record OpTiming(string Implementation, string Op, string Shape, string Role, double Seconds, double Work, string Unit)
{
    /// <summary>Work per second in billions: GFLOP/s or GB/s, as <see cref="Unit"/> says.</summary>
    public double Rate => Work / Seconds / 1e9;

    /// <summary>"gemm NT 128x400x784 (forward)": op, shape and role in one label.</summary>
    public string Label => Role.Length == 0 ? $"{Op} {Shape}" : $"{Op} {Shape} ({Role})";
}

/// <summary>
/// The measurements behind this tool's <c>ops</c> and <c>train</c>: <see cref="Ops"/> times each op of a training step,
/// <see cref="Train"/> times training itself, and <see cref="PeakGflops"/> the host's arithmetic peak they are judged by.
/// </summary>
internal static partial class Benchmark
{
    /// <summary>
    /// Times the ops of training <paramref name="config"/> at batch <paramref name="batch"/>: every op a VAE's training
    /// step calls, at that model's shapes, on one device's <see cref="IOps"/>: each op once to warm up, then
    /// <c>repeats</c> calls in up to ten groups, each group between two synchronisations; the fastest group's mean is
    /// the figure (on a shared machine other processes only add time).
    /// </summary>
    /// <param name="device">The device whose ops run.</param>
    /// <param name="config">The model whose shapes are timed: D, the first hidden width H, Z, and its parameter count for Adam.</param>
    /// <param name="batch">B.</param>
    /// <param name="repeats">Timed calls per op; the ILGPU kernels on the CPU accelerator, being slow, run a tenth as many.</param>
    /// <param name="measured">Called with each row as soon as it is measured (results print as they come).</param>
    /// <returns>One row per op, in the order run.</returns>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    public static IReadOnlyList<OpTiming> Ops(ComputeDevice device, VaeConfig config, int batch = 128, int repeats = 50,
        Action<OpTiming>? measured = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repeats);
        device.ThrowIfDisposed();
        // The device is the benchmark's alone while it runs: timings of shared ops would measure the other users.
        lock (device.Gate)
            return RunHeld(device, config, batch, repeats, measured);
    }

    /// <summary>
    /// The host's FP32 peak in GFLOP/s: <paramref name="threads"/> threads at once, each a loop of independent fused
    /// multiply-adds on the widest vectors the CPU has (16 accumulators of 512 bits with AVX-512, 12 of 256 with FMA3),
    /// nothing but arithmetic; the fastest of 30 short trials, since other processes only ever slow it down.
    /// </summary>
    /// <param name="threads">Threads running at once; null for the vectorised ops' count (every core, or ILGPU_VAE_THREADS).</param>
    /// <param name="used">The threads that ran.</param>
    /// <returns>Floating-point operations per second of all threads together, in billions (a multiply-add is two).</returns>
    public static double PeakGflops(int? threads, out int used)
    {
        int count = used = threads ?? CpuOps.Threads;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        // Many short trials (about 3 ms each): on a shared machine some of them run undisturbed.
        const long iterations = 1_000_000;
        double best = 0;
        for (int trial = 0; trial < 30; trial++)
        {
            var flops = new double[count];
            var seconds = new double[count];
            using var go = new ManualResetEventSlim();
            var team = Enumerable.Range(0, count).Select(t => new Thread(() =>
            {
                go.Wait();
                var clock = Stopwatch.StartNew();
                flops[t] = FmaLoop(iterations);
                seconds[t] = clock.Elapsed.TotalSeconds;
            }) { IsBackground = true }).ToArray();
            foreach (var thread in team)
                thread.Start();
            go.Set();
            foreach (var thread in team)
                thread.Join();
            best = Math.Max(best, flops.Sum() / seconds.Max() / 1e9);
        }
        return best;
    }

    // Floating-point operations done by `iterations` rounds of independent multiply-add chains (the result is checked so
    // that the JIT keeps the loop).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static double FmaLoop(long iterations)
    {
        float sum;
        double flops;
        if (Avx512F.IsSupported)
        {
            var m = Vector512.Create(0.999999f);
            var a = Vector512.Create(1e-7f);
            Vector512<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a,
                c8 = a, c9 = a, c10 = a, c11 = a, c12 = a, c13 = a, c14 = a, c15 = a;
            for (long i = 0; i < iterations; i++)
            {
                c0 = Avx512F.FusedMultiplyAdd(c0, m, a); c1 = Avx512F.FusedMultiplyAdd(c1, m, a);
                c2 = Avx512F.FusedMultiplyAdd(c2, m, a); c3 = Avx512F.FusedMultiplyAdd(c3, m, a);
                c4 = Avx512F.FusedMultiplyAdd(c4, m, a); c5 = Avx512F.FusedMultiplyAdd(c5, m, a);
                c6 = Avx512F.FusedMultiplyAdd(c6, m, a); c7 = Avx512F.FusedMultiplyAdd(c7, m, a);
                c8 = Avx512F.FusedMultiplyAdd(c8, m, a); c9 = Avx512F.FusedMultiplyAdd(c9, m, a);
                c10 = Avx512F.FusedMultiplyAdd(c10, m, a); c11 = Avx512F.FusedMultiplyAdd(c11, m, a);
                c12 = Avx512F.FusedMultiplyAdd(c12, m, a); c13 = Avx512F.FusedMultiplyAdd(c13, m, a);
                c14 = Avx512F.FusedMultiplyAdd(c14, m, a); c15 = Avx512F.FusedMultiplyAdd(c15, m, a);
            }
            sum = Vector512.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)) + ((c12 + c13) + (c14 + c15)));
            flops = iterations * 16.0 * 16 * 2;
        }
        else if (Fma.IsSupported)
        {
            var m = Vector256.Create(0.999999f);
            var a = Vector256.Create(1e-7f);
            Vector256<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
            for (long i = 0; i < iterations; i++)
            {
                c0 = Fma.MultiplyAdd(c0, m, a); c1 = Fma.MultiplyAdd(c1, m, a); c2 = Fma.MultiplyAdd(c2, m, a);
                c3 = Fma.MultiplyAdd(c3, m, a); c4 = Fma.MultiplyAdd(c4, m, a); c5 = Fma.MultiplyAdd(c5, m, a);
                c6 = Fma.MultiplyAdd(c6, m, a); c7 = Fma.MultiplyAdd(c7, m, a); c8 = Fma.MultiplyAdd(c8, m, a);
                c9 = Fma.MultiplyAdd(c9, m, a); c10 = Fma.MultiplyAdd(c10, m, a); c11 = Fma.MultiplyAdd(c11, m, a);
            }
            sum = Vector256.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
            flops = iterations * 12.0 * 8 * 2;
        }
        else
        {
            var m = new System.Numerics.Vector<float>(0.999999f);
            var a = new System.Numerics.Vector<float>(1e-7f);
            System.Numerics.Vector<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a;
            for (long i = 0; i < iterations; i++)
            {
                c0 = c0 * m + a; c1 = c1 * m + a; c2 = c2 * m + a; c3 = c3 * m + a;
                c4 = c4 * m + a; c5 = c5 * m + a; c6 = c6 * m + a; c7 = c7 * m + a;
            }
            sum = System.Numerics.Vector.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)));
            flops = iterations * 8.0 * System.Numerics.Vector<float>.Count * 2;
        }
        // Every chain tends to a / (1 - m) = 0.1; anything else means the loop did not run as written.
        return float.IsFinite(sum) && sum > 0 ? flops : throw new InvalidOperationException("the FMA loop went wrong");
    }

    private static IReadOnlyList<OpTiming> RunHeld(ComputeDevice device, VaeConfig config, int batch, int repeats,
        Action<OpTiming>? measured)
    {
        var ops = device.Ops;
        int reps = device.Kind == DeviceChoice.Cpu && device.Ops is not CpuOps ? Math.Max(1, repeats / 10) : repeats;
        int b = batch, pixels = config.InputSize, h = config.Hidden[0], z = config.Latent;
        // The first dense layer's input: the image, or a convolutional model's last feature maps.
        var (mapChannels, mapHeight, mapWidth) = config.ConvOutput;
        int d = config.IsConvolutional ? mapChannels * mapHeight * mapWidth : pixels;
        int parameters = VaeNetwork.LayoutOf(config).Count;
        using var x = device.Allocate<float>((long)b * Math.Max(d, pixels));
        using var w = device.Allocate<float>((long)h * d);
        using var y = device.Allocate<float>((long)b * h);
        using var big = device.Allocate<float>((long)b * d);
        using var targets = device.Allocate<float>((long)b * pixels);
        using var dlogits = device.Allocate<float>((long)b * pixels);
        using var weights = device.Allocate<float>(parameters);
        using var gradients = device.Allocate<float>(parameters);
        using var m = device.Allocate<float>(parameters);
        using var v = device.Allocate<float>(parameters);
        using var loss = device.Allocate<float>(b);
        using var small = device.Allocate<float>((long)b * 2 * z);
        using var dsmall = device.Allocate<float>((long)b * 2 * z);
        ops.Normal(x.View.BaseView, 1, 1);
        ops.Normal(w.View.BaseView, 1, 2);
        // Targets in [0, 1] like pixels; every op reads sane values (denormals or NaNs would time something else).
        ops.Normal(targets.View.BaseView, 1, 3);
        ops.Activate(targets.View.BaseView, targets.View.BaseView, Activation.Sigmoid);
        ops.Normal(small.View.BaseView, 1, 4);
        string millions = $"{parameters / 1e6:0.00}M params";
        var cases = new (string Op, string Shape, string Role, double Work, string Unit, Action Run)[]
        {
            ("gemm NT", $"{b}x{h}x{d}", "forward", 2.0 * b * h * d, "GFLOP/s", () => ops.Gemm(false, true, b, h, d, 1f, x.View.BaseView, d, w.View.BaseView, d, 0f, y.View.BaseView, h)),
            ("gemm NN", $"{b}x{d}x{h}", "input grad", 2.0 * b * h * d, "GFLOP/s", () => ops.Gemm(false, false, b, d, h, 1f, y.View.BaseView, h, w.View.BaseView, d, 0f, big.View.BaseView, d)),
            ("gemm TN", $"{h}x{d}x{b}", "weight grad", 2.0 * b * h * d, "GFLOP/s", () => ops.Gemm(true, false, h, d, b, 1f, y.View.BaseView, h, x.View.BaseView, d, 1f, w.View.BaseView, d)),
            ("gemm NT", $"{b}x{2 * z}x{h}", "heads", 2.0 * b * 2 * z * h, "GFLOP/s", () => ops.Gemm(false, true, b, 2 * z, h, 1f, y.View.BaseView, h, w.View.BaseView, h, 0f, small.View.BaseView, 2 * z)),
            ("bias+relu", $"{b}x{h}", "", 8.0 * b * h, "GB/s", () => ops.BiasActivation(y.View.BaseView, x.View.BaseView.SubView(0, h), Activation.Relu)),
            ("bce+grad", $"{b}x{pixels}", "", 12.0 * b * pixels, "GB/s", () => ops.BceWithLogits(x.View.BaseView.SubView(0, (long)b * pixels), targets.View.BaseView, loss.View.BaseView, dlogits.View.BaseView, 1f)),
            ("kl+grad", $"{b}x{z}", "", 12.0 * b * z, "GB/s", () => ops.KlDivergence(small.View.BaseView, loss.View.BaseView, dsmall.View.BaseView, z, 1f)),
            ("adam", millions, "", 28.0 * parameters, "GB/s", () => ops.Adam(weights.View.BaseView, gradients.View.BaseView, m.View.BaseView, v.View.BaseView, AdamStep.Create(1e-3f, 0.9f, 0.999f, 1e-8f, 1))),
            ("normal", $"{b}x{z}", "", 4.0 * b * z, "GB/s", () => ops.Normal(small.View.BaseView.SubView(0, (long)b * z), 3, 4)),
        };
        using var convolutions = ConvolutionCases(device, config, b, out var convCases);
        var rows = new List<OpTiming>();
        foreach (var (op, shape, role, work, unit, run) in cases.Concat(convCases))
        {
            run();
            ops.Synchronize();
            // The fastest of up to ten groups of calls: other processes on a shared machine only ever add time.
            int groups = Math.Min(reps, 10), perGroup = reps / groups;
            double best = double.PositiveInfinity;
            for (int g = 0; g < groups; g++)
            {
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < perGroup; i++)
                    run();
                ops.Synchronize();
                best = Math.Min(best, clock.Elapsed.TotalSeconds / perGroup);
            }
            var row = new OpTiming(ops.Name, op, shape, role, best, work, unit);
            rows.Add(row);
            measured?.Invoke(row);
        }
        return rows;
    }

    /// <summary>
    /// A convolutional model's three convolution ops per layer, at its shapes: the encoder's convolution i and the
    /// decoder's mirrored transposed convolution share one shape (the transposed layer runs its dual's ops), so each
    /// row times two uses in a training step.
    /// </summary>
    private static Buffers ConvolutionCases(ComputeDevice device, VaeConfig config, int b,
        out List<(string Op, string Shape, string Role, double Work, string Unit, Action Run)> cases)
    {
        cases = [];
        var buffers = new Buffers();
        if (!config.IsConvolutional)
            return buffers;
        var ops = device.Ops;
        int channels = 1, height = config.ImageHeight, width = config.ImageWidth;
        foreach (int outChannels in config.Channels)
        {
            var s = ConvShape.Create(b, channels, height, width, outChannels, VaeConfig.ConvKernel, VaeConfig.ConvKernel,
                VaeConfig.ConvStride, VaeConfig.ConvPadding);
            var input = buffers.Add(device, s.InputLength);
            var output = buffers.Add(device, s.OutputLength);
            var weight = buffers.Add(device, s.WeightLength);
            ops.Normal(input, 2, (ulong)channels);
            ops.Normal(output, 3, (ulong)channels);
            ops.Normal(weight, 4, (ulong)channels);
            string shape = $"{b}x{channels}x{height}x{width}->{outChannels}x{s.OutHeight}x{s.OutWidth}";
            double work = 2.0 * s.MultiplyAdds;
            cases.Add(("conv2d", shape, "forward; convT input grad", work, "GFLOP/s", () => ops.Conv2d(input, weight, output, s)));
            cases.Add(("conv2d^T", shape, "input grad; convT forward", work, "GFLOP/s", () => ops.Conv2dTransposed(output, weight, input, s)));
            cases.Add(("conv2d dW", shape, "weight grad, both", work, "GFLOP/s", () => ops.Conv2dWeightGradient(input, output, weight, s)));
            (channels, height, width) = (outChannels, s.OutHeight, s.OutWidth);
        }
        return buffers;
    }

    private sealed class Buffers : IDisposable
    {
        private readonly List<IDisposable> _owned = [];

        public ILGPU.ArrayView<float> Add(ComputeDevice device, long length)
        {
            var buffer = device.Allocate<float>(length);
            _owned.Add(buffer);
            return buffer.View.BaseView;
        }

        public void Dispose()
        {
            foreach (var buffer in _owned)
                buffer.Dispose();
        }
    }
}
