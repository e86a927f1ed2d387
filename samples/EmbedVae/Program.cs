using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Training;

// MNIST from $ILGPU_VAE_DATA, else the per-user cache; fetched and verified on first use.
ImageData data = await ImageData.LoadKnownAsync(DataFiles.Mnist, options: new DataLoadOptions { TrainLimit = 6000, TestLimit = 1000 });

using ComputeDevice device = ComputeDevice.Open(DeviceChoice.Auto);    // a CUDA or OpenCL GPU, else the CPU
Console.WriteLine($"device: {device.Description}");

// Train briefly, off this thread; a cancelled token would stop after the current step and throw OperationCanceledException.
var options = new TrainingOptions { Epochs = 2, Model = new VaeConfig(784, [256], 8) };
using var trainer = new VaeTrainer(device, data, options);
TrainingResult result = await trainer.TrainAsync();
Console.WriteLine($"trained {result.Epochs.Count} epochs on {trainer.TrainCount} images: test loss {result.Epochs[^1].TestLoss:F2} per image");

ImageBatch drawn = trainer.Model.Sample(count: 16, seed: 7);             // 16 images of 1 x 28 x 28 pixel probabilities
Console.WriteLine($"sampled {drawn.Count} images of {drawn.Height}x{drawn.Width}, mean pixel {drawn.Values.Average():F3}");

string path = Path.Combine(Path.GetTempPath(), $"embed-vae-{Environment.ProcessId}.safetensors");
trainer.Model.Save(path);
using VaeModel model = VaeModel.Load(device, path);                     // safe to share between threads
Console.WriteLine($"saved and reloaded {path}: {model.Config}, {model.ParameterCount} parameters");

ImageBatch images = data.Test.Gather([0, 1, 2, 3]);                      // 4 images of 1 x 28 x 28 pixels in [0, 1]
float[] codes = model.LatentMeans(images);                               // 4 x Z posterior means
ImageScores scores = model.Score(images);                                // per-image negative ELBO: an anomaly score
int z = model.Config.Latent;
for (int i = 0; i < scores.Count; i++)
    Console.WriteLine($"test image {i} (digit {data.Test.Labels[i]}): code [{string.Join(", ", codes.Skip(i * z).Take(3).Select(c => c.ToString("F2")))}, ...], " +
        $"reconstruction error {scores.Reconstruction[i]:F1} + KL {scores.Kl[i]:F1} = {scores.Loss[i]:F1} nats");
float[] noise = new Random(1).GetItems(Enumerable.Range(0, 256).Select(v => v / 255f).ToArray(), 784);
Console.WriteLine($"a noise image scores {model.Score(noise).Loss[0]:F1} nats: unlike any digit");
File.Delete(path);
