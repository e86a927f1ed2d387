using System.Buffers.Binary;
using System.Text;
using IlgpuVae.Checkpoints;
using Xunit;

namespace IlgpuVae.Tests.Checkpoints;

/// <summary>Hand-crafted files that lie about themselves must be refused with a one-line message naming the file.</summary>
public sealed class SafeTensorsCorruptionTests : IDisposable
{
    private readonly SafeTensorsTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static byte[] Build(string json, byte[] buffer, bool pad = true) => SafeTensorsTestFiles.Build(json, buffer, pad);

    private static byte[] Floats(params float[] values) => SafeTensorsTestFiles.Floats(values);

    /// <summary>Asserts both Read and ReadHeader refuse the bytes, naming the file and mentioning <paramref name="fragment"/>.</summary>
    private CheckpointFormatException AssertRefused(byte[] bytes, string fragment, bool headerAlsoRefuses = true)
    {
        string path = _files.WriteBytes("bad.safetensors", bytes);

        CheckpointFormatException ex = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Read(path));
        AssertGoodMessage(ex, path, fragment);

        if (headerAlsoRefuses)
        {
            CheckpointFormatException headerEx = Assert.Throws<CheckpointFormatException>(() => SafeTensors.ReadHeader(path));
            AssertGoodMessage(headerEx, path, fragment);
        }

        return ex;
    }

    private static void AssertGoodMessage(CheckpointFormatException ex, string path, string fragment)
    {
        Assert.Equal(path, ex.FilePath);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.DoesNotContain('\r', ex.Message);
    }

    private static string Entry(string name, string dtype, string shape, string offsets) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}";

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public void Read_FileShorterThan8Bytes_Throws(int length)
    {
        AssertRefused(new byte[length], "shorter than the 8-byte");
    }

    [Fact]
    public void Read_HeaderLengthBeyondFile_Throws()
    {
        byte[] bytes = Build("{}", []);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 64);

        AssertRefused(bytes, "header length 64 exceeds the 8 bytes");
    }

    [Theory]
    [InlineData(100_000_001UL)]
    [InlineData(ulong.MaxValue)]
    [InlineData(0x8000_0000_0000_0000UL)]
    public void Read_HeaderLengthAbsurd_Throws(ulong declared)
    {
        byte[] bytes = Build("{}", []);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declared);

        AssertRefused(bytes, "absurd");
    }

    [Theory]
    [InlineData("{not json}")]
    [InlineData("{\"a\":")]
    [InlineData("{\"a\":1,}")]
    [InlineData("{} {}")]
    [InlineData("{/*c*/}")]
    public void Read_HeaderNotValidJson_Throws(string json)
    {
        AssertRefused(Build(json, []), "not valid JSON");
    }

    [Fact]
    public void Read_HeaderEmpty_Throws()
    {
        AssertRefused(Build(string.Empty, [], pad: false), "not valid JSON");
    }

    [Fact]
    public void Read_HeaderNotUtf8_Throws()
    {
        byte[] header = [(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}'];

        AssertRefused(SafeTensorsTestFiles.Build(header, []), "not valid UTF-8");
    }

    [Fact]
    public void Read_HeaderWithLoneSurrogateEscape_Throws()
    {
        AssertRefused(Build("{\"__metadata__\":{\"k\":\"\\ud800\"}}", []), "not valid Unicode");
    }

    [Theory]
    [InlineData("[]", "array")]
    [InlineData("42", "number")]
    [InlineData("\"x\"", "string")]
    [InlineData("null", "null")]
    [InlineData("true", "boolean")]
    public void Read_HeaderNotAnObject_Throws(string json, string kind)
    {
        AssertRefused(Build(json, []), $"header is a JSON {kind}, not an object");
    }

    [Fact]
    public void Read_HeaderWithLeadingWhitespace_Throws()
    {
        AssertRefused(Build("  {}", []), "does not start with '{'");
    }

    [Theory]
    [InlineData("5", "number")]
    [InlineData("\"F32\"", "string")]
    [InlineData("[0,4]", "array")]
    [InlineData("null", "null")]
    public void Read_TensorEntryNotAnObject_Throws(string value, string kind)
    {
        AssertRefused(Build($"{{\"w\":{value}}}", Floats(1)), $"entry for tensor 'w' is a JSON {kind}, not an object");
    }

    [Theory]
    [InlineData("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "tensor 'w' has no \"dtype\"")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "tensor 'w' has no \"shape\"")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", "tensor 'w' has no \"data_offsets\"")]
    [InlineData("{\"w\":{}}", "tensor 'w' has no \"dtype\"")]
    public void Read_TensorEntryMissingField_Throws(string json, string fragment)
    {
        AssertRefused(Build(json, Floats(1)), fragment);
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", "\"dtype\" that is a JSON number")]
    [InlineData("{\"w\":{\"dtype\":null,\"shape\":[1],\"data_offsets\":[0,4]}}", "\"dtype\" that is a JSON null")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", "\"shape\" that is a JSON string")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":{},\"data_offsets\":[0,4]}}", "\"shape\" that is a JSON object")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", "shape element 0 that is not an integer")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1.5],\"data_offsets\":[0,4]}}", "shape element 1 that is not an integer")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,4]}}", "shape element 0 that is not an integer")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\"0,4\"}}", "\"data_offsets\" that are not an array of two integers")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", "\"data_offsets\" that are not an array of two integers")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", "\"data_offsets\" that are not an array of two integers")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", "data_offsets begin that is not an integer")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", "data_offsets end that is not an integer")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "more than one \"dtype\"")]
    public void Read_TensorEntryFieldOfWrongKind_Throws(string json, string fragment)
    {
        AssertRefused(Build(json, Floats(1)), fragment);
    }

    [Theory]
    [InlineData("I64", 8)]
    [InlineData("F16", 2)]
    [InlineData("BF16", 2)]
    [InlineData("U8", 1)]
    [InlineData("F64", 8)]
    public void Read_UnsupportedDtype_ThrowsNamingDtype_ButHeaderInspects(string dtype, int elementSize)
    {
        byte[] bytes = Build("{" + Entry("w", "F32", "[1]", "[0,4]") + "," + Entry("ids", dtype, "[2]", $"[4,{4 + (2 * elementSize)}]") + "}", new byte[4 + (2 * elementSize)]);

        AssertRefused(bytes, $"tensor 'ids' has dtype {dtype}; only F32", headerAlsoRefuses: false);

        SafeTensorsHeader header = SafeTensors.ReadHeader(_files.PathOf("bad.safetensors"));
        Assert.Equal(new[] { "F32", dtype }, header.Tensors.Select(t => t.DType));
    }

    [Theory]
    [InlineData("F31")]
    [InlineData("f32")]
    [InlineData("")]
    public void Read_UnknownDtype_Throws(string dtype)
    {
        AssertRefused(Build("{" + Entry("w", dtype, "[1]", "[0,4]") + "}", Floats(1)), $"tensor 'w' has unknown dtype '{dtype}'");
    }

    [Fact]
    public void Read_NegativeDimension_Throws()
    {
        AssertRefused(Build("{" + Entry("w", "F32", "[2,-2]", "[0,16]") + "}", new byte[16]), "tensor 'w' has negative dimension -2 at shape index 1");
    }

    [Fact]
    public void Read_DimensionBeyondInt32_Throws()
    {
        AssertRefused(Build("{" + Entry("w", "F32", "[3000000000]", "[0,4]") + "}", Floats(1)), "dimension 3000000000");
    }

    [Fact]
    public void Read_ShapeSizeOverflows_Throws()
    {
        AssertRefused(Build("{" + Entry("w", "F32", "[2147483647,2147483647,2147483647]", "[0,4]") + "}", Floats(1)), "overflows");
    }

    [Fact]
    public void Read_NegativeOffset_Throws()
    {
        AssertRefused(Build("{" + Entry("w", "F32", "[1]", "[-4,0]") + "}", Floats(1)), "negative data_offsets begin (-4)");
    }

    [Fact]
    public void Read_OffsetsReversed_Throws()
    {
        AssertRefused(Build("{" + Entry("w", "F32", "[1]", "[4,0]") + "}", Floats(1)), "data_offsets [4, 0] with begin after end");
    }

    [Fact]
    public void Read_EndBeyondBuffer_Throws()
    {
        AssertRefused(Build("{" + Entry("w", "F32", "[3]", "[0,12]") + "}", Floats(1, 2)), "tensor 'w' ends at byte 12, beyond the 8-byte data buffer");
    }

    [Fact]
    public void Read_HugeEndOffset_Throws()
    {
        AssertRefused(Build("{" + Entry("w", "F32", "[1]", "[0,18446744073709551615]") + "}", Floats(1)), "beyond the 4-byte data buffer");
    }

    [Fact]
    public void Read_TruncatedBuffer_ThrowsNamingFile()
    {
        string good = _files.PathOf("good.safetensors");
        SafeTensors.Write(good, new Dictionary<string, string> { ["epoch"] = "1" }, [new NamedTensor("w", [400], new float[400]), new NamedTensor("b", [4], new float[4])]);
        byte[] bytes = File.ReadAllBytes(good);

        AssertRefused(bytes[..^4], "tensor 'b' ends at byte 1616, beyond the 1612-byte data buffer");
    }

    [Fact]
    public void Read_TruncatedInsideHeader_ThrowsNamingFile()
    {
        string good = _files.PathOf("good.safetensors");
        SafeTensors.Write(good, new Dictionary<string, string> { ["epoch"] = "1" }, [new NamedTensor("w", [400], new float[400])]);
        byte[] bytes = File.ReadAllBytes(good);

        AssertRefused(bytes[..20], "exceeds the 12 bytes that follow the length prefix");
    }

    [Fact]
    public void Read_ByteLengthDisagreesWithShape_Throws()
    {
        AssertRefused(Build("{" + Entry("w", "F32", "[3]", "[0,8]") + "}", Floats(1, 2)), "tensor 'w' (F32 [3]) needs 12 bytes but data_offsets [0, 8] span 8");
    }

    [Fact]
    public void Read_ScalarWithWrongByteLength_Throws()
    {
        AssertRefused(Build("{" + Entry("s", "F32", "[]", "[0,8]") + "}", Floats(1, 2)), "tensor 's' (F32 []) needs 4 bytes");
    }

    [Fact]
    public void Read_OverlappingTensors_Throws()
    {
        string json = "{" + Entry("a", "F32", "[2]", "[0,8]") + "," + Entry("b", "F32", "[2]", "[4,12]") + "}";

        AssertRefused(Build(json, Floats(1, 2, 3)), "tensors 'a' and 'b' overlap");
    }

    [Fact]
    public void Read_IdenticalRanges_Throws()
    {
        string json = "{" + Entry("a", "F32", "[2]", "[0,8]") + "," + Entry("b", "F32", "[2]", "[0,8]") + "}";

        AssertRefused(Build(json, Floats(1, 2)), "overlap");
    }

    [Fact]
    public void Read_GapBetweenTensors_Throws()
    {
        string json = "{" + Entry("a", "F32", "[1]", "[0,4]") + "," + Entry("b", "F32", "[1]", "[8,12]") + "}";

        AssertRefused(Build(json, Floats(1, 2, 3)), "data buffer bytes 4 to 8 (before tensor 'b') are not covered by any tensor");
    }

    [Fact]
    public void Read_GapAtStartOfBuffer_Throws()
    {
        AssertRefused(Build("{" + Entry("a", "F32", "[1]", "[4,8]") + "}", Floats(1, 2)), "data buffer bytes 0 to 4");
    }

    [Fact]
    public void Read_TrailingBytesAfterLastTensor_Throws()
    {
        AssertRefused(Build("{" + Entry("a", "F32", "[2]", "[0,8]") + "}", Floats(1, 2, 3)), "data buffer has 4 trailing bytes not covered by any tensor");
    }

    [Fact]
    public void Read_NoTensorsButTrailingBytes_Throws()
    {
        AssertRefused(Build("{}", [1, 2, 3]), "data buffer has 3 trailing bytes");
    }

    [Theory]
    [InlineData("1", "number")]
    [InlineData("null", "null")]
    [InlineData("[\"a\"]", "array")]
    [InlineData("{\"x\":\"y\"}", "object")]
    [InlineData("false", "boolean")]
    public void Read_MetadataValueNotString_Throws(string value, string kind)
    {
        AssertRefused(Build($"{{\"__metadata__\":{{\"ok\":\"v\",\"bad\":{value}}}}}", []), $"metadata value for key 'bad' is a JSON {kind}, not a string");
    }

    [Theory]
    [InlineData("\"x\"", "string")]
    [InlineData("[]", "array")]
    [InlineData("null", "null")]
    public void Read_MetadataNotAnObject_Throws(string value, string kind)
    {
        AssertRefused(Build($"{{\"__metadata__\":{value}}}", []), $"\"__metadata__\" is a JSON {kind}, not an object of strings");
    }

    [Fact]
    public void Read_DuplicateTensorNames_Throws()
    {
        string json = "{" + Entry("w", "F32", "[1]", "[0,4]") + "," + Entry("w", "F32", "[1]", "[4,8]") + "}";

        AssertRefused(Build(json, Floats(1, 2)), "duplicate tensor name 'w'");
    }

    [Fact]
    public void Read_DuplicateMetadataKeys_Throws()
    {
        AssertRefused(Build("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", []), "duplicate metadata key 'k'");
    }

    [Fact]
    public void Read_DuplicateMetadataSection_Throws()
    {
        AssertRefused(Build("{\"__metadata__\":{},\"__metadata__\":{}}", []), "duplicate \"__metadata__\"");
    }

    [Fact]
    public void Read_NameWithNewline_MessageStaysOneLine()
    {
        AssertRefused(Build("{\"line1\\nline2\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", Floats(1, 2)), "line1 line2");
    }

    // Files that are odd but valid must still load.

    [Fact]
    public void Read_ValidHandCraftedFile_ReturnsTensorsInBufferOrder()
    {
        // Header order differs from buffer order, fields are in another order, there is inner whitespace,
        // an unknown field, a zero-length tensor and no padding: all allowed by the format.
        string json = "{\"b\": {\"data_offsets\": [8, 12], \"shape\": [], \"dtype\": \"F32\", \"extra\": [1]},\n"
            + " \"__metadata__\": {\"format\": \"pt\"},\n"
            + " \"a\": {\"dtype\": \"F32\", \"shape\": [1, 2], \"data_offsets\": [0, 8]},"
            + " \"z\": {\"dtype\": \"F32\", \"shape\": [3, 0], \"data_offsets\": [12, 12]}}";
        string path = _files.WriteBytes("ok.safetensors", Build(json, Floats(1.5f, -2.5f, 42f), pad: false));

        SafeTensorsFile file = SafeTensors.Read(path);

        Assert.Equal(new[] { "a", "b", "z" }, file.Tensors.Select(t => t.Name));
        Assert.Equal(new float[] { 1.5f, -2.5f }, file.Get("a").Data);
        Assert.Equal(new[] { 1, 2 }, file.Get("a").Shape);
        Assert.Equal(new float[] { 42f }, file.Get("b").Data);
        Assert.Empty(file.Get("b").Shape);
        Assert.Empty(file.Get("z").Data);
        Assert.Equal("pt", Assert.Single(file.Metadata).Value);
    }

    [Fact]
    public void Read_EmptyObjectHeader_ReturnsEmptyCheckpoint()
    {
        string path = _files.WriteBytes("empty.safetensors", Build("{}", []));

        SafeTensorsFile file = SafeTensors.Read(path);

        Assert.Empty(file.Tensors);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void Read_HeaderPaddedWithTrailingWhitespace_Accepted()
    {
        string json = "{" + Entry("w", "F32", "[1]", "[0,4]") + "}";
        byte[] header = Encoding.UTF8.GetBytes(json + new string(' ', 13));
        string path = _files.WriteBytes("padded.safetensors", SafeTensorsTestFiles.Build(header, Floats(3), pad: false));

        Assert.Equal(new float[] { 3 }, SafeTensors.Read(path).Get("w").Data);
    }
}
