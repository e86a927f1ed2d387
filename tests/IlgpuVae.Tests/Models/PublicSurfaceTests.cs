using System.Reflection;
using System.Runtime.CompilerServices;
using IlgpuVae.Models;
using Xunit;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Models;

/// <summary>
/// Issue 21's measure of the library's surface: the public types of every product assembly, printed (run with
/// <c>--logger "console;verbosity=detailed"</c> to read the list), and the rules that already hold. The core's count is a
/// ratchet at issue 21's goal of 35: it may fall, never rise (docs/architecture.md, "The public surface", says what went where).
/// </summary>
public sealed class PublicSurfaceTests(ITestOutputHelper output)
{
    /// <summary>The most public types the core may export today; lower it whenever a type goes.</summary>
    private const int CoreCeiling = 35;

    private static readonly Assembly Core = typeof(VaeModel).Assembly;

    [Fact]
    public void Core_PublicTypes_AreListedAndDoNotGrow()
    {
        var types = Names(Core);
        output.WriteLine($"{Core.GetName().Name}: {types.Count} public types");
        foreach (var name in types)
            output.WriteLine("  " + name);
        Assert.True(types.Count <= CoreCeiling, $"the core exports {types.Count} public types, more than {CoreCeiling}:\n{string.Join("\n", types)}");
    }

    [Fact]
    public void Kernels_ArePrivateToTheCore()
    {
        // The kernels (kernels/IlgpuVae.Kernels) compile into the core as internal types: no public kernel type and
        // no kernels assembly beside the product's.
        Assert.DoesNotContain(Core.GetExportedTypes(), t => t.Namespace == "IlgpuVae.Kernels");
        Assert.Contains(Core.GetTypes(), t => t.Namespace == "IlgpuVae.Kernels");
        string folder = Path.GetDirectoryName(Core.Location)!;
        Assert.False(File.Exists(Path.Combine(folder, "IlgpuVae.Kernels.dll")), "an IlgpuVae.Kernels assembly was built");
    }

    [Fact]
    public void Core_InternalsVisibleTo_NamesNoProductAssembly()
    {
        // ILGPU's CPU runtime must see the internal kernels; the tests and the benchmarks tool (which times the internal
        // ops) see internals. No product assembly does: IlgpuVae.Imaging, IlgpuVae.Onnx and the ilgpu-vae tool use the
        // core's public API only, as any app would.
        var names = Core.GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName).Order(StringComparer.Ordinal).ToList();
        output.WriteLine(string.Join(", ", names));
        Assert.Equal(["ILGPURuntime", "IlgpuVae.Benchmarks", "IlgpuVae.Tests"], names);
        // What the packages carry: every packable project of the solution and every project it references (a tool
        // package holds its whole build). None of them is named.
        var projects = SolutionProjects();
        var packed = new SortedSet<string>(StringComparer.Ordinal);
        void Carry(Project project)
        {
            if (packed.Add(project.AssemblyName))
                foreach (string reference in project.References)
                    Carry(projects.Single(p => p.Path == reference));
        }
        foreach (var project in projects.Where(p => p.IsPackable))
            Carry(project);
        output.WriteLine("packed: " + string.Join(", ", packed));
        Assert.Contains("IlgpuVae", packed);
        Assert.Contains("ilgpu-vae", packed);
        Assert.Contains("IlgpuVae.Explorer", packed);
        Assert.Empty(names.Intersect(packed));
        // The names that are projects of ours are projects nothing packs.
        foreach (string name in names.Where(n => projects.Any(p => p.AssemblyName == n)))
            Assert.False(projects.Single(p => p.AssemblyName == name).IsPackable, $"{name} is packed");
        Assert.Contains(projects, p => p.AssemblyName == "IlgpuVae.Benchmarks");
    }

    private sealed record Project(string Path, string AssemblyName, bool IsPackable, string[] References);

    // IlgpuVae.sln's projects, read from their files: the assembly name (AssemblyName, else the file's name), IsPackable
    // (false unless the project says true: Directory.Build.props' default) and the projects referenced.
    private static List<Project> SolutionProjects()
    {
        string root = Tests.Data.TestData.RepositoryRoot();
        var paths = File.ReadLines(Path.Combine(root, "IlgpuVae.sln"))
            .Select(line => System.Text.RegularExpressions.Regex.Match(line, "\"([^\"]+\\.csproj)\""))
            .Where(m => m.Success)
            .Select(m => Path.GetFullPath(Path.Combine(root, m.Groups[1].Value.Replace('\\', '/'))));
        return paths.Select(path =>
        {
            var project = System.Xml.Linq.XDocument.Load(path).Root!;
            string? Property(string name) => project.Descendants(name).Select(e => e.Value.Trim()).LastOrDefault();
            var references = project.Descendants("ProjectReference")
                .Select(e => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, e.Attribute("Include")!.Value.Replace('\\', '/'))))
                .ToArray();
            return new Project(path, Property("AssemblyName") ?? Path.GetFileNameWithoutExtension(path),
                string.Equals(Property("IsPackable"), "true", StringComparison.OrdinalIgnoreCase), references);
        }).ToList();
    }

    [Fact]
    public void Seeds_AreIntEverywhereInThePublicApi()
    {
        // One seed type: every public parameter or property named like a seed is an int (or an optional int).
        var wrong = new List<string>();
        int seen = 0;
        foreach (var type in Core.GetExportedTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Cast<MethodBase>().Concat(type.GetConstructors()))
                foreach (var parameter in method.GetParameters().Where(p => p.Name!.Contains("seed", StringComparison.OrdinalIgnoreCase)))
                    if (++seen > 0 && (Nullable.GetUnderlyingType(parameter.ParameterType) ?? parameter.ParameterType) != typeof(int))
                        wrong.Add($"{type.Name}.{method.Name}({parameter.Name}: {parameter.ParameterType.Name})");
            foreach (var property in type.GetProperties().Where(p => p.Name.Contains("Seed", StringComparison.Ordinal)))
                if ((Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType) != typeof(int))
                    wrong.Add($"{type.Name}.{property.Name}: {property.PropertyType.Name}");
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.Name.Contains("Seed", StringComparison.Ordinal)))
                if (field.FieldType != typeof(int))
                    wrong.Add($"{type.Name}.{field.Name}: {field.FieldType.Name}");
        }
        Assert.True(wrong.Count == 0, "seeds that are not int: " + string.Join(", ", wrong));
        // Sample, SampleClass, PriorSamples, Evaluate, EstimateLogLikelihood, Score, Binarized, Create, ...
        Assert.True(seen >= 8, $"only {seen} seed parameters found");
    }

    [Fact]
    public void Core_NamespaceGraph_HasNoCycle()
    {
        // From signatures and the types and members that method bodies name (NamespaceGraph). The root namespace holds
        // only the vocabulary every part shares (TrainingObjective, DecoderLikelihood) and uses nothing.
        var edges = NamespaceGraph.Edges(Core, "IlgpuVae");
        foreach (var (from, to) in edges)
            output.WriteLine($"{from} -> {to}");
        // The graph is read at all: the models build layers, the trainer trains models.
        Assert.Contains(("IlgpuVae.Models", "IlgpuVae.Layers"), edges);
        Assert.Contains(("IlgpuVae.Training", "IlgpuVae.Models"), edges);
        var cycles = NamespaceGraph.Cycles(edges);
        Assert.True(cycles.Count == 0, "namespace cycles: " + string.Join("; ", cycles.Select(c => string.Join(" <-> ", c))));
    }

    private static List<string> Names(Assembly assembly) =>
        assembly.GetExportedTypes().Select(t => t.FullName!).Order(StringComparer.Ordinal).ToList();
}
