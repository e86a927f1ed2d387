using IlgpuVae.Imaging;

namespace IlgpuVae.Analysis;

/// <summary>How <see cref="LatentScatter"/> draws.</summary>
public enum ScatterBackend
{
    /// <summary>ScottPlot when <see cref="LatentScatter.SystemFontsAvailable"/>, otherwise the built-in bitmap renderer.</summary>
    Auto,

    /// <summary>ScottPlot (SkiaSharp). Without any font installed its text (title, ticks, legend) is silently missing.</summary>
    ScottPlot,

    /// <summary>The dependency-free renderer on <see cref="RgbImage"/> with the embedded 5x8 bitmap font.</summary>
    Bitmap,
}
