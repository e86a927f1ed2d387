using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace IlgpuVae.Checkpoints;

/// <summary>
/// Reads and writes the safetensors format
/// (<see href="https://github.com/huggingface/safetensors"/>): an 8-byte little-endian header length N,
/// N bytes of UTF-8 JSON (space-padded) describing each tensor's dtype, shape and byte range, then the
/// data buffer. Only float32 (<c>F32</c>) tensors are written and loaded.
/// </summary>
internal static class SafeTensors
{
    /// <summary>The largest header length accepted, in bytes (the reference implementation's limit).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>The reserved header key holding the string-to-string metadata map.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>The dtype string of 32-bit IEEE floats.</summary>
    public const string F32 = "F32";

    private const int ChunkElements = 1 << 18; // 1 MiB of float32 per I/O call

    // Element sizes in bits of every dtype the format defines; header validation accepts all of them,
    // loading data accepts only F32.
    private static readonly Dictionary<string, int> DTypeBits = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 8, ["U8"] = 8, ["I8"] = 8, ["F8_E5M2"] = 8, ["F8_E4M3"] = 8, ["F8_E8M0"] = 8,
        ["I16"] = 16, ["U16"] = 16, ["F16"] = 16, ["BF16"] = 16,
        ["I32"] = 32, ["U32"] = 32, ["F32"] = 32,
        ["I64"] = 64, ["U64"] = 64, ["F64"] = 64, ["C64"] = 64,
        ["F4"] = 4, ["F6_E2M3"] = 6, ["F6_E3M2"] = 6,
    };

    /// <summary>Writes <paramref name="file"/> to <paramref name="path"/> atomically; see <see cref="Write(string, IReadOnlyDictionary{string, string}, IEnumerable{NamedTensor})"/>.</summary>
    /// <param name="path">The destination file.</param>
    /// <param name="file">The metadata and tensors to write.</param>
    public static void Write(string path, SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        Write(path, file.Metadata, file.Tensors);
    }

    /// <summary>
    /// Writes a safetensors file atomically: the bytes go to a temporary file beside <paramref name="path"/>,
    /// are flushed to disk, and the temporary file is then renamed over <paramref name="path"/>. If anything
    /// fails the temporary file is deleted and an existing file at <paramref name="path"/> is left untouched.
    /// </summary>
    /// <remarks>
    /// Tensors are laid out contiguously in the order given, with no gaps, as little-endian float32
    /// regardless of the host's byte order. Metadata entries are written sorted by key (ordinal), and
    /// omitted entirely when there are none, so equal inputs give byte-identical files. The header is
    /// padded with spaces to a multiple of 8 bytes.
    /// </remarks>
    /// <param name="path">The destination file; its directory must exist.</param>
    /// <param name="metadata">String metadata stored under <c>__metadata__</c>.</param>
    /// <param name="tensors">The tensors, in buffer order. Enumerated once, before anything is written.</param>
    /// <exception cref="ArgumentException">A tensor's shape and data disagree, a dimension is negative,
    /// two tensors share a name, a tensor is named <c>__metadata__</c>, or a metadata value is null.</exception>
    public static void Write(string path, IReadOnlyDictionary<string, string> metadata, IEnumerable<NamedTensor> tensors) =>
        Write(path, metadata, tensors, wrapStream: null);

    /// <summary>As the public overload; <paramref name="wrapStream"/> lets tests interpose on the temporary file's stream.</summary>
    internal static void Write(
        string path,
        IReadOnlyDictionary<string, string> metadata,
        IEnumerable<NamedTensor> tensors,
        Func<Stream, Stream>? wrapStream)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(tensors);

        List<NamedTensor> list = ValidateForWrite(metadata, tensors);
        byte[] header = BuildHeader(metadata, list);

        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{directory}: no such directory");
        // Temporary file, flush, rename, directory flush; any I/O error is one IOException naming the target.
        Data.AtomicFile.Write(path, fileStream =>
        {
            Stream stream = wrapStream?.Invoke(fileStream) ?? fileStream;
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (NamedTensor tensor in list)
            {
                WriteFloats(stream, tensor.Data);
            }

            stream.Flush();
        });
    }

    /// <summary>
    /// Reads and validates a whole safetensors file of float32 tensors. Everything the header claims is
    /// checked against the file before any data is trusted.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <returns>The metadata and the tensors, in buffer order.</returns>
    /// <exception cref="CheckpointFormatException">The file is malformed or holds a tensor that is not F32;
    /// the one-line message names the file and the problem.</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    public static SafeTensorsFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Data.RegularFile.Require(path); // a FIFO would block the open, a directory fail with "access denied"
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        SafeTensorsHeader header = ParseHeader(stream, path);

        foreach (TensorInfo info in header.Tensors)
        {
            if (info.DType != F32)
            {
                throw new CheckpointFormatException(path, $"tensor '{info.Name}' has dtype {info.DType}; only F32 tensors can be loaded");
            }

            if (info.ElementCount > Array.MaxLength)
            {
                throw new CheckpointFormatException(path, $"tensor '{info.Name}' has {info.ElementCount} elements, too many to load into one array");
            }
        }

        var tensors = new List<NamedTensor>(header.Tensors.Count);
        foreach (TensorInfo info in header.Tensors)
        {
            var data = new float[info.ElementCount];
            stream.Seek(header.DataStart + info.DataBegin, SeekOrigin.Begin);
            try
            {
                ReadFloats(stream, data);
            }
            catch (EndOfStreamException ex)
            {
                throw new CheckpointFormatException(path, $"file ended while reading tensor '{info.Name}' (was it changed while being read?)", ex);
            }

            tensors.Add(new NamedTensor(info.Name, info.Shape, data));
        }

        return new SafeTensorsFile(header.Metadata, tensors, path);
    }

    /// <summary>
    /// Reads and validates only the header of a safetensors file: metadata and tensor entries, without
    /// loading tensor data. Any dtype the format defines is accepted here; the layout checks are the same as
    /// <see cref="Read"/>'s.
    /// </summary>
    /// <param name="path">The file to inspect.</param>
    /// <returns>The validated header.</returns>
    /// <exception cref="CheckpointFormatException">The header is malformed or contradicts the file.</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    public static SafeTensorsHeader ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Data.RegularFile.Require(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 4096);
        return ParseHeader(stream, path);
    }

    private static List<NamedTensor> ValidateForWrite(IReadOnlyDictionary<string, string> metadata, IEnumerable<NamedTensor> tensors)
    {
        foreach (KeyValuePair<string, string> entry in metadata)
        {
            if (entry.Key is null || entry.Value is null)
            {
                throw new ArgumentException($"Metadata entry '{entry.Key}' has a null key or value.", nameof(metadata));
            }
        }

        var list = new List<NamedTensor>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (NamedTensor tensor in tensors)
        {
            if (tensor is null)
            {
                throw new ArgumentException("A tensor is null.", nameof(tensors));
            }

            if (tensor.Name == MetadataKey)
            {
                throw new ArgumentException($"A tensor may not be named '{MetadataKey}'.", nameof(tensors));
            }

            if (!names.Add(tensor.Name))
            {
                throw new ArgumentException($"Duplicate tensor name '{tensor.Name}'.", nameof(tensors));
            }

            long count;
            try
            {
                count = NamedTensor.ShapeElementCount(tensor.Shape);
            }
            catch (Exception ex) when (ex is ArgumentException or OverflowException)
            {
                throw new ArgumentException($"Tensor '{tensor.Name}' has an invalid shape {NamedTensor.FormatShape(tensor.Shape)}.", nameof(tensors), ex);
            }

            if (count != tensor.Data.Length)
            {
                throw new ArgumentException(
                    $"Tensor '{tensor.Name}' has shape {NamedTensor.FormatShape(tensor.Shape)} ({count} elements) but {tensor.Data.Length} data elements.",
                    nameof(tensors));
            }

            list.Add(tensor);
        }

        return list;
    }

    private static byte[] BuildHeader(IReadOnlyDictionary<string, string> metadata, List<NamedTensor> tensors)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata.Count > 0)
            {
                json.WriteStartObject(MetadataKey);
                foreach (KeyValuePair<string, string> entry in metadata.OrderBy(e => e.Key, StringComparer.Ordinal))
                {
                    json.WriteString(entry.Key, entry.Value);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach (NamedTensor tensor in tensors)
            {
                long end = offset + (4L * tensor.Data.Length);
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", F32);
                json.WriteStartArray("shape");
                foreach (int dim in tensor.Shape)
                {
                    json.WriteNumberValue(dim);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(end);
                json.WriteEndArray();
                json.WriteEndObject();
                offset = end;
            }

            json.WriteEndObject();
        }

        int length = buffer.WrittenCount;
        int padded = (length + 7) & ~7;
        byte[] header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(length).Fill((byte)' ');
        return header;
    }

    private static void WriteFloats(Stream stream, float[] data)
    {
        if (BitConverter.IsLittleEndian)
        {
            for (int start = 0; start < data.Length; start += ChunkElements)
            {
                int count = Math.Min(ChunkElements, data.Length - start);
                stream.Write(MemoryMarshal.AsBytes(data.AsSpan(start, count)));
            }

            return;
        }

        byte[] scratch = ArrayPool<byte>.Shared.Rent(ChunkElements * sizeof(float));
        try
        {
            for (int start = 0; start < data.Length; start += ChunkElements)
            {
                int count = Math.Min(ChunkElements, data.Length - start);
                for (int i = 0; i < count; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(scratch.AsSpan(i * sizeof(float)), data[start + i]);
                }

                stream.Write(scratch, 0, count * sizeof(float));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static void ReadFloats(Stream stream, float[] data)
    {
        for (int start = 0; start < data.Length; start += ChunkElements)
        {
            Span<float> chunk = data.AsSpan(start, Math.Min(ChunkElements, data.Length - start));
            stream.ReadExactly(MemoryMarshal.AsBytes(chunk));
            if (!BitConverter.IsLittleEndian)
            {
                Span<int> bits = MemoryMarshal.Cast<float, int>(chunk);
                BinaryPrimitives.ReverseEndianness(bits, bits);
            }
        }
    }

    private static SafeTensorsHeader ParseHeader(FileStream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw Error(path, $"file is {fileLength} bytes long, shorter than the 8-byte header length prefix");
        }

        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (declared > MaxHeaderLength)
        {
            throw Error(path, $"header length {declared} is absurd (limit {MaxHeaderLength} bytes)");
        }

        long headerLength = (long)declared;
        if (headerLength > fileLength - 8)
        {
            throw Error(path, $"header length {headerLength} exceeds the {fileLength - 8} bytes that follow the length prefix");
        }

        byte[] headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataLength = fileLength - 8 - headerLength;

        if (!Utf8.IsValid(headerBytes))
        {
            throw Error(path, "header is not valid UTF-8");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw Error(path, $"header is not valid JSON ({ex.Message})", ex);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error(path, $"header is a JSON {Kind(root.ValueKind)}, not an object");
            }

            if (headerBytes[0] != (byte)'{')
            {
                throw Error(path, "header does not start with '{' (leading whitespace is not allowed)");
            }

            try
            {
                return InterpretHeader(path, root, headerLength, fileLength, dataLength);
            }
            catch (InvalidOperationException ex)
            {
                // JsonElement string access throws this for escapes that decode to invalid UTF-16.
                throw Error(path, "header contains a string that is not valid Unicode", ex);
            }
        }
    }

    private static SafeTensorsHeader InterpretHeader(string path, JsonElement root, long headerLength, long fileLength, long dataLength)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        bool sawMetadata = false;
        var names = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<TensorInfo>();

        foreach (JsonProperty property in root.EnumerateObject())
        {
            string name = property.Name;
            if (name == MetadataKey)
            {
                if (sawMetadata)
                {
                    throw Error(path, $"duplicate \"{MetadataKey}\" entry");
                }

                sawMetadata = true;
                ReadMetadata(path, property.Value, metadata);
                continue;
            }

            if (!names.Add(name))
            {
                throw Error(path, $"duplicate tensor name '{name}'");
            }

            entries.Add(ReadTensorEntry(path, name, property.Value, dataLength));
        }

        // Buffer order; OrderBy is stable, so zero-length tensors keep their header order.
        List<TensorInfo> sorted = entries.OrderBy(t => t.DataBegin).ThenBy(t => t.DataEnd).ToList();
        long covered = 0;
        string? previous = null;
        foreach (TensorInfo tensor in sorted)
        {
            if (tensor.DataBegin < covered)
            {
                throw Error(path, $"tensors '{previous}' and '{tensor.Name}' overlap in the data buffer (bytes {tensor.DataBegin} to {covered})");
            }

            if (tensor.DataBegin > covered)
            {
                throw Error(path, $"data buffer bytes {covered} to {tensor.DataBegin} (before tensor '{tensor.Name}') are not covered by any tensor");
            }

            covered = tensor.DataEnd;
            previous = tensor.Name;
        }

        if (covered != dataLength)
        {
            throw Error(path, $"data buffer has {dataLength - covered} trailing bytes not covered by any tensor (buffer is {dataLength} bytes, tensors end at {covered})");
        }

        return new SafeTensorsHeader(path, metadata.AsReadOnly(), sorted.AsReadOnly(), headerLength, fileLength);
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(path, $"\"{MetadataKey}\" is a JSON {Kind(value.ValueKind)}, not an object of strings");
        }

        foreach (JsonProperty entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw Error(path, $"metadata value for key '{entry.Name}' is a JSON {Kind(entry.Value.ValueKind)}, not a string");
            }

            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
            {
                throw Error(path, $"duplicate metadata key '{entry.Name}'");
            }
        }
    }

    private static TensorInfo ReadTensorEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(path, $"entry for tensor '{name}' is a JSON {Kind(value.ValueKind)}, not an object");
        }

        JsonElement? dtypeElement = null, shapeElement = null, offsetsElement = null;
        foreach (JsonProperty field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype":
                    dtypeElement = dtypeElement is null ? field.Value : throw Error(path, $"tensor '{name}' has more than one \"{field.Name}\"");
                    break;
                case "shape":
                    shapeElement = shapeElement is null ? field.Value : throw Error(path, $"tensor '{name}' has more than one \"{field.Name}\"");
                    break;
                case "data_offsets":
                    offsetsElement = offsetsElement is null ? field.Value : throw Error(path, $"tensor '{name}' has more than one \"{field.Name}\"");
                    break;
                default:
                    break; // unknown fields are ignored, as the reference implementation does
            }
        }

        // dtype
        if (dtypeElement is not { } dtypeValue)
        {
            throw Error(path, $"tensor '{name}' has no \"dtype\"");
        }

        if (dtypeValue.ValueKind != JsonValueKind.String)
        {
            throw Error(path, $"tensor '{name}' has a \"dtype\" that is a JSON {Kind(dtypeValue.ValueKind)}, not a string");
        }

        string dtype = dtypeValue.GetString()!;
        if (!DTypeBits.TryGetValue(dtype, out int bitsPerElement))
        {
            throw Error(path, $"tensor '{name}' has unknown dtype '{dtype}'");
        }

        // shape
        if (shapeElement is not { } shapeValue)
        {
            throw Error(path, $"tensor '{name}' has no \"shape\"");
        }

        if (shapeValue.ValueKind != JsonValueKind.Array)
        {
            throw Error(path, $"tensor '{name}' has a \"shape\" that is a JSON {Kind(shapeValue.ValueKind)}, not an array");
        }

        var shape = new int[shapeValue.GetArrayLength()];
        int index = 0;
        foreach (JsonElement dimElement in shapeValue.EnumerateArray())
        {
            if (dimElement.ValueKind != JsonValueKind.Number || !dimElement.TryGetInt64(out long dim))
            {
                throw Error(path, $"tensor '{name}' has shape element {index} that is not an integer ({Describe(dimElement)})");
            }

            if (dim < 0)
            {
                throw Error(path, $"tensor '{name}' has negative dimension {dim} at shape index {index}");
            }

            if (dim > int.MaxValue)
            {
                throw Error(path, $"tensor '{name}' has dimension {dim} at shape index {index}, larger than {int.MaxValue}");
            }

            shape[index++] = (int)dim;
        }

        // data_offsets
        if (offsetsElement is not { } offsetsValue)
        {
            throw Error(path, $"tensor '{name}' has no \"data_offsets\"");
        }

        if (offsetsValue.ValueKind != JsonValueKind.Array || offsetsValue.GetArrayLength() != 2)
        {
            throw Error(path, $"tensor '{name}' has \"data_offsets\" that are not an array of two integers ({Describe(offsetsValue)})");
        }

        ulong begin = ReadOffset(path, name, offsetsValue[0], "begin");
        ulong end = ReadOffset(path, name, offsetsValue[1], "end");
        if (begin > end)
        {
            throw Error(path, $"tensor '{name}' has data_offsets [{begin}, {end}] with begin after end");
        }

        if (end > (ulong)dataLength)
        {
            throw Error(path, $"tensor '{name}' ends at byte {end}, beyond the {dataLength}-byte data buffer");
        }

        string shapeText = NamedTensor.FormatShape(shape);
        ulong expectedBytes;
        try
        {
            ulong elements = 1;
            foreach (int dim in shape)
            {
                elements = checked(elements * (ulong)dim);
            }

            ulong bits = checked(elements * (ulong)bitsPerElement);
            if (bits % 8 != 0)
            {
                throw Error(path, $"tensor '{name}' ({dtype} {shapeText}) does not fill a whole number of bytes");
            }

            expectedBytes = bits / 8;
        }
        catch (OverflowException ex)
        {
            throw Error(path, $"tensor '{name}' has shape {shapeText} whose size overflows", ex);
        }

        if (end - begin != expectedBytes)
        {
            throw Error(path, $"tensor '{name}' ({dtype} {shapeText}) needs {expectedBytes} bytes but data_offsets [{begin}, {end}] span {end - begin}");
        }

        return new TensorInfo(name, dtype, shape, (long)begin, (long)end);
    }

    private static ulong ReadOffset(string path, string name, JsonElement element, string which)
    {
        if (element.ValueKind != JsonValueKind.Number)
        {
            throw Error(path, $"tensor '{name}' has a data_offsets {which} that is not an integer ({Describe(element)})");
        }

        if (element.TryGetInt64(out long signed) && signed < 0)
        {
            throw Error(path, $"tensor '{name}' has a negative data_offsets {which} ({signed})");
        }

        if (!element.TryGetUInt64(out ulong value))
        {
            throw Error(path, $"tensor '{name}' has a data_offsets {which} that is not an integer ({Describe(element)})");
        }

        return value;
    }

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => "value",
    };

    private static string Describe(JsonElement element)
    {
        string raw = element.GetRawText();
        return raw.Length <= 40 ? raw : raw[..40] + "...";
    }

    private static CheckpointFormatException Error(string path, string problem, Exception? inner = null) =>
        new(path, problem, inner);
}
