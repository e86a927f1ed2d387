#!/usr/bin/env -S dotnet run
// Decodes a latent code with ONNX Runtime alone: no IlgpuVae, no ILGPU.
// Usage: dotnet run docs/examples/onnx-decode.cs -- DIR [z1 z2 ...]   (DIR holds decoder.onnx from 'ilgpu-vae export')
#:package Microsoft.ML.OnnxRuntime@1.31.1
#:property ManagePackageVersionsCentrally=false
#:property PublishAot=false
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

using var decoder = new InferenceSession(Path.Combine(args[0], "decoder.onnx"));
var meta = decoder.ModelMetadata.CustomMetadataMap;
int z = int.Parse(meta["latent"]), classes = int.Parse(meta["classes"]);
float[] code = [.. args.Skip(1).Select(float.Parse).Concat(Enumerable.Repeat(0f, z)).Take(z)];
var inputs = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor("z", new DenseTensor<float>(code, [1, z])) };
if (classes > 0) // a CVAE also takes the one-hot digit: draw a 3
    inputs.Add(NamedOnnxValue.CreateFromTensor("label", new DenseTensor<float>(Enumerable.Range(0, classes).Select(c => c == 3 ? 1f : 0f).ToArray(), [1, classes])));
using var results = decoder.Run(inputs);
float[] pixels = [.. results.First(r => r.Name == "pixels").AsEnumerable<float>()];
Console.WriteLine($"{meta["model"]} {meta["input_size"]}-{meta["hidden"]}-{z}, z = [{string.Join(", ", code)}]");
for (int row = 0; row < 28; row++)
    Console.WriteLine(string.Concat(pixels.Skip(row * 28).Take(28).Select(p => " .:-=+*#%@"[(int)Math.Min(9, p * 10)])));
