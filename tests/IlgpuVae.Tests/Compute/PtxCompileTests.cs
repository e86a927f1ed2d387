using System.Diagnostics;
using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using IlgpuVae.Kernels;
using Xunit;

namespace IlgpuVae.Tests.Compute;

/// <summary>
/// Every kernel in the kernels assembly compiles to PTX for the GPUs this project targets, with no GPU present:
/// ILGPU's PTX backend runs on any machine. The kernels are found by reflection (public static void methods named
/// <c>...Kernel</c>), so a new kernel is checked without editing this file. Where NVIDIA's <c>ptxas</c> is on the
/// PATH (or named by ILGPU_VAE_PTXAS), the PTX, emitted at ISA 7.8 for it, is also assembled for the architecture.
/// </summary>
public sealed class PtxCompileTests
{
    /// <summary>The kernels: every public static void method named ...Kernel of a static class in the kernels'
    /// namespace (kernels/IlgpuVae.Kernels, compiled into the core as internal types).</summary>
    public static IReadOnlyList<MethodInfo> Kernels { get; } = typeof(GemmKernels).Assembly.GetTypes()
        .Where(t => t.Namespace == typeof(GemmKernels).Namespace && t.IsAbstract && t.IsSealed && !t.IsNested)
        .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
        .Where(m => m.Name.EndsWith("Kernel", StringComparison.Ordinal) && m.ReturnType == typeof(void))
        .OrderBy(m => m.DeclaringType!.Name).ThenBy(m => m.Name)
        .ToList();

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var kernel in Kernels)
            foreach (var architecture in new[] { "SM_80", "SM_90" })
                data.Add($"{kernel.DeclaringType!.Name}.{kernel.Name}", architecture);
        return data;
    }

    [Fact]
    public void Discovery_FindsTheKnownKernels()
    {
        var names = Kernels.Select(k => k.Name).ToHashSet();
        // A few that must be there; the count guards against the reflection silently finding nothing.
        Assert.Contains(nameof(GemmKernels.GemmTiledKernel), names);
        Assert.Contains(nameof(OptimizerKernels.AdamKernel), names);
        Assert.Contains(nameof(RandomKernels.NormalKernel), names);
        Assert.True(Kernels.Count >= 20, $"found only {Kernels.Count} kernels");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Kernel_CompilesToPtx(string kernel, string architecture)
    {
        var method = Kernels.Single(k => $"{k.DeclaringType!.Name}.{k.Name}" == kernel);
        var cuda = architecture == "SM_80" ? CudaArchitecture.SM_80 : CudaArchitecture.SM_90;
        string ptx = Compile(method, cuda, new CudaInstructionSet(8, 0));
        Assert.Contains(".entry", ptx);
        Assert.Contains(".target", ptx);

        if (Ptxas() is { } ptxas)
        {
            // ptxas from CUDA 11.8 takes PTX ISA <= 7.8; the kernel bodies are the same for 7.8 to 8.8.
            string assembly = Compile(method, cuda, new CudaInstructionSet(7, 8));
            string file = Path.Combine(Path.GetTempPath(), $"ilgpu-vae-{Environment.ProcessId}-{kernel}-{architecture}.ptx");
            File.WriteAllText(file, assembly);
            try
            {
                var (code, output) = RunPtxas(ptxas, file, architecture == "SM_80" ? "sm_80" : "sm_90");
                Assert.True(code == 0, $"ptxas failed on {kernel} for {architecture}:\n{output}");
            }
            finally
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>Compiles one kernel in a fresh context (a failed compile leaves a context broken).</summary>
    private static string Compile(MethodInfo method, CudaArchitecture architecture, CudaInstructionSet instructionSet)
    {
        using var context = Context.Create(b => b.CPU().EnableAlgorithms().Optimize(OptimizationLevel.O1));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, instructionSet, null);
        var first = method.GetParameters().FirstOrDefault()?.ParameterType;
        bool implicitlyGrouped = first == typeof(Index1D) || first == typeof(Index2D) || first == typeof(Index3D);
        var entry = implicitlyGrouped
            ? EntryPointDescription.FromImplicitlyGroupedKernel(method)
            : EntryPointDescription.FromExplicitlyGroupedKernel(method);
        var specialization = KernelSpecialization.Empty;
        var compiled = (PTXCompiledKernel)backend.Compile(entry, specialization);
        return compiled.PTXAssembly;
    }

    private static string? Ptxas()
    {
        string? named = Environment.GetEnvironmentVariable("ILGPU_VAE_PTXAS");
        if (!string.IsNullOrEmpty(named))
            return File.Exists(named) ? named : null;
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            string candidate = Path.Combine(folder, "ptxas");
            if (folder.Length > 0 && File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    private static (int Code, string Output) RunPtxas(string ptxas, string file, string architecture)
    {
        var start = new ProcessStartInfo(ptxas, ["-arch", architecture, "-v", "-o", file + ".cubin", file])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        File.Delete(file + ".cubin");
        return (process.ExitCode, output);
    }
}
