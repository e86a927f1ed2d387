namespace IlgpuVae.Data;

/// <summary>
/// One split of MNIST (train or test) in memory: images as row-major bytes (0 = background,
/// 255 = ink) and their digit labels.
/// </summary>
public sealed class MnistSet
{
    /// <summary>Creates a set; the image buffer must hold exactly <c>labels.Length</c> images.</summary>
    /// <param name="images">The pixels, <c>count * rows * cols</c> bytes, image after image, row-major.</param>
    /// <param name="labels">One label per image.</param>
    /// <param name="rows">Rows per image.</param>
    /// <param name="cols">Columns per image.</param>
    /// <exception cref="ArgumentException">The sizes do not agree.</exception>
    public MnistSet(byte[] images, byte[] labels, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        if ((long)labels.Length * rows * cols != images.Length)
        {
            throw new ArgumentException(
                $"{images.Length} bytes of images do not make {labels.Length} images of {rows}x{cols}", nameof(images));
        }

        Images = images;
        Labels = labels;
        Rows = rows;
        Cols = cols;
    }

    /// <summary>The pixels of all images, <see cref="Count"/> * <see cref="PixelsPerImage"/> bytes, row-major.</summary>
    public byte[] Images { get; }

    /// <summary>The digit (0-9) of each image.</summary>
    public byte[] Labels { get; }

    /// <summary>How many images the set holds.</summary>
    public int Count => Labels.Length;

    /// <summary>Rows per image (28 for MNIST).</summary>
    public int Rows { get; }

    /// <summary>Columns per image (28 for MNIST).</summary>
    public int Cols { get; }

    /// <summary>Pixels per image, <see cref="Rows"/> * <see cref="Cols"/>.</summary>
    public int PixelsPerImage => Rows * Cols;

    /// <summary>The pixels of one image.</summary>
    /// <param name="index">The image, 0 to <see cref="Count"/> - 1.</param>
    /// <returns>A view of <see cref="PixelsPerImage"/> bytes into <see cref="Images"/>.</returns>
    public ReadOnlySpan<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Images.AsSpan(index * PixelsPerImage, PixelsPerImage);
    }

    /// <summary>The first <paramref name="count"/> images, copied; the whole set if it has fewer.</summary>
    /// <param name="count">How many images to keep; must be positive.</param>
    /// <returns>A new set, or this one if it already has no more than <paramref name="count"/> images.</returns>
    public MnistSet Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (count >= Count)
        {
            return this;
        }

        return new MnistSet(Images[..(count * PixelsPerImage)], Labels[..count], Rows, Cols);
    }

    /// <summary>The largest label, or null for an empty set: what a model's class count must exceed.</summary>
    /// <returns>The label.</returns>
    internal int? MaxLabel() => Count == 0 ? null : Labels.Max();
}
