// README begin
using IlgpuVae.Imaging;
// README end
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Training;

namespace IlgpuVae.Tests.Packaging;

/// <summary>README's IlgpuVae.Imaging snippet ("As a library"), verbatim between the markers (<see cref="ReadmeSampleTests"/>
/// checks the text; it compiles with the tests, and is not run: it writes digits.png and latent.png where the process
/// runs).</summary>
internal static class ImagingSnippet
{
    public static void Run(VaeModel model, ImageData data, VaeTrainer trainer, ImageBatch drawn)
    {
        // README begin
        var assessment = ModelAssessment.Run(model, data, importanceSamples: 50);

        trainer.EpochCompleted += TrainingPictures.EveryEpoch(data.Test);    // reconstructions.png, samples.png per epoch
        trainer.EpochCompleted += (_, m) => Console.WriteLine($"epoch {m.Epoch}: {m.TestLoss}");
        DigitGrid.Save("digits.png", drawn, rows: 4, cols: 4);               // any ImageBatch as a grid, cells of its H x W
        byte[] png = DigitGrid.Encode(drawn, rows: 4, cols: 4);              // the same PNG in memory; Save(stream, ...) too
        LatentPlots.Write("latent.png", assessment.TestMeans!, assessment.TestLabels,  // latent means by digit;
            model.Config.Latent, "my model");                                 // PCA (and t-SNE) for Z > 2
        // README end
        GC.KeepAlive(png);
    }
}
