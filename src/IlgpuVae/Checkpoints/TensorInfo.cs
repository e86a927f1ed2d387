namespace IlgpuVae.Checkpoints;

/// <summary>
/// One tensor entry of a safetensors header, as validated by <see cref="SafeTensors.ReadHeader"/>,
/// without its data.
/// </summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="DType">The safetensors dtype string, for example <c>F32</c>.</param>
/// <param name="Shape">The dimensions; empty for a scalar.</param>
/// <param name="DataBegin">Offset of the first byte, relative to the start of the data buffer.</param>
/// <param name="DataEnd">Offset one past the last byte, relative to the start of the data buffer.</param>
internal sealed record TensorInfo(string Name, string DType, int[] Shape, long DataBegin, long DataEnd)
{
    /// <summary>The number of bytes the tensor occupies in the data buffer.</summary>
    public long ByteLength => DataEnd - DataBegin;

    /// <summary>The number of elements (the product of <see cref="Shape"/>; 1 for a scalar).</summary>
    public long ElementCount => NamedTensor.ShapeElementCount(Shape);
}
