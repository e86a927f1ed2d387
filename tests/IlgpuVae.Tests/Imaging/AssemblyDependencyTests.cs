using System.Reflection;
using IlgpuVae.Imaging;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Imaging;

/// <summary>Drawing lives in IlgpuVae.Imaging, managed code only; the core library draws nothing.</summary>
public sealed class AssemblyDependencyTests
{
    private static readonly string[] GraphicsPrefixes = ["SkiaSharp", "ScottPlot", "System.Drawing", "HarfBuzzSharp"];

    private static string[] ReferencedNames(Assembly assembly) => [.. assembly.GetReferencedAssemblies().Select(a => a.Name!)];

    [Fact]
    public void CoreAssembly_ReferencesNoGraphicsOrImagingAssembly()
    {
        Assembly core = typeof(VaeTrainer).Assembly;
        Assert.Equal("IlgpuVae", core.GetName().Name);
        string[] names = ReferencedNames(core);
        Assert.DoesNotContain("IlgpuVae.Imaging", names);
        Assert.DoesNotContain(names, n => GraphicsPrefixes.Any(p => n.StartsWith(p, StringComparison.OrdinalIgnoreCase)));
        Assert.DoesNotContain(core.GetTypes(), t => t.Namespace == "IlgpuVae.Imaging");
    }

    [Fact]
    public void ImagingAssembly_HoldsTheDrawing_AndNeedsNoNativeGraphics()
    {
        Assembly imaging = typeof(Png).Assembly;
        Assert.Equal("IlgpuVae.Imaging", imaging.GetName().Name);
        Assert.All([typeof(DigitGrid), typeof(TrainingPictures), typeof(LatentScatter), typeof(LatentPlots)], t => Assert.Same(imaging, t.Assembly));
        string[] names = ReferencedNames(imaging);
        Assert.Contains("IlgpuVae", names);
        Assert.DoesNotContain(names, n => GraphicsPrefixes.Any(p => n.StartsWith(p, StringComparison.OrdinalIgnoreCase)));
    }

    // The package's types live in its own namespace, never in the core's (IlgpuVae.Analysis and the like).
    [Fact]
    public void ImagingAssembly_EveryType_IsInTheImagingNamespace()
    {
        Type[] types = typeof(Png).Assembly.GetTypes().Where(t => t.Namespace is not null && t.Namespace.StartsWith("IlgpuVae", StringComparison.Ordinal)).ToArray();
        Assert.Contains(typeof(LatentPlots), types);
        Assert.All(types, t => Assert.Equal("IlgpuVae.Imaging", t.Namespace));
    }
}
