using System.Reflection;
using System.Runtime.InteropServices;

namespace IlgpuVae.Compute;

/// <summary>
/// Lets ILGPU find the OpenCL ICD loader where a machine has only its runtime file. ILGPU binds <c>OpenCL</c>, which
/// .NET looks up as <c>libOpenCL.so</c> on Linux; Debian and Ubuntu ship that name only in the development package
/// (ocl-icd-opencl-dev), while the runtime package every OpenCL driver pulls in (ocl-icd-libopencl1) has
/// <c>libOpenCL.so.1</c>. Without this, a machine with a working OpenCL GPU driver shows no OpenCL device.
/// </summary>
internal static class OpenClLoader
{
    private static int _registered;

    /// <summary>Installs the resolver for ILGPU's assembly once per process; harmless where one is set already.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) != 0)
            return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(ILGPU.Context).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // Someone (the app, or ILGPU itself) already resolves ILGPU's imports: theirs wins.
        }
    }

    // Only ILGPU's "OpenCL" on Linux: the usual name first, then the runtime package's. Zero means "look as usual".
    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!OperatingSystem.IsLinux() || !string.Equals(name, "OpenCL", StringComparison.OrdinalIgnoreCase))
            return IntPtr.Zero;
        foreach (string file in (ReadOnlySpan<string>)["libOpenCL.so", "libOpenCL.so.1"])
            if (NativeLibrary.TryLoad(file, out var handle))
                return handle;
        return IntPtr.Zero;
    }
}
