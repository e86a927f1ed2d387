using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using IlgpuVae.Checkpoints;
using Xunit;

namespace IlgpuVae.Tests.Checkpoints;

public sealed class SafeTensorsTests : IDisposable
{
    private static readonly Dictionary<string, string> NoMetadata = new();

    private readonly SafeTensorsTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static float[] RandomFloats(int count, int seed)
    {
        var random = new Random(seed);
        var data = new float[count];
        for (int i = 0; i < count; i++)
        {
            data[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return data;
    }

    private static void AssertSameTensors(IReadOnlyList<NamedTensor> expected, IReadOnlyList<NamedTensor> actual)
    {
        Assert.Equal(expected.Select(t => t.Name), actual.Select(t => t.Name));
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Shape, actual[i].Shape);
            Assert.Equal(SafeTensorsTestFiles.Bits(expected[i].Data), SafeTensorsTestFiles.Bits(actual[i].Data));
        }
    }

    [Fact]
    public void RoundTrip_VariousShapes_PreservesNamesShapesBitsAndOrder()
    {
        NamedTensor[] tensors =
        [
            new("encoder.fc1.weight", [400, 784], RandomFloats(400 * 784, 1)),
            new("encoder.fc1.bias", [400], RandomFloats(400, 2)),
            new("log_scale", [1], [0.5f]),
            new("step", [], [12345f]),
            new("empty", [0], []),
            new("empty3d", [2, 0, 3], []),
            new("specials", [8], [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.Epsilon, float.MaxValue, float.MinValue, BitConverter.Int32BitsToSingle(0x7FC00001)]),
            new("a_after_s", [2, 2], [1, 2, 3, 4]),
        ];
        string path = _files.PathOf("model.safetensors");

        SafeTensors.Write(path, NoMetadata, tensors);
        SafeTensorsFile read = SafeTensors.Read(path);

        AssertSameTensors(tensors, read.Tensors);
        Assert.Empty(read.Metadata);
        Assert.Equal(path, read.SourcePath);
        Assert.Equal(new[] { "model.safetensors" }, _files.FileNames());
    }

    [Fact]
    public void RoundTrip_Metadata_PreservesAllEntries()
    {
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["epoch"] = "17",
            ["empty"] = string.Empty,
            ["unicode"] = "λ ≥ 0 — ok ✓ 😀",
            ["quotes"] = "say \"hi\"\\ \n\t <tag> & +",
            ["config"] = "{\"latent\":20,\"hidden\":[400]}",
        };
        string path = _files.PathOf("meta.safetensors");

        SafeTensors.Write(path, metadata, [new NamedTensor("w", [1], [1f])]);
        SafeTensorsFile read = SafeTensors.Read(path);
        SafeTensorsHeader header = SafeTensors.ReadHeader(path);

        Assert.Equal(metadata.OrderBy(kv => kv.Key), read.Metadata.OrderBy(kv => kv.Key));
        Assert.Equal(metadata.OrderBy(kv => kv.Key), header.Metadata.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void RoundTrip_NoTensors_WritesAndReadsEmptyCheckpoint()
    {
        string path = _files.PathOf("empty.safetensors");

        SafeTensors.Write(path, new Dictionary<string, string> { ["k"] = "v" }, []);
        SafeTensorsFile read = SafeTensors.Read(path);

        Assert.Empty(read.Tensors);
        Assert.Equal("v", read.Metadata["k"]);
    }

    [Fact]
    public void RoundTrip_SafeTensorsFileOverload_Works()
    {
        var file = new SafeTensorsFile(new Dictionary<string, string> { ["k"] = "v" }, [new NamedTensor("x", [3], [1, 2, 3])]);
        string path = _files.PathOf("f.safetensors");

        SafeTensors.Write(path, file);
        SafeTensorsFile read = SafeTensors.Read(path);

        AssertSameTensors(file.Tensors, read.Tensors);
        Assert.Equal("v", read.Metadata["k"]);
    }

    [Fact]
    public void Write_TinyFile_IsByteForByteTheSpecLayout()
    {
        string path = _files.PathOf("tiny.safetensors");

        SafeTensors.Write(path, new Dictionary<string, string> { ["k"] = "v" }, [new NamedTensor("a", [2], [1.0f, -2.0f])]);

        // {"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} is 79 bytes; padded to 80.
        string json = "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        Assert.Equal(79, json.Length);
        var expected = new List<byte> { 80, 0, 0, 0, 0, 0, 0, 0 };
        expected.AddRange(Encoding.ASCII.GetBytes(json + " "));
        expected.AddRange(new byte[] { 0x00, 0x00, 0x80, 0x3F }); // 1.0f little-endian
        expected.AddRange(new byte[] { 0x00, 0x00, 0x00, 0xC0 }); // -2.0f little-endian
        Assert.Equal(expected.ToArray(), File.ReadAllBytes(path));
    }

    [Fact]
    public void Write_WithoutMetadata_OmitsMetadataKey()
    {
        string path = _files.PathOf("nometa.safetensors");

        SafeTensors.Write(path, NoMetadata, [new NamedTensor("s", [], [3f])]);

        // {"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}} is 53 bytes; padded to 56.
        byte[] expected = SafeTensorsTestFiles.Build("{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", [0x00, 0x00, 0x40, 0x40]);
        Assert.Equal(8 + 56 + 4, expected.Length);
        Assert.Equal(expected, File.ReadAllBytes(path));
    }

    [Fact]
    public void Write_HeaderIsSpacePaddedToMultipleOf8()
    {
        for (int extra = 0; extra < 16; extra++)
        {
            string path = _files.PathOf($"pad{extra}.safetensors");
            SafeTensors.Write(path, new Dictionary<string, string> { ["pad"] = new string('x', extra) }, [new NamedTensor("w", [2], [1, 2])]);

            byte[] bytes = File.ReadAllBytes(path);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(0UL, length % 8);
            Assert.Equal(8 + (long)length + 8, bytes.Length);
            string header = Encoding.UTF8.GetString(bytes, 8, (int)length);
            string trimmed = header.TrimEnd(' ');
            Assert.EndsWith("}", trimmed, StringComparison.Ordinal);
            Assert.True(header.Length - trimmed.Length < 8, "padding is under 8 bytes");
            using JsonDocument parsed = JsonDocument.Parse(trimmed);
            Assert.Equal(JsonValueKind.Object, parsed.RootElement.ValueKind);
            Assert.Equal(SafeTensorsTestFiles.Floats(1, 2), bytes[^8..]);
        }
    }

    [Fact]
    public void Write_LaysTensorsOutContiguouslyInInsertionOrder()
    {
        string path = _files.PathOf("layout.safetensors");
        NamedTensor[] tensors =
        [
            new("z", [3], [1, 2, 3]),
            new("a", [2, 2], [4, 5, 6, 7]),
            new("zero", [0], []),
            new("m", [], [8]),
        ];

        SafeTensors.Write(path, NoMetadata, tensors);
        SafeTensorsHeader header = SafeTensors.ReadHeader(path);

        Assert.Equal(new[] { "z", "a", "zero", "m" }, header.Tensors.Select(t => t.Name));
        Assert.Equal(new long[] { 0, 12, 28, 28 }, header.Tensors.Select(t => t.DataBegin));
        Assert.Equal(new long[] { 12, 28, 28, 32 }, header.Tensors.Select(t => t.DataEnd));
        Assert.All(header.Tensors, t => Assert.Equal("F32", t.DType));
        Assert.Equal(32, header.DataLength);
        Assert.Equal(header.FileLength, new FileInfo(path).Length);
        Assert.Equal(0, header.DataStart % 8);
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(SafeTensorsTestFiles.Floats(1, 2, 3, 4, 5, 6, 7, 8), bytes[(int)header.DataStart..]);
    }

    [Fact]
    public void ReadHeader_ReportsShapesAndCountsWithoutData()
    {
        string path = _files.PathOf("h.safetensors");
        SafeTensors.Write(path, new Dictionary<string, string> { ["epoch"] = "3" }, [new NamedTensor("w", [400, 784], new float[400 * 784]), new NamedTensor("b", [400], new float[400])]);

        SafeTensorsHeader header = SafeTensors.ReadHeader(path);

        Assert.Equal(path, header.Path);
        Assert.Equal("3", header.Metadata["epoch"]);
        Assert.Equal(new[] { 400, 784 }, header.Tensors[0].Shape);
        Assert.Equal(400L * 784, header.Tensors[0].ElementCount);
        Assert.Equal(400L * 784 * 4, header.Tensors[0].ByteLength);
        Assert.Equal(new[] { 400 }, header.Tensors[1].Shape);
    }

    [Fact]
    public void Get_ExistingTensor_ReturnsIt()
    {
        string path = _files.PathOf("g.safetensors");
        SafeTensors.Write(path, NoMetadata, [new NamedTensor("w", [2], [1, 2]), new NamedTensor("b", [1], [3])]);

        SafeTensorsFile file = SafeTensors.Read(path);

        Assert.Equal(new float[] { 3 }, file.Get("b").Data);
        Assert.True(file.Contains("w"));
        Assert.True(file.TryGet("w", out NamedTensor? w));
        Assert.Equal(new[] { 2 }, w.Shape);
        Assert.False(file.TryGet("nope", out _));
    }

    [Fact]
    public void Get_MissingTensor_ThrowsNamingTensorFileAndAlternatives()
    {
        string path = _files.PathOf("g.safetensors");
        SafeTensors.Write(path, NoMetadata, [new NamedTensor("w", [2], [1, 2]), new NamedTensor("b", [1], [3])]);
        SafeTensorsFile file = SafeTensors.Read(path);

        KeyNotFoundException ex = Assert.Throws<KeyNotFoundException>(() => file.Get("decoder.fc1.weight"));

        Assert.Contains("'decoder.fc1.weight'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("w, b", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SafeTensorsFile_DuplicateNames_Throws()
    {
        Assert.Throws<ArgumentException>(() => new SafeTensorsFile(NoMetadata, [new NamedTensor("w", [1], [1]), new NamedTensor("w", [1], [2])]));
    }

    private static readonly Dictionary<string, NamedTensor[]> s_invalidWrites = new()
    {
        { "shape/data mismatch", [new NamedTensor("w", [2, 3], new float[5])] },
        { "scalar with no element", [new NamedTensor("s", [], [])] },
        { "negative dimension", [new NamedTensor("w", [-1], [])] },
        { "duplicate names", [new NamedTensor("w", [1], [1]), new NamedTensor("w", [1], [2])] },
        { "reserved name", [new NamedTensor("__metadata__", [1], [1])] },
        { "overflowing shape", [new NamedTensor("w", [int.MaxValue, int.MaxValue, int.MaxValue], [])] },
    };

    public static TheoryData<string> InvalidWrites => new(s_invalidWrites.Keys);

    [Theory]
    [MemberData(nameof(InvalidWrites))]
    public void Write_InvalidTensors_ThrowsAndLeavesPreviousFileAndNoTempFile(string why)
    {
        var tensors = s_invalidWrites[why];
        string path = _files.PathOf("keep.safetensors");
        SafeTensors.Write(path, NoMetadata, [new NamedTensor("old", [2], [1, 2])]);
        byte[] before = File.ReadAllBytes(path);

        Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, NoMetadata, tensors));

        Assert.True(before.SequenceEqual(File.ReadAllBytes(path)), why);
        Assert.Equal(new[] { "keep.safetensors" }, _files.FileNames());
    }

    [Fact]
    public void Write_OverExistingFile_ReplacesIt()
    {
        string path = _files.PathOf("ckpt.safetensors");
        SafeTensors.Write(path, new Dictionary<string, string> { ["epoch"] = "1" }, [new NamedTensor("w", [400], RandomFloats(400, 5))]);

        SafeTensors.Write(path, new Dictionary<string, string> { ["epoch"] = "2" }, [new NamedTensor("w", [1], [7])]);

        SafeTensorsFile read = SafeTensors.Read(path);
        Assert.Equal("2", read.Metadata["epoch"]);
        Assert.Equal(new float[] { 7 }, read.Get("w").Data);
        Assert.Equal(new[] { "ckpt.safetensors" }, _files.FileNames());
    }

    private static IEnumerable<NamedTensor> ThrowsAfterFirst()
    {
        yield return new NamedTensor("w", [2], [9, 9]);
        throw new InvalidOperationException("tensor source failed");
    }

    [Fact]
    public void Write_TensorSourceThrowsPartway_PreviousFileIntactAndNoTempFile()
    {
        string path = _files.PathOf("ckpt.safetensors");
        var original = new NamedTensor("w", [3], [1, 2, 3]);
        SafeTensors.Write(path, new Dictionary<string, string> { ["epoch"] = "1" }, [original]);
        byte[] before = File.ReadAllBytes(path);

        var ex = Assert.Throws<InvalidOperationException>(() => SafeTensors.Write(path, NoMetadata, ThrowsAfterFirst()));

        Assert.Equal("tensor source failed", ex.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        SafeTensorsFile read = SafeTensors.Read(path);
        Assert.Equal("1", read.Metadata["epoch"]);
        AssertSameTensors([original], read.Tensors);
        Assert.Equal(new[] { "ckpt.safetensors" }, _files.FileNames());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(100)]
    [InlineData(5000)]
    public void Write_StreamFailsMidWrite_PreviousFileIntactAndNoTempFile(int failAfterBytes)
    {
        string path = _files.PathOf("ckpt.safetensors");
        var original = new NamedTensor("w", [3], [1, 2, 3]);
        SafeTensors.Write(path, NoMetadata, [original]);
        byte[] before = File.ReadAllBytes(path);
        string? tempSeen = null;

        Assert.Throws<IOException>(() => SafeTensors.Write(
            path,
            NoMetadata,
            [new NamedTensor("big", [4000], RandomFloats(4000, 9))],
            inner =>
            {
                tempSeen = ((FileStream)inner).Name;
                return new FailingStream(inner, failAfterBytes);
            }));

        Assert.NotNull(tempSeen);
        Assert.Equal(_files.Directory, Path.GetDirectoryName(tempSeen));
        Assert.StartsWith(Path.Combine(_files.Directory, ".ckpt.safetensors."), tempSeen, StringComparison.Ordinal);
        Assert.False(File.Exists(tempSeen));
        Assert.Equal(before, File.ReadAllBytes(path));
        AssertSameTensors([original], SafeTensors.Read(path).Tensors);
        Assert.Equal(new[] { "ckpt.safetensors" }, _files.FileNames());
    }

    [Fact]
    public void Write_DestinationIsADirectory_ThrowsAndLeavesNoTempFile()
    {
        string path = _files.PathOf("occupied");
        Directory.CreateDirectory(path);

        Assert.ThrowsAny<Exception>(() => SafeTensors.Write(path, NoMetadata, [new NamedTensor("w", [1], [1])]));

        Assert.True(Directory.Exists(path));
        Assert.Equal(new[] { "occupied" }, _files.FileNames());
    }

    [Fact]
    public void Write_MissingDirectory_Throws()
    {
        string path = Path.Combine(_files.Directory, "no-such-dir", "x.safetensors");

        Assert.Throws<DirectoryNotFoundException>(() => SafeTensors.Write(path, NoMetadata, [new NamedTensor("w", [1], [1])]));
    }

    /// <summary>Passes writes through until a byte budget is spent, then throws.</summary>
    private sealed class FailingStream(Stream inner, int failAfterBytes) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            long room = failAfterBytes - _written;
            if (buffer.Length > room)
            {
                inner.Write(buffer[..(int)Math.Max(0, room)]);
                _written = failAfterBytes;
                throw new IOException("disk full (simulated)");
            }

            inner.Write(buffer);
            _written += buffer.Length;
        }
    }
}
