using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Onnx;
using IlgpuVae.Training;

// MNIST from $ILGPU_VAE_DATA, else a per-user cache; fetched and SHA-256 verified on first use
ImageData data = await ImageData.LoadKnownAsync(DataFiles.Mnist, options: new DataLoadOptions { TrainLimit = 2000, TestLimit = 500 });

using ComputeDevice device = ComputeDevice.Open(DeviceChoice.Auto);     // a CUDA or OpenCL GPU, else the CPU
var options = new TrainingOptions { Epochs = 1, Model = new VaeConfig(784, [256], 2) };
using var trainer = new VaeTrainer(device, data, options);
TrainingResult result = await trainer.TrainAsync();
Console.WriteLine($"test loss {result.Epochs[^1].TestLoss:F2} nats per image ({device.Description})");

ImageBatch digits = trainer.Model.Sample(count: 4, seed: 7);            // 4 images of 1 x 28 x 28 pixel probabilities
OnnxFiles files = ModelExport.ToOnnx(trainer.Model, "vae-onnx");         // opset 13; ToOnnx(model, dir, opset) for 14 to 23
Console.WriteLine($"sampled {digits.Count} digits of {digits.Height}x{digits.Width}; wrote {files.Encoder} and {files.Decoder}");
