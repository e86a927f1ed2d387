// README begin
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
// README end

namespace IlgpuVae.Tests.Packaging;

/// <summary>README's ONNX Runtime snippet ("Exporting to ONNX"), verbatim between the markers
/// (<see cref="ReadmeSampleTests"/> checks the text and runs it on an exported VAE).</summary>
internal static class OnnxRuntimeSnippet
{
    public static float[] Run(string onnxDirectory)
    {
        // README begin
        using var decoder = new InferenceSession(Path.Combine(onnxDirectory, "decoder.onnx")); // what `export` wrote
        var z = new DenseTensor<float>(new float[] { 0.5f, -1f }, [1, 2]);         // (N, Z)
        using var results = decoder.Run([NamedOnnxValue.CreateFromTensor("z", z)]); // a CVAE also takes "label" (N, 10)
        float[] pixels = [.. results.First().AsEnumerable<float>()];                // (N, 784) in [0, 1]
        // README end
        return pixels;
    }
}
