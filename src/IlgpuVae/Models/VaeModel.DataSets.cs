using IlgpuVae.Data;
using IlgpuVae.Training;

namespace IlgpuVae.Models;

/// <summary>Whole-set operations: the set goes to the device once and is run in batches of the network's capacity.</summary>
public sealed partial class VaeModel
{
    /// <summary>The posterior mean of every image in a set (encoded with its label when the model is conditional).</summary>
    /// <param name="set">The images, e.g. the test set.</param>
    /// <returns>Row-major set.Count x Z means, in the set's order.</returns>
    public float[] LatentMeans(MnistSet set)
    {
        CheckCompatible(set);
        using var onDevice = new DeviceDataset(Network.Device, set);
        return LatentCodes.Means(Network, onDevice);
    }

    /// <summary>The loss per image over a set: summed BCE + KL with one posterior sample (the negative ELBO).</summary>
    /// <param name="set">The images, e.g. the test set.</param>
    /// <param name="seed">Seed of the posterior samples.</param>
    /// <param name="stream">Distinguishes evaluations with the same seed.</param>
    /// <returns>Loss, reconstruction and KL per image.</returns>
    public Evaluation Evaluate(MnistSet set, ulong seed, ulong stream = 0)
    {
        CheckCompatible(set);
        using var onDevice = new DeviceDataset(Network.Device, set);
        using var evaluator = new Evaluator(Network, onDevice);
        return evaluator.Evaluate(seed, stream);
    }
}
