using IlgpuVae.Data;
using IlgpuVae.Training;
using IlgpuVae.Models;

namespace IlgpuVae.Classification;

/// <summary>Whole-set scoring: the set goes to the device once and is run in batches of the network's capacity.</summary>
public sealed partial class Classifier
{
    /// <summary>Loss, accuracy and confusion matrix over a set, e.g. the test set.</summary>
    /// <param name="set">The labelled images.</param>
    /// <returns>The scores.</returns>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    public Evaluation Evaluate(ImageSet set)
    {
        CheckCompatible(set);
        using var held = Use();
        using var onDevice = new DeviceDataset(Network.Device, set);
        using var evaluator = new ClassifierEvaluator(Network, onDevice);
        return evaluator.Evaluate();
    }
}
