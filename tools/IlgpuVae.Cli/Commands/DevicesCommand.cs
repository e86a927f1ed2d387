using System.CommandLine;
using System.Text.Json;
using IlgpuVae.Compute;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>devices</c>: the ILGPU devices found and the one <c>--device auto</c> uses.</summary>
public static class DevicesCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("devices",
        "list the ILGPU devices and the one --device auto picks", [JsonOption], options => Run(options, cli.Out));

    private static int Run(ParsedOptions options, TextWriter stdout)
    {
        var devices = ComputeDevice.List(out int auto);
        if (options.Flag("--json"))
        {
            stdout.WriteLine(JsonSerializer.Serialize(new
            {
                devices = devices.Select((d, i) => new
                {
                    name = d.Name, kind = d.Kind.ToString().ToLowerInvariant(), type = d.Type,
                    memory_bytes = d.Kind == DeviceChoice.Cpu ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : d.MemoryBytes,
                    multiprocessors = d.Multiprocessors, warp_size = d.WarpSize, max_threads_per_group = d.MaxThreadsPerGroup,
                    auto = i == auto,
                }),
                auto_reason = AutoReason(devices, auto),
            }));
            return 0;
        }
        stdout.WriteLine($"{"",2}{"kind",-7} {"type",-5} {"name",-40} {"memory",10} {"MPs",5} {"warp",5}");
        for (int i = 0; i < devices.Count; i++)
        {
            var d = devices[i];
            stdout.WriteLine($"{(i == auto ? "*" : " "),2}{d.Kind.ToString().ToLowerInvariant(),-7} {d.Type,-5} {Truncate(d.Name, 40),-40} {Memory(d),10} {d.Multiprocessors,5} {d.WarpSize,5}");
        }
        stdout.WriteLine($"* = the device --device auto uses: {AutoReason(devices, auto)}");
        if (!devices.Any(d => d.Kind == DeviceChoice.OpenCL))
            stdout.WriteLine("(no OpenCL device: ILGPU needs OpenCL 2.0, or 3.0 with the generic address space)");
        return 0;
    }

    // Why auto picked what it did, in the order ComputeDevice ranks them: CUDA, an OpenCL GPU, the vectorised CPU ops.
    private static string AutoReason(IReadOnlyList<DeviceInfo> devices, int auto)
    {
        var picked = devices[auto];
        if (picked.Kind == DeviceChoice.Cuda)
            return "a CUDA GPU comes first";
        if (picked.Kind == DeviceChoice.OpenCL)
            return "an OpenCL GPU, and no CUDA device";
        return devices.Any(d => d.Kind == DeviceChoice.OpenCL)
            ? "no GPU; the vectorised CPU ops, far faster than an OpenCL CPU device (use --device opencl to run the kernels there)"
            : "no GPU; the vectorised CPU ops";
    }

    // ILGPU reports the CPU accelerator's memory as long.MaxValue: it is the host's, so show that.
    private static string Memory(DeviceInfo device) => device.Kind == DeviceChoice.Cpu
        ? FormatBytes(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)
        : FormatBytes(device.MemoryBytes);

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
