using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace IlgpuVae.Cli;

/// <summary>
/// The ASP.NET Core shared framework, for <c>explore</c> only. The tool's runtimeconfig.json names only
/// Microsoft.NETCore.App (the CLI project sets DisableTransitiveFrameworkReferences), so every other command runs on a
/// machine with the .NET runtime alone; <c>explore</c> finds Microsoft.AspNetCore.App beside the running runtime
/// (<c>DOTNET_ROOT/shared/Microsoft.AspNetCore.App/10.0.x</c>, the newest with the runtime's major version) and loads
/// its assemblies from there when the explorer first asks for them.
/// </summary>
internal static class AspNetCoreRuntime
{
    private static string? _directory;

    /// <summary>The shared framework's folder, or null where it is not installed beside this runtime.</summary>
    public static string? Find()
    {
        // .../shared/Microsoft.NETCore.App/10.0.x/ -> .../shared/Microsoft.AspNetCore.App/
        string runtime = RuntimeEnvironment.GetRuntimeDirectory().TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        string? shared = Path.GetDirectoryName(Path.GetDirectoryName(runtime));
        string frameworks = Path.Combine(shared ?? "", "Microsoft.AspNetCore.App");
        if (shared is null || !Directory.Exists(frameworks))
            return null;
        int major = Environment.Version.Major;
        return Directory.EnumerateDirectories(frameworks)
            .Select(dir => (dir, version: Version.TryParse(Path.GetFileName(dir).Split('-')[0], out var v) ? v : null))
            .Where(f => f.version is not null && f.version.Major == major && File.Exists(Path.Combine(f.dir, "Microsoft.AspNetCore.dll")))
            .OrderByDescending(f => f.version)
            .Select(f => f.dir)
            .FirstOrDefault();
    }

    /// <summary>Makes the ASP.NET Core assemblies loadable, or refuses in one line where the framework is missing.</summary>
    /// <exception cref="NotSupportedException">No Microsoft.AspNetCore.App of this runtime's major version is installed
    /// (the CLI's one-line error, exit code 1).</exception>
    public static void Require()
    {
        if (_directory is not null)
            return;
        string directory = Find() ?? throw new NotSupportedException(
            $"explore needs the ASP.NET Core runtime {Environment.Version.Major}.0 (Microsoft.AspNetCore.App), which is not installed " +
            $"beside the .NET runtime in {Path.GetDirectoryName(Path.GetDirectoryName(RuntimeEnvironment.GetRuntimeDirectory().TrimEnd(Path.DirectorySeparatorChar)))}; " +
            "install it (e.g. the aspnetcore-runtime package) to explore; every other command runs without it");
        _directory = directory;
        AssemblyLoadContext.Default.Resolving += (context, name) =>
        {
            string path = Path.Combine(directory, name.Name + ".dll");
            return File.Exists(path) ? context.LoadFromAssemblyPath(path) : null;
        };
    }
}
