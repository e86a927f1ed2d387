using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;

namespace IlgpuVae.Tests.Training;

/// <summary>
/// A small VAE trained once on real MNIST (3 epochs on 10,000 images, 784-128-4) for the tests that measure a trained
/// model, on a device of its own: the vectorised ops' worker team must not be shared with test classes that run
/// at the same time. Null members where MNIST is absent (those tests skip).
/// </summary>
public sealed class TrainedModelFixture : IDisposable
{
    public TrainedModelFixture()
    {
        if (TestData.MnistDirectory is null)
            return;
        Device = ComputeDevice.Open(DeviceChoice.Cpu);
        Data = ImageData.Load(TestData.MnistDirectory, trainLimit: 10000, testLimit: 1000);
        var options = new TrainingOptions { Epochs = 3, Limit = 10000, Model = new VaeConfig(784, [128], 4), Seed = 3 };
        using var trainer = new VaeTrainer(Device, Data, options);
        trainer.Train();
        string path = Path.Combine(Directory.CreateTempSubdirectory("ilgpu-vae-fixture-").FullName, "model.safetensors");
        trainer.Model.Save(path);
        Model = VaeModel.Load(Device, path);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    public ComputeDevice? Device { get; }

    public ImageData? Data { get; }

    public VaeModel? Model { get; }

    public void Dispose()
    {
        Model?.Dispose();
        Device?.Dispose();
    }
}
