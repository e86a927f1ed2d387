using System.Globalization;
using System.Text.Json;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Training;

namespace IlgpuVae.Cli;

/// <summary>The subcommands. Each one parses options, calls the library and prints; none holds math.</summary>
public static partial class Commands
{
    private static readonly Dictionary<string, DeviceChoice> DeviceChoices = new()
    {
        ["auto"] = DeviceChoice.Auto, ["cuda"] = DeviceChoice.Cuda, ["opencl"] = DeviceChoice.OpenCL, ["cpu"] = DeviceChoice.Cpu,
    };

    private static readonly Dictionary<string, CpuOpsMode> CpuOpsChoices = new()
    {
        ["vectorized"] = CpuOpsMode.Vectorized, ["kernels"] = CpuOpsMode.Kernels,
    };

    internal static OptionSpec DeviceOption => new("--device", "accelerator: auto (CUDA, then OpenCL, then CPU), cuda, opencl or cpu", "KIND", "auto");
    internal static OptionSpec CpuOpsOption => new("--cpu-ops", "on the CPU accelerator: vectorized host code or the ILGPU kernels", "MODE", "vectorized");
    internal static OptionSpec DataOption => new("--data", $"MNIST directory (default: ${MnistFetcher.DataEnvironmentVariable}, else a per-user cache; fetched when missing)", "DIR");
    internal static OptionSpec JsonOption => new("--json", "print one JSON object on stdout instead of text");

    public static IReadOnlyList<CommandSpec> All(TextWriter stdout, TextWriter stderr) =>
    [
        Train(stdout, stderr),
        Evaluate(stdout, stderr),
        Devices(stdout),
        FetchData(stdout, stderr),
        Bench(stdout, stderr),
        Sample(stdout, stderr),
        Reconstruct(stdout, stderr),
        Interpolate(stdout, stderr),
        Manifold(stdout, stderr),
        Latent(stdout, stderr),
        Sweep(stdout, stderr),
        ClassifierCommand(stdout, stderr),
        CvaeCommand(stdout, stderr),
    ];

    internal static ComputeDevice OpenDevice(ParsedOptions options) =>
        ComputeDevice.Open(options.Choice("--device", DeviceChoices), options.Choice("--cpu-ops", CpuOpsChoices));

    /// <summary>Finds or fetches MNIST and loads it. Files in a directory the user named are verified, never replaced.</summary>
    internal static MnistData LoadData(ParsedOptions options, TextWriter log, int? trainLimit = null, CancellationToken token = default)
    {
        string? given = options.String("--data");
        string directory = MnistFetcher.ResolveDataDirectory(given);
        bool chosenByUser = given is not null || Environment.GetEnvironmentVariable(MnistFetcher.DataEnvironmentVariable) is not null;
        bool complete = true;
        if (chosenByUser)
        {
            // Verify what is there, but never replace a file the user put there: a wrong one is an error.
            foreach (var name in MnistFiles.All)
            {
                if (MnistFiles.Find(directory, name) is not string path)
                    complete = false;
                else if (!MnistFetcher.IsGenuineAsync(path, name, token).GetAwaiter().GetResult())
                    throw new DataFormatException($"{path}: does not match the SHA-256 of MNIST's {name} (corrupt, truncated or another data set)");
            }
        }
        // The fetcher checks (again) what is present and fetches what is missing or wrong.
        if (!chosenByUser || !complete)
            MnistFetcher.EnsureAsync(directory, new LineLog(log), token).GetAwaiter().GetResult();
        return MnistData.Load(directory, trainLimit);
    }

    private static CommandSpec Devices(TextWriter stdout) => new("devices", "list the ILGPU devices and the one --device auto picks",
        [JsonOption], (options, _) =>
        {
            var devices = ComputeDevice.List(out int auto);
            if (options.Flag("--json"))
            {
                stdout.WriteLine(JsonSerializer.Serialize(new
                {
                    devices = devices.Select((d, i) => new
                    {
                        name = d.Name, kind = d.Kind.ToString().ToLowerInvariant(),
                        memory_bytes = d.Kind == DeviceChoice.Cpu ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : d.MemoryBytes,
                        multiprocessors = d.Multiprocessors, warp_size = d.WarpSize, max_threads_per_group = d.MaxThreadsPerGroup,
                        auto = i == auto,
                    }),
                }));
                return 0;
            }
            stdout.WriteLine($"{"",2}{"kind",-7} {"name",-40} {"memory",10} {"MPs",5} {"warp",5}");
            for (int i = 0; i < devices.Count; i++)
            {
                var d = devices[i];
                stdout.WriteLine($"{(i == auto ? "*" : " "),2}{d.Kind.ToString().ToLowerInvariant(),-7} {Truncate(d.Name, 40),-40} {Memory(d),10} {d.Multiprocessors,5} {d.WarpSize,5}");
            }
            stdout.WriteLine("* = the device --device auto uses");
            if (!devices.Any(d => d.Kind == DeviceChoice.OpenCL))
                stdout.WriteLine("(no OpenCL device: ILGPU needs OpenCL 2.0, or 3.0 with the generic address space)");
            return 0;
        });

    private static CommandSpec FetchData(TextWriter stdout, TextWriter stderr) => new("fetch-data",
        "get MNIST into the data directory (verified by SHA-256) and say where it is", [DataOption], (options, token) =>
        {
            var data = LoadData(options, stderr, token: token);
            string directory = MnistFetcher.ResolveDataDirectory(options.String("--data"));
            stdout.WriteLine($"MNIST is in {directory} ({data.Train.Count} training and {data.Test.Count} test images, SHA-256 verified)");
            return 0;
        });

    // ILGPU reports the CPU accelerator's memory as long.MaxValue: it is the host's, so show that.
    private static string Memory(DeviceInfo device) => device.Kind == DeviceChoice.Cpu
        ? FormatBytes(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)
        : FormatBytes(device.MemoryBytes);

    internal static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F1} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F0} MiB",
        _ => $"{bytes} B",
    };

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    internal static string F(double value, string format = "F2") => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Writes each report at once, in order (Progress&lt;T&gt; would post it to the thread pool).</summary>
    private sealed class LineLog(TextWriter writer) : IProgress<string>
    {
        public void Report(string value) => writer.WriteLine(value);
    }
}
