using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using Xunit;

namespace IlgpuVae.Tests.Models;

/// <summary>
/// The public description of a model's layers and tensors (what IlgpuVae.Onnx, or an app exporting to another format,
/// reads instead of the core's internals) and the public atomic writes.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class ModelLayerTests
{
    [Fact]
    public void Layers_DescribeTheNetwork_AndNameEveryTensor()
    {
        using var model = VaeModel.Create(OpsHarness.Device("vectorized"), new VaeConfig(784, [16], 2) { Activation = HiddenActivation.Tanh }, capacity: 4);
        var layers = model.Layers;
        Assert.Equal([ModelLayerKind.Dense, ModelLayerKind.Dense, ModelLayerKind.GaussianSample, ModelLayerKind.Dense, ModelLayerKind.Dense],
            layers.Select(l => l.Kind));
        Assert.Equal(new ModelLayer(ModelLayerKind.Dense, 784, 16, HiddenActivation.Tanh, ["encoder.0.weight", "encoder.0.bias"]) with { Parameters = layers[0].Parameters }, layers[0]);
        Assert.Equal(["encoder.0.weight", "encoder.0.bias"], layers[0].Parameters);
        Assert.Equal(["mu.weight", "logvar.weight", "mu.bias", "logvar.bias"], layers[1].Parameters);
        Assert.Equal((16, 4, (HiddenActivation?)null), (layers[1].Inputs, layers[1].Outputs, layers[1].Activation));
        Assert.Equal((4, 2), (layers[2].Inputs, layers[2].Outputs));
        Assert.Equal(["out.weight", "out.bias"], layers[4].Parameters);
        Assert.Null(layers[4].Activation);
        Assert.Null(layers[0].Convolution);

        var tensors = model.Tensors();
        Assert.Equal(layers.SelectMany(l => l.Parameters).Order(), tensors.Select(t => t.Name).Order());
        Assert.Equal([16, 784], tensors.Single(t => t.Name == "encoder.0.weight").Shape);
        Assert.Equal(model.ParameterCount, tensors.Sum(t => t.Values.Length));
    }

    [Fact]
    public void Layers_OfAConvolutionalModel_GiveTheImagesAndTheConvolution()
    {
        var config = VaeConfig.Convolutional(latent: 2, channels: [4, 8], dense: [16], height: 8, width: 8, imageChannels: 3);
        using var model = VaeModel.Create(OpsHarness.Device("vectorized"), config, capacity: 4);
        var layers = model.Layers;
        var conv = layers[0];
        Assert.Equal(ModelLayerKind.Convolution, conv.Kind);
        Assert.Equal((3, 8, 8), conv.InputImage);
        Assert.Equal((4, 4, 4), conv.OutputImage);
        Assert.Equal((VaeConfig.ConvKernel, VaeConfig.ConvKernel, VaeConfig.ConvStride, VaeConfig.ConvPadding), conv.Convolution);
        var last = layers[^1];
        Assert.Equal(ModelLayerKind.TransposedConvolution, last.Kind);
        Assert.Equal((4, 4, 4), last.InputImage);
        Assert.Equal((3, 8, 8), last.OutputImage);
        Assert.Equal(3 * 8 * 8, last.Outputs);
        Assert.Null(last.Activation);
    }

    [Fact]
    public void WriteAtomically_SeveralFiles_AFailureLeavesEveryTargetAsItWas()
    {
        using var dir = new TempDirectory();
        string[] paths = [dir.File("a"), dir.File("b"), dir.File("c")];
        RegularFile.WriteAtomically(paths, (i, stream) => stream.WriteByte((byte)i));
        File.Delete(paths[1]);
        AtomicFile.FaultInjection.Value = (stage, target) =>
        {
            if (stage == "rename" && Path.GetFileName(target) == "c")
                throw new IOException("No space left on device");
        };
        try
        {
            var e = Assert.Throws<IOException>(() => RegularFile.WriteAtomically(paths, (i, stream) => stream.WriteByte(9)));
            Assert.Equal($"{Path.GetFullPath(paths[2])}: not saved: No space left on device", e.Message);
        }
        finally
        {
            AtomicFile.FaultInjection.Value = null;
        }
        // a and c as before, b still absent, and no temporary file or backup left.
        Assert.Equal([0], File.ReadAllBytes(paths[0]));
        Assert.Equal([2], File.ReadAllBytes(paths[2]));
        Assert.Equal(["a", "c"], Directory.GetFileSystemEntries(dir.Path).Select(p => Path.GetFileName(p)!).Order());
    }
}
