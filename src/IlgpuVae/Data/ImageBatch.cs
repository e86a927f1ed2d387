namespace IlgpuVae.Data;

/// <summary>
/// A batch of images as floats, shaped: <see cref="Count"/> images of <see cref="Channels"/> x <see cref="Height"/> x
/// <see cref="Width"/> values, image after image, each channel plane after plane of row-major pixels (NCHW), as
/// everywhere in the library. What a model's <c>Decode</c>, <c>Reconstruct</c>, <c>Sample</c> and
/// <see cref="ImageSet.Gather"/> return; it converts implicitly to <see cref="ReadOnlySpan{T}"/> of float, so it passes
/// straight to every method that takes images (<c>Encode</c>, <c>Reconstruct</c>, <c>Score</c>, a classifier's
/// <c>Predict</c>). A model of real-valued vectors gives batches of 1 x 1 x D.
/// </summary>
public sealed class ImageBatch
{
    /// <summary>Shapes <paramref name="values"/> (not copied) as <paramref name="count"/> images of C x H x W.</summary>
    /// <param name="values">count x C x H x W values, image after image, NCHW.</param>
    /// <param name="count">N, 0 or more.</param>
    /// <param name="channels">C, at least 1.</param>
    /// <param name="height">H, at least 1.</param>
    /// <param name="width">W, at least 1.</param>
    /// <exception cref="ArgumentException">A size is not positive (a count negative), or the values are not N x C x H x W.</exception>
    public ImageBatch(float[] values, int count, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (count < 0 || channels <= 0 || height <= 0 || width <= 0 || (long)count * channels * height * width != values.Length)
            throw new ArgumentException(
                $"{values.Length} values are not {count} images of {channels}x{height}x{width} (sizes must be positive, the count at least 0)",
                nameof(values));
        Values = values;
        Count = count;
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>How many images, N.</summary>
    public int Count { get; }

    /// <summary>Colour channels per image, C: 1 (grey, or a vector), 3 (RGB, the red plane first).</summary>
    public int Channels { get; }

    /// <summary>Rows per image, H (1 for a vector).</summary>
    public int Height { get; }

    /// <summary>Columns per image, W (D for a vector).</summary>
    public int Width { get; }

    /// <summary>Values per image, C x H x W: a model's input size D.</summary>
    public int ValuesPerImage => Channels * Height * Width;

    /// <summary>All values, <see cref="Count"/> x <see cref="ValuesPerImage"/>, image after image (the batch's own array, not a copy).</summary>
    public float[] Values { get; }

    /// <summary>One image's values, C x H x W.</summary>
    /// <param name="index">The image, 0 to <see cref="Count"/> - 1.</param>
    /// <returns>A view of <see cref="ValuesPerImage"/> values into <see cref="Values"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside the batch.</exception>
    public ReadOnlySpan<float> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Values.AsSpan(index * ValuesPerImage, ValuesPerImage);
    }

    /// <summary>All values as one span, image after image.</summary>
    /// <returns>A view of <see cref="Values"/>.</returns>
    public ReadOnlySpan<float> AsSpan() => Values;

    /// <summary>The batch's values, image after image, so that a batch passes wherever images are taken as a span.</summary>
    /// <param name="batch">The batch; null gives an empty span.</param>
    public static implicit operator ReadOnlySpan<float>(ImageBatch? batch) => batch is null ? default : batch.Values;

    /// <summary>The shape, e.g. "16 x 1x28x28".</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Count} x {Channels}x{Height}x{Width}";
}
