using System.Diagnostics;
using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Runtime;
using IlgpuVae.Tests.Data;
using Xunit;

namespace IlgpuVae.Tests.Compute;

/// <summary>
/// The OpenCL C that ILGPU generates for every kernel compiles without a warning in clang, the compiler PoCL (and
/// most OpenCL stacks) run on it: a warning there is printed by the OpenCL runtime straight onto our process's
/// stderr ("1 warning generated."), and each one found so far pointed at something worth fixing in our kernels (an
/// int -1 emitted as 4294967295, a mistyped pointer to a nested struct field).
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class OpenClSourceTests
{
    [OpenClClangFact]
    public void EveryKernel_OpenClSource_CompilesWithoutWarnings()
    {
        var accelerator = OpsHarness.Device("opencl").Accelerator;
        var backend = (CLBackend)typeof(Accelerator)
            .GetProperty("Backend", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(accelerator)!;
        using var dir = new TempDirectory();
        var problems = new List<string>();
        foreach (var kernel in PtxCompileTests.Kernels)
        {
            var first = kernel.GetParameters().FirstOrDefault()?.ParameterType;
            bool implicitlyGrouped = first == typeof(Index1D) || first == typeof(Index2D) || first == typeof(Index3D);
            var entry = implicitlyGrouped
                ? EntryPointDescription.FromImplicitlyGroupedKernel(kernel)
                : EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
            string source;
            lock (OpsHarness.Device("opencl").Gate)
                source = ((CLCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty)).Source;
            string file = dir.File($"{kernel.DeclaringType!.Name}.{kernel.Name}.cl");
            File.WriteAllText(file, source);
            string diagnostics = Clang(file);
            if (diagnostics.Contains("warning:") || diagnostics.Contains("error:"))
                problems.Add($"{kernel.DeclaringType.Name}.{kernel.Name}: {diagnostics.Split('\n').First(l => l.Contains("warning:") || l.Contains("error:"))}");
        }
        Assert.True(PtxCompileTests.Kernels.Count >= 20);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    internal static string? ClangPath => new[] { "/usr/bin/clang-16", "/usr/lib/llvm-16/bin/clang" }.FirstOrDefault(File.Exists);

    private static string Clang(string file)
    {
        var start = new ProcessStartInfo(ClangPath!)
        {
            // OpenCL C 2.0 has every feature ILGPU uses (generic address space, atomics, work-group functions) as core.
            ArgumentList = { "-x", "cl", "-cl-std=CL2.0", "-Xclang", "-finclude-default-header", "-fsyntax-only", file },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return output;
    }
}

/// <summary>Runs where an OpenCL device and clang 16 (installed with PoCL by ../shared/opencl/setup.sh) are present.</summary>
public sealed class OpenClClangFactAttribute : FactAttribute
{
    public OpenClClangFactAttribute()
    {
        if (!OpsHarness.OpenClAvailable)
            Skip = OpsHarness.NoOpenCl;
        else if (OpenClSourceTests.ClangPath is null)
            Skip = "clang-16 is not installed (../shared/opencl/setup.sh installs it with PoCL)";
    }
}
