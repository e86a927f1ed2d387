namespace IlgpuVae.Data;

/// <summary>
/// One split (train or test) of MNIST or any other IDX image set in memory: images as row-major bytes
/// (0 = background, 255 = ink) and, where the data set has them, their class labels.
/// </summary>
public sealed class MnistSet
{
    /// <summary>Creates a set of labelled images; the image buffer must hold exactly <c>labels.Length</c> images.</summary>
    /// <param name="images">The pixels, <c>count * rows * cols</c> bytes, image after image, row-major.</param>
    /// <param name="labels">One label per image.</param>
    /// <param name="rows">Rows per image (the height H).</param>
    /// <param name="cols">Columns per image (the width W).</param>
    /// <exception cref="ArgumentException">The sizes do not agree.</exception>
    public MnistSet(byte[] images, byte[] labels, int rows, int cols)
        : this(images, labels ?? throw new ArgumentNullException(nameof(labels)), rows, cols, labelled: true)
    {
    }

    private MnistSet(byte[] images, byte[]? labels, int rows, int cols, bool labelled)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        long pixels = (long)rows * cols;
        if (images.Length % pixels != 0)
        {
            throw new ArgumentException($"{images.Length} bytes of images are not a whole number of {rows}x{cols} images", nameof(images));
        }

        int count = (int)(images.Length / pixels);
        if (labels is not null && labels.Length != count)
        {
            throw new ArgumentException(
                $"{images.Length} bytes of images do not make {labels.Length} images of {rows}x{cols}", nameof(images));
        }

        Images = images;
        // An unlabelled set carries zeros, so the device tier can upload and gather labels unconditionally;
        // HasLabels tells whether they mean anything.
        Labels = labels ?? new byte[count];
        HasLabels = labelled;
        Rows = rows;
        Cols = cols;
    }

    /// <summary>Creates a set of images without labels (a plain VAE trains on these; the CVAE and the classifier cannot).</summary>
    /// <param name="images">The pixels, <c>count * rows * cols</c> bytes, image after image, row-major.</param>
    /// <param name="rows">Rows per image (the height H).</param>
    /// <param name="cols">Columns per image (the width W).</param>
    /// <returns>The set; its <see cref="Labels"/> are all 0 and <see cref="HasLabels"/> is false.</returns>
    /// <exception cref="ArgumentException">The buffer is not a whole number of images.</exception>
    public static MnistSet Unlabelled(byte[] images, int rows, int cols) => new(images, null, rows, cols, labelled: false);

    /// <summary>The pixels of all images, <see cref="Count"/> * <see cref="PixelsPerImage"/> bytes, row-major.</summary>
    public byte[] Images { get; }

    /// <summary>The class of each image (the digit, for MNIST); all 0 when <see cref="HasLabels"/> is false.</summary>
    public byte[] Labels { get; }

    /// <summary>Whether the images came with labels.</summary>
    public bool HasLabels { get; }

    /// <summary>How many images the set holds.</summary>
    public int Count => Labels.Length;

    /// <summary>Rows per image, the height H (28 for MNIST).</summary>
    public int Rows { get; }

    /// <summary>Columns per image, the width W (28 for MNIST).</summary>
    public int Cols { get; }

    /// <summary>Pixels per image, <see cref="Rows"/> * <see cref="Cols"/>: the model's input size D.</summary>
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
        return count >= Count ? this : Slice(0, count);
    }

    /// <summary>Images <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1, copied, labels kept or absent alike.</summary>
    internal MnistSet Slice(int start, int count) => new(
        Images[(start * PixelsPerImage)..((start + count) * PixelsPerImage)],
        HasLabels ? Labels[start..(start + count)] : null, Rows, Cols, HasLabels);

    /// <summary>The largest label, or null for an empty set: what a model's class count must exceed.</summary>
    /// <returns>The label.</returns>
    internal int? MaxLabel() => Count == 0 ? null : Labels.Max();

    /// <summary>The seed of the fixed binarisation of test sets (<see cref="Binarized"/>'s default).</summary>
    public const int TestBinarizationSeed = 2016;

    /// <summary>
    /// The set with every pixel drawn once as Bernoulli(intensity): 255 with probability byte / 255, else 0, from
    /// the counter-based generator's uniform stream for <paramref name="seed"/> (pixel i of the set takes number i).
    /// The same seed gives the same images on every machine: the statically binarised test set that runs trained with
    /// dynamic binarisation are evaluated on.
    /// </summary>
    /// <param name="seed">The seed.</param>
    /// <returns>A new set, labels shared.</returns>
    public MnistSet Binarized(int seed = TestBinarizationSeed)
    {
        ulong key = Kernels.RandomKernels.StreamKey((ulong)seed, 0);
        var pixels = new byte[Images.Length];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = Kernels.ImportanceKernels.Uniform(key, (ulong)i) < Images[i] * (1f / 255f) ? (byte)255 : (byte)0;
        return new MnistSet(pixels, HasLabels ? Labels : null, Rows, Cols, HasLabels);
    }
}
