namespace IlgpuVae.Checkpoints;

/// <summary>
/// A named float32 tensor: a shape (row-major, outermost dimension first) and its elements.
/// An empty <see cref="Shape"/> denotes a scalar holding exactly one element.
/// </summary>
/// <remarks>
/// Equality is record equality, so arrays compare by reference, not by content.
/// Consistency between <see cref="Shape"/> and <see cref="Data"/> is checked when the tensor is written.
/// </remarks>
/// <param name="Name">The tensor's name, unique within a checkpoint.</param>
/// <param name="Shape">The dimensions, each zero or more; empty for a scalar.</param>
/// <param name="Data">The elements in row-major order; its length must equal the product of <paramref name="Shape"/>.</param>
internal sealed record NamedTensor(string Name, int[] Shape, float[] Data)
{
    /// <summary>The tensor's name, unique within a checkpoint.</summary>
    public string Name { get; init; } = Name ?? throw new ArgumentNullException(nameof(Name));

    /// <summary>The dimensions, each zero or more; empty for a scalar.</summary>
    public int[] Shape { get; init; } = Shape ?? throw new ArgumentNullException(nameof(Shape));

    /// <summary>The elements in row-major order.</summary>
    public float[] Data { get; init; } = Data ?? throw new ArgumentNullException(nameof(Data));

    /// <summary>
    /// The number of elements the shape describes (the product of its dimensions; 1 for a scalar).
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    /// <exception cref="OverflowException">The product does not fit in 64 bits.</exception>
    public long ElementCount => ShapeElementCount(Shape);

    /// <summary>The product of the dimensions of <paramref name="shape"/>; 1 for an empty shape.</summary>
    /// <param name="shape">The dimensions.</param>
    /// <returns>The element count.</returns>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    /// <exception cref="OverflowException">The product does not fit in 64 bits.</exception>
    public static long ShapeElementCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException($"Shape has a negative dimension ({dim}).", nameof(shape));
            }

            count = checked(count * dim);
        }

        return count;
    }

    /// <summary>The shape in the usual bracketed notation, for messages: <c>[400, 784]</c>.</summary>
    /// <param name="shape">The dimensions.</param>
    /// <returns>The formatted shape.</returns>
    public static string FormatShape(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";
}
