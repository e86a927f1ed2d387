using System.Buffers.Binary;
using System.IO.Compression;
using IlgpuVae.Data;
using Xunit;

namespace IlgpuVae.Tests.Data;

public class IdxReaderTests
{
    /// <summary>Builds IDX bytes by hand, so tests can produce headers the writer never would.</summary>
    internal static byte[] Idx(byte type, int[] dims, int dataLength, byte b0 = 0, byte b1 = 0)
    {
        var bytes = new byte[4 + 4 * dims.Length + dataLength];
        bytes[0] = b0;
        bytes[1] = b1;
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        }

        for (int i = 0; i < dataLength; i++)
        {
            bytes[4 + 4 * dims.Length + i] = (byte)(i * 7);
        }

        return bytes;
    }

    internal static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(raw);
        }

        return output.ToArray();
    }

    private static byte[] Pixels(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 31 + 5)).ToArray();

    private static InvalidDataException ReadFails(string path, int dims = 3) =>
        Assert.Throws<InvalidDataException>(() => IdxReader.Read(path, dims, contentName: "pixels"));

    private static void AssertOneLineNaming(string path, string problem, Exception ex)
    {
        Assert.Contains(path, ex.Message);
        Assert.Contains(problem, ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Theory]
    [InlineData("images-idx3-ubyte")]
    [InlineData("images-idx3-ubyte.gz")]
    public void WriteImages_ThenRead_RoundTrips(string fileName)
    {
        using var temp = new TempDirectory();
        string path = temp.File(fileName);
        byte[] data = Pixels(5 * 4 * 3);

        IdxWriter.WriteImages(path, data, count: 5, rows: 4, cols: 3);
        IdxArray read = IdxReader.ReadImages(path);

        Assert.Equal([5, 4, 3], read.Dimensions);
        Assert.Equal(IdxElementType.UnsignedByte, read.ElementType);
        Assert.Equal(data, read.Data);
        byte[] onDisk = File.ReadAllBytes(path);
        bool gzip = onDisk[0] == 0x1F && onDisk[1] == 0x8B;
        Assert.Equal(fileName.EndsWith(".gz", StringComparison.Ordinal), gzip);
    }

    [Theory]
    [InlineData("labels-idx1-ubyte")]
    [InlineData("labels-idx1-ubyte.gz")]
    public void WriteLabels_ThenRead_RoundTrips(string fileName)
    {
        using var temp = new TempDirectory();
        string path = temp.File(fileName);
        byte[] labels = [3, 1, 4, 1, 5, 9, 2, 6];

        IdxWriter.WriteLabels(path, labels);
        IdxArray read = IdxReader.ReadLabels(path);

        Assert.Equal([8], read.Dimensions);
        Assert.Equal(labels, read.Data);
    }

    [Fact]
    public void Read_GzipWithoutGzSuffix_DetectedByMagicBytes()
    {
        using var temp = new TempDirectory();
        string path = temp.File("no-suffix");
        File.WriteAllBytes(path, Gzip(Idx(0x08, [2, 2, 2], 8)));

        IdxArray read = IdxReader.ReadImages(path);

        Assert.Equal(Idx(0x08, [2, 2, 2], 8)[16..], read.Data);
    }

    [Fact]
    public void Read_RawWithGzSuffix_ReadAsRaw()
    {
        using var temp = new TempDirectory();
        string path = temp.File("misnamed.gz");
        File.WriteAllBytes(path, Idx(0x08, [6], 6));

        Assert.Equal([6], IdxReader.ReadLabels(path).Dimensions);
    }

    [Fact]
    public void Write_ExistingFile_ReplacedWithoutLeavingTempFiles()
    {
        using var temp = new TempDirectory();
        string path = temp.File("labels");
        IdxWriter.WriteLabels(path, [1, 2, 3]);

        IdxWriter.WriteLabels(path, [7]);

        Assert.Equal([7], IdxReader.ReadLabels(path).Data);
        Assert.Equal([path], Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void WriteImages_LengthMismatch_ThrowsAndWritesNothing()
    {
        using var temp = new TempDirectory();

        Assert.Throws<ArgumentException>(() => IdxWriter.WriteImages(temp.File("x"), new byte[10], 2, 2, 2));

        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_BadMagic_ThrowsNamingFile(bool gzip)
    {
        using var temp = new TempDirectory();
        string path = temp.File("bad-magic");
        byte[] raw = Idx(0x08, [1, 2, 2], 4, b0: 0x12, b1: 0x34);
        File.WriteAllBytes(path, gzip ? Gzip(raw) : raw);

        AssertOneLineNaming(path, "bad magic", ReadFails(path));
    }

    [Fact]
    public void Read_UnknownElementType_ThrowsNamingFile()
    {
        using var temp = new TempDirectory();
        string path = temp.File("unknown-type");
        File.WriteAllBytes(path, Idx(0x42, [1, 2, 2], 4));

        AssertOneLineNaming(path, "unknown IDX element type 0x42", ReadFails(path));
    }

    [Fact]
    public void Read_WrongElementType_ThrowsNamingFile()
    {
        using var temp = new TempDirectory();
        string path = temp.File("floats");
        File.WriteAllBytes(path, Idx(0x0D, [1, 2, 2], 16));

        AssertOneLineNaming(path, "wrong element type 0x0D", ReadFails(path));
    }

    [Fact]
    public void Read_OtherElementTypeWhenAllowed_ReturnsRawBytes()
    {
        using var temp = new TempDirectory();
        string path = temp.File("floats");
        File.WriteAllBytes(path, Idx(0x0D, [1, 2, 2], 16));

        IdxArray read = IdxReader.Read(path, 3, allowAnyElementType: true);

        Assert.Equal(IdxElementType.Float, read.ElementType);
        Assert.Equal(16, read.Data.Length);
    }

    [Fact]
    public void Read_WrongDimensionCount_ThrowsNamingFile()
    {
        using var temp = new TempDirectory();
        string path = temp.File("labels-not-images");
        File.WriteAllBytes(path, Idx(0x08, [10], 10));

        AssertOneLineNaming(path, "wrong number of dimensions: header says 1, expected 3", ReadFails(path));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Read_NonPositiveDimension_ThrowsNamingFile(int size)
    {
        using var temp = new TempDirectory();
        string path = temp.File("zero-dim");
        File.WriteAllBytes(path, Idx(0x08, [3, size, 2], 0));

        AssertOneLineNaming(path, $"dimension 1 is {size}", ReadFails(path));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_TruncatedFile_ThrowsNamingFile(bool gzip)
    {
        using var temp = new TempDirectory();
        string path = temp.File(gzip ? "train-images-idx3-ubyte.gz" : "train-images-idx3-ubyte");
        // Header promises 60000 28x28 images; only 1000 bytes follow. A gzip file of a kilobyte cannot hold them,
        // which its size shows before anything is decompressed.
        byte[] raw = Idx(0x08, [60000, 28, 28], 1000);
        File.WriteAllBytes(path, gzip ? Gzip(raw) : raw);

        AssertOneLineNaming(path, gzip ? "truncated: expected 47040000 bytes of pixels, but a gzip file of" : "truncated: expected 47040000 bytes of pixels, found 1000", ReadFails(path));
    }

    [Fact]
    public void Read_HeaderClaimingHugeSize_ThrowsWithoutNeedingThatMemory()
    {
        using var temp = new TempDirectory();
        string path = temp.File("huge.gz");
        // 2 GB promised by a few bytes of gzip: refused from the file's size, since deflate expands at most 1032:1.
        File.WriteAllBytes(path, Gzip(Idx(0x08, [2000, 1000, 1000], 10)));

        AssertOneLineNaming(path, "truncated: expected 2000000000 bytes of pixels, but a gzip file of", ReadFails(path));
    }

    [Fact]
    public void Read_DimensionsBeyondArrayLimit_ThrowsNamingFile()
    {
        using var temp = new TempDirectory();
        string path = temp.File("too-big");
        File.WriteAllBytes(path, Idx(0x08, [60000, 60000, 60000], 10));

        AssertOneLineNaming(path, "too large", ReadFails(path));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_TrailingBytes_ThrowsNamingFile(bool gzip)
    {
        using var temp = new TempDirectory();
        string path = temp.File("trailing");
        byte[] raw = Idx(0x08, [2, 2, 2], 13);
        File.WriteAllBytes(path, gzip ? Gzip(raw) : raw);

        AssertOneLineNaming(path, "trailing bytes: expected 8 bytes of pixels, found 13 (5 extra)", ReadFails(path));
    }

    [Theory]
    [InlineData(0, "empty file")]
    [InlineData(3, "too short for an IDX header")]
    [InlineData(9, "truncated header")]
    public void Read_ShortHeader_ThrowsNamingFile(int length, string problem)
    {
        using var temp = new TempDirectory();
        string path = temp.File("short");
        File.WriteAllBytes(path, Idx(0x08, [2, 2, 2], 8)[..length]);

        AssertOneLineNaming(path, problem, ReadFails(path));
    }

    [Fact]
    public void Read_CorruptGzip_ThrowsNamingFile()
    {
        using var temp = new TempDirectory();
        string path = temp.File("corrupt.gz");
        byte[] gz = Gzip(Idx(0x08, [4, 4, 4], 64));
        // Gzip magic followed by an invalid compression method.
        gz[2] = 0x63;
        File.WriteAllBytes(path, gz);

        AssertOneLineNaming(path, "corrupt gzip data", ReadFails(path));
    }

    [MnistFact]
    public void ReadImages_RealMnist_HasStandardShape()
    {
        string path = MnistFiles.Find(TestData.MnistDirectory!, MnistFiles.TestImages)!;

        IdxArray images = IdxReader.ReadImages(path);

        Assert.Equal([10000, 28, 28], images.Dimensions);
        Assert.Equal(10000 * 28 * 28, images.Data.Length);
    }
}
