using IlgpuVae.Training;

namespace IlgpuVae.Tests.Packaging;

/// <summary>README's progress snippet ("As a library"), verbatim between the markers (<see cref="ReadmeSampleTests"/>
/// checks the text and runs it).</summary>
internal static class ProgressSnippet
{
    public static TrainingResult Run(Trainer trainer)
    {
        // README begin
        var progress = new Progress<WorkProgress>(p =>
        {
            if (p.Completed is EpochMetrics epoch)
                Console.WriteLine($"epoch {epoch.Epoch}/{p.Epochs}: test loss {epoch.TestLoss:F2}");
            else if (p.Part == "training")
                Console.Write($"\repoch {p.Epoch} step {p.Done}/{p.Total}");
        });
        TrainingResult run = trainer.Train(progress);
        if (run.Diverged)
            Console.Error.WriteLine(run.Divergence);
        // README end
        return run;
    }
}
