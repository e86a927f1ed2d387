using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Onnx;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace IlgpuVae.Tests.Onnx;

/// <summary>
/// Issue 22, case 3: an export is all or nothing. A failure while writing either file (a full disk, a failed flush or
/// rename, a target that is a directory) leaves the previous encoder and decoder as they were, and the two files of an
/// export carry the same <see cref="ModelExport.ExportIdKey"/>, so a loader can tell a mixed pair.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class OnnxExportAtomicityTests
{
    private static VaeModel Model(int seed) =>
        VaeModel.Create(OpsHarness.Device("vectorized"), new VaeConfig(784, [16], 2), seed: seed, capacity: 8);

    [Theory]
    [InlineData(ModelExport.EncoderFileName, "fsync")]
    [InlineData(ModelExport.DecoderFileName, "fsync")]
    [InlineData(ModelExport.DecoderFileName, "rename")]
    public void FailedExport_LeavesThePreviousPairAsItWas(string file, string stage)
    {
        using var dir = new TempDirectory();
        using (var first = Model(1))
            ModelExport.ToOnnx(first, dir.Path);
        byte[] encoder = File.ReadAllBytes(dir.File(ModelExport.EncoderFileName));
        byte[] decoder = File.ReadAllBytes(dir.File(ModelExport.DecoderFileName));

        AtomicFile.FaultInjection.Value = (s, target) =>
        {
            if (s == stage && Path.GetFileName(target) == file)
                throw new IOException("No space left on device");
        };
        try
        {
            using var second = Model(2);
            var e = Assert.Throws<IOException>(() => ModelExport.ToOnnx(second, dir.Path));
            Assert.Contains("not exported", e.Message);
            Assert.Contains("No space left on device", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        finally
        {
            AtomicFile.FaultInjection.Value = null;
        }
        Assert.Equal(encoder, File.ReadAllBytes(dir.File(ModelExport.EncoderFileName)));
        Assert.Equal(decoder, File.ReadAllBytes(dir.File(ModelExport.DecoderFileName)));
        Assert.Equal(new[] { ModelExport.DecoderFileName, ModelExport.EncoderFileName },
            Directory.GetFileSystemEntries(dir.Path).Select(p => Path.GetFileName(p)).Order().ToArray());
    }

    [Fact]
    public void DecoderTargetADirectory_IsRefusedBeforeAnythingIsWritten()
    {
        using var dir = new TempDirectory();
        using (var first = Model(1))
            ModelExport.ToOnnx(first, dir.Path);
        byte[] encoder = File.ReadAllBytes(dir.File(ModelExport.EncoderFileName));
        File.Delete(dir.File(ModelExport.DecoderFileName));
        Directory.CreateDirectory(dir.File(ModelExport.DecoderFileName));
        using var second = Model(2);
        var e = Assert.Throws<IOException>(() => ModelExport.ToOnnx(second, dir.Path));
        Assert.Contains("is a directory", e.Message);
        Assert.Equal(encoder, File.ReadAllBytes(dir.File(ModelExport.EncoderFileName)));
    }

    [Fact]
    public void BothFiles_CarryTheSameExportId_WhichDiffersBetweenModels()
    {
        string Id(string path)
        {
            using var session = new InferenceSession(path);
            return session.ModelMetadata.CustomMetadataMap[ModelExport.ExportIdKey];
        }
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        using (var first = Model(1))
            ModelExport.ToOnnx(first, a.Path);
        using (var second = Model(2))
            ModelExport.ToOnnx(second, b.Path);
        string idA = Id(a.File(ModelExport.EncoderFileName));
        Assert.Equal(idA, Id(a.File(ModelExport.DecoderFileName)));
        Assert.Equal(32, idA.Length);
        Assert.NotEqual(idA, Id(b.File(ModelExport.EncoderFileName)));
    }
}
