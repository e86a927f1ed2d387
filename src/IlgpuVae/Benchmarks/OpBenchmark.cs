using System.Diagnostics;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Models;

namespace IlgpuVae.Benchmarks;

/// <summary>One op's measured time at one shape.</summary>
/// <param name="Implementation">The <see cref="IOps"/> implementation that ran it (its <see cref="IOps.Name"/>).</param>
/// <param name="Op">What ran, e.g. "gemm NT" or "adam".</param>
/// <param name="Shape">Its shape, e.g. "128x400x784" (GEMM: MxNxK) or "1.07M params".</param>
/// <param name="Role">Where training uses it, e.g. "forward" or "weight grad"; empty when there is one use.</param>
/// <param name="Seconds">Mean time of one call, synchronised.</param>
/// <param name="Work">Floating-point operations (for a GEMM) or bytes moved (for the rest) of one call.</param>
/// <param name="Unit">"GFLOP/s" when <paramref name="Work"/> counts operations, "GB/s" when it counts bytes.</param>
public sealed record OpTiming(string Implementation, string Op, string Shape, string Role, double Seconds, double Work, string Unit)
{
    /// <summary>Work per second in billions: GFLOP/s or GB/s, as <see cref="Unit"/> says.</summary>
    public double Rate => Work / Seconds / 1e9;

    /// <summary>"gemm NT 128x400x784 (forward)": op, shape and role in one label.</summary>
    public string Label => Role.Length == 0 ? $"{Op} {Shape}" : $"{Op} {Shape} ({Role})";
}

/// <summary>
/// Times every op a VAE's training step calls, at the shapes of a given model and batch, on one device's
/// <see cref="IOps"/>: each op once to warm up, then <c>repeats</c> calls between two synchronisations.
/// </summary>
public static class OpBenchmark
{
    /// <summary>Times the ops of training <paramref name="config"/> at batch <paramref name="batch"/>.</summary>
    /// <param name="device">The device whose ops run.</param>
    /// <param name="config">The model whose shapes are timed: D, the first hidden width H, Z, and its parameter count for Adam.</param>
    /// <param name="batch">B.</param>
    /// <param name="repeats">Timed calls per op; the ILGPU kernels on the CPU accelerator, being slow, run a tenth as many.</param>
    /// <param name="measured">Called with each row as soon as it is measured (results print as they come).</param>
    /// <returns>One row per op, in the order run.</returns>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    public static IReadOnlyList<OpTiming> Run(ComputeDevice device, VaeConfig config, int batch = 128, int repeats = 50,
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
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++)
                run();
            ops.Synchronize();
            var row = new OpTiming(ops.Name, op, shape, role, clock.Elapsed.TotalSeconds / reps, work, unit);
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
