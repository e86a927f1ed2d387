using IlgpuVae.Data;
using IlgpuVae.Models;

namespace IlgpuVae.Tests.Packaging;

/// <summary>README's ImageBatch snippet ("As a library"), verbatim between the markers (<see cref="ReadmeSampleTests"/>
/// checks the text and runs it).</summary>
internal static class ImageBatchSnippet
{
    public static (ImageBatch Digits, float[] First, float[] Codes) Run(VaeModel model)
    {
        // README begin
        var digits = model.Sample(16, seed: 1);                 // 16 images of 1 x 28 x 28
        ReadOnlySpan<float> first = digits.Image(0);             // digits.Height x digits.Width pixel probabilities
        float[] codes16 = model.LatentMeans(digits);             // straight back in: 16 x Z
        // README end
        return (digits, first.ToArray(), codes16);
    }
}
