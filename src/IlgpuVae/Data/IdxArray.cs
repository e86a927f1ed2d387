namespace IlgpuVae.Data;

/// <summary>
/// The content of an IDX file: its dimensions and its elements as raw bytes.
/// </summary>
/// <remarks>
/// For the unsigned-byte type (0x08), which is all MNIST uses, <see cref="Data"/> holds one byte
/// per element. For wider types the bytes are left big-endian as in the file, since no caller
/// here needs them decoded.
/// </remarks>
internal sealed class IdxArray
{
    /// <summary>Creates an array; <paramref name="data"/> must already match the dimensions.</summary>
    /// <param name="elementType">The IDX element type code (0x08 for unsigned bytes).</param>
    /// <param name="dimensions">The size of each dimension, outermost first.</param>
    /// <param name="data">The elements, row-major, as stored in the file.</param>
    public IdxArray(IdxElementType elementType, int[] dimensions, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        ArgumentNullException.ThrowIfNull(data);
        ElementType = elementType;
        Dimensions = dimensions;
        Data = data;
    }

    /// <summary>The IDX element type code.</summary>
    public IdxElementType ElementType { get; }

    /// <summary>The size of each dimension, outermost first (for MNIST images: count, rows, cols).</summary>
    public int[] Dimensions { get; }

    /// <summary>The elements, row-major, as stored in the file (big-endian for multi-byte types).</summary>
    public byte[] Data { get; }
}

/// <summary>The element type codes of the IDX format (third byte of the magic number).</summary>
internal enum IdxElementType : byte
{
    /// <summary>Unsigned 8-bit integer; the only type MNIST uses.</summary>
    UnsignedByte = 0x08,

    /// <summary>Signed 8-bit integer.</summary>
    SignedByte = 0x09,

    /// <summary>Big-endian signed 16-bit integer.</summary>
    Short = 0x0B,

    /// <summary>Big-endian signed 32-bit integer.</summary>
    Int = 0x0C,

    /// <summary>Big-endian IEEE 754 single-precision float.</summary>
    Float = 0x0D,

    /// <summary>Big-endian IEEE 754 double-precision float.</summary>
    Double = 0x0E,
}
