// README begin
using IlgpuVae.Classification;
// README end
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Training;

namespace IlgpuVae.Tests.Packaging;

/// <summary>README's conditional-model snippet ("As a library"), verbatim between the markers
/// (<see cref="ReadmeSampleTests"/> checks the text; it compiles with the tests, and is not run: it loads models from
/// placeholder paths).</summary>
internal static class ConditionalSnippet
{
    public static (TrainingOptions, ImageBatch, ImageBatch, Evaluation) Run(ComputeDevice device, ImageBatch images)
    {
        // README begin
        var options = TrainingOptions.ConditionalDefaults;                    // what `train --kind cvae` uses
        using var cvae = VaeModel.Load(device, "runs/<cvae-run>/model.safetensors");
        ImageBatch threes = cvae.SampleClass(label: 3, count: 64, seed: 1);    // Decode(z, labels) and Reconstruct(x, labels) too
        ImageBatch styles = cvae.TransferStyle(images, [7, 2, 1, 0]);          // the 4 test images (7, 2, 1, 0) re-drawn as 0-9: 4 x 10 images
        using var classifier = Classifier.Load(device, "runs/classifier.safetensors");
        Evaluation agreement = classifier.Agreement(cvae);                    // .Accuracy, .PerClassAccuracy, .Confusion
        // README end
        return (options, threes, styles, agreement);
    }
}
