namespace IlgpuVae.Data;

/// <summary>
/// One split (train or test) of an image set in memory (MNIST, any IDX set, a folder of pictures, a .npy array, or
/// arrays of one's own): images as bytes (0 = black or background, 255 = full intensity), each laid out C x H x W
/// (channel planes of row-major pixels; C = 1 for grey, 3 for RGB), and, where the data set has them, their class
/// labels. Build one from memory with <see cref="FromBytes"/> or <see cref="FromFloats"/>; cut one with
/// <see cref="Split"/>.
/// </summary>
public sealed class ImageSet
{
    /// <summary>Creates a set of labelled images; the image buffer must hold exactly <c>labels.Length</c> images.</summary>
    /// <param name="images">The pixels, <c>count * rows * cols</c> bytes, image after image, row-major.</param>
    /// <param name="labels">One label per image.</param>
    /// <param name="rows">Rows per image (the height H).</param>
    /// <param name="cols">Columns per image (the width W).</param>
    /// <exception cref="ArgumentException">The sizes do not agree.</exception>
    public ImageSet(byte[] images, byte[] labels, int rows, int cols)
        : this(images, labels ?? throw new ArgumentNullException(nameof(labels)), rows, cols, labelled: true)
    {
    }

    // A set of real-valued vectors (1 x 1 x D rows of floats, not bytes): what a CSV file or an N x D float32 .npy
    // array holds. Its Images are empty; the values are never scaled, quantised or dequantised.
    private ImageSet(float[] vectors, int dims, byte[]? labels)
    {
        Vectors = vectors;
        Images = [];
        Labels = labels ?? new byte[vectors.Length / dims];
        HasLabels = labels is not null;
        Rows = 1;
        Cols = dims;
        Channels = 1;
    }

    /// <summary>A set of <paramref name="dims"/>-dimensional vectors (row after row), unscaled; values must be finite.</summary>
    internal static ImageSet FromVectors(float[] vectors, int dims, byte[]? labels)
    {
        if (dims <= 0 || vectors.Length == 0 || vectors.Length % dims != 0)
            throw new ArgumentException($"{vectors.Length} values are not whole rows of {dims}", nameof(vectors));
        if (labels is not null && labels.Length != vectors.Length / dims)
            throw new ArgumentException($"{labels.Length} labels for {vectors.Length / dims} rows", nameof(labels));
        return new ImageSet(vectors, dims, labels);
    }

    /// <summary>The real-valued rows (Count x D floats) of a set of vectors, or null for images.</summary>
    internal float[]? Vectors { get; }

    /// <summary>Whether the set holds real-valued vectors (from a CSV file or an N x D .npy array) rather than images.</summary>
    public bool IsVectors => Vectors is not null;

    private ImageSet(byte[] images, byte[]? labels, int rows, int cols, bool labelled, int channels = 1)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        if (channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), $"images have 1 (grey) or 3 (RGB) channels, not {channels}");
        long pixels = (long)channels * rows * cols;
        if (pixels > int.MaxValue)
            throw new ArgumentException($"images of {channels}x{rows}x{cols} values are too large", nameof(images));
        if (images.Length % pixels != 0)
        {
            throw new ArgumentException($"{images.Length} bytes of images are not a whole number of {Shape(channels, rows, cols)} images", nameof(images));
        }

        int count = (int)(images.Length / pixels);
        if (labels is not null && labels.Length != count)
        {
            throw new ArgumentException(
                $"{images.Length} bytes of images do not make {labels.Length} images of {Shape(channels, rows, cols)}", nameof(images));
        }

        Images = images;
        // An unlabelled set carries zeros, so the device tier can upload and gather labels unconditionally;
        // HasLabels tells whether they mean anything.
        Labels = labels ?? new byte[count];
        HasLabels = labelled;
        Rows = rows;
        Cols = cols;
        Channels = channels;
    }

    private static string Shape(int channels, int rows, int cols) => channels == 1 ? $"{rows}x{cols}" : $"{channels}x{rows}x{cols}";

    /// <summary>
    /// A set from bytes in memory (0-255 per value), checked as files are: <paramref name="count"/> images of
    /// <paramref name="channels"/> x <paramref name="height"/> x <paramref name="width"/> values, image after image, each
    /// channel plane after plane (NCHW). The bytes are copied.
    /// </summary>
    /// <param name="images">count x C x H x W bytes.</param>
    /// <param name="count">N, at least 1.</param>
    /// <param name="channels">C: 1 (grey) or 3 (RGB).</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="labels">N class labels, or null for an unlabelled set.</param>
    /// <returns>The set.</returns>
    /// <exception cref="ArgumentException">A size is not positive, C is not 1 or 3, or the buffers do not hold N images (and N labels).</exception>
    public static ImageSet FromBytes(ReadOnlySpan<byte> images, int count, int channels, int height, int width, byte[]? labels = null)
    {
        CheckCount(images.Length, count, channels, height, width, labels);
        return new ImageSet(images.ToArray(), labels?.ToArray(), height, width, labels is not null, channels);
    }

    /// <summary>
    /// A set from floats in [0, 1] in memory, laid out as for <see cref="FromBytes"/>. The set holds 8-bit values, as
    /// every data source does: each float becomes round(255 x) (so k / 255 comes back exactly). A value outside [0, 1]
    /// or NaN is refused, naming its index.
    /// </summary>
    /// <param name="images">count x C x H x W values in [0, 1].</param>
    /// <param name="count">N, at least 1.</param>
    /// <param name="channels">C: 1 (grey) or 3 (RGB).</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="labels">N class labels, or null for an unlabelled set.</param>
    /// <returns>The set.</returns>
    /// <exception cref="ArgumentException">As for <see cref="FromBytes"/>, or a value is outside [0, 1] or NaN.</exception>
    public static ImageSet FromFloats(ReadOnlySpan<float> images, int count, int channels, int height, int width, byte[]? labels = null)
    {
        CheckCount(images.Length, count, channels, height, width, labels);
        if (Pixels.FirstOutsideUnit(images) is int bad)
            throw new ArgumentException($"value {images[bad].ToString(System.Globalization.CultureInfo.InvariantCulture)} at index {bad} is outside [0, 1]", nameof(images));
        return new ImageSet(Pixels.ToBytes(images), labels?.ToArray(), height, width, labels is not null, channels);
    }

    private static void CheckCount(int length, int count, int channels, int height, int width, byte[]? labels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), $"images have 1 (grey) or 3 (RGB) channels, not {channels}");
        if ((long)count * channels * height * width != length)
            throw new ArgumentException($"{length} values are not {count} images of {Shape(channels, height, width)}", "images");
        if (labels is not null && labels.Length != count)
            throw new ArgumentException($"{labels.Length} labels for {count} images", nameof(labels));
    }

    /// <summary>
    /// Cuts the set in two at random: round(fraction x N) images (at least one) chosen by a seeded Fisher-Yates shuffle
    /// become the test split, the rest the training split, each in the set's order. The same seed gives the same split
    /// on every machine.
    /// </summary>
    /// <param name="testFraction">The test split's share, strictly between 0 and 1.</param>
    /// <param name="seed">The shuffle's seed.</param>
    /// <returns>The two splits, labels kept or absent alike.</returns>
    /// <exception cref="ArgumentException">The fraction is not in (0, 1), or it leaves no image to train on.</exception>
    public (ImageSet Train, ImageSet Test) Split(double testFraction, int seed)
    {
        if (!(testFraction > 0 && testFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(testFraction), $"the test fraction must lie strictly between 0 and 1, got {testFraction}");
        // Rounded, not ceiled, as for IDX files: 0.2 of 100 images is 20.
        int held = Math.Max(1, (int)Math.Round(testFraction * Count));
        if (held >= Count)
            throw new ArgumentException($"holding out {held} of {Count} images leaves none to train on", nameof(testFraction));
        var order = Permutation(seed, 0, Count);
        var test = order[..held];
        var train = order[held..];
        Array.Sort(test);
        Array.Sort(train);
        return (Select(train), Select(test));
    }

    /// <summary>
    /// A seeded Fisher-Yates permutation of 0 to <paramref name="count"/> - 1, the same on every run: the training
    /// engine's shuffle of each epoch (which lives here, below the trainer, so that <see cref="Split"/> shares it).
    /// </summary>
    /// <param name="seed">The seed.</param>
    /// <param name="epoch">The epoch (0 for a split).</param>
    /// <param name="count">Items.</param>
    /// <returns>The permutation.</returns>
    internal static int[] Permutation(int seed, int epoch, int count)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++)
            order[i] = i;
        var random = new Random(unchecked(seed * 1_000_003 + epoch * 7919));
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>The images at <paramref name="indices"/>, copied, in that order.</summary>
    internal ImageSet Select(IReadOnlyList<int> indices)
    {
        int d = PixelsPerImage;
        if (Vectors is not null)
        {
            var rows = new float[(long)indices.Count * d];
            for (int i = 0; i < indices.Count; i++)
                Vectors.AsSpan(indices[i] * d, d).CopyTo(rows.AsSpan(i * d, d));
            return new ImageSet(rows, d, HasLabels ? indices.Select(i => Labels[i]).ToArray() : null);
        }
        var images = new byte[(long)indices.Count * d];
        var labels = new byte[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            Images.AsSpan(indices[i] * d, d).CopyTo(images.AsSpan(i * d, d));
            labels[i] = Labels[indices[i]];
        }
        return new ImageSet(images, HasLabels ? labels : null, Rows, Cols, HasLabels, Channels);
    }

    /// <summary>The images' colour channels C: 1 (grey) or 3 (RGB, the red plane first).</summary>
    public int Channels { get; }

    /// <summary>Creates a set of images without labels (a plain VAE trains on these; the CVAE and the classifier cannot).</summary>
    /// <param name="images">The pixels, <c>count * rows * cols</c> bytes, image after image, row-major.</param>
    /// <param name="rows">Rows per image (the height H).</param>
    /// <param name="cols">Columns per image (the width W).</param>
    /// <returns>The set; its <see cref="Labels"/> are all 0 and <see cref="HasLabels"/> is false.</returns>
    /// <exception cref="ArgumentException">The buffer is not a whole number of images.</exception>
    public static ImageSet Unlabelled(byte[] images, int rows, int cols) => new(images, null, rows, cols, labelled: false);

    /// <summary>The values of all images, <see cref="Count"/> * <see cref="PixelsPerImage"/> bytes, each image C x H x W.</summary>
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

    /// <summary>Values per image, <see cref="Channels"/> * <see cref="Rows"/> * <see cref="Cols"/>: the model's input size D.</summary>
    public int PixelsPerImage => Channels * Rows * Cols;

    /// <summary>Chosen images as floats (byte / 255), converting only those images.</summary>
    /// <param name="indices">Which images, in the order wanted.</param>
    /// <returns>indices.Count images of <see cref="Channels"/> x <see cref="Rows"/> x <see cref="Cols"/> values in
    /// [0, 1].</returns>
    public ImageBatch Gather(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        int d = PixelsPerImage;
        var pixels = new float[indices.Count * d];
        for (int i = 0; i < indices.Count; i++)
        {
            if ((uint)indices[i] >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), $"image {indices[i]} is outside 0-{Count - 1}");
            var image = Image(indices[i]);
            for (int p = 0; p < d; p++)
                pixels[i * d + p] = image[p] / 255f;
        }
        return new ImageBatch(pixels, indices.Count, Channels, Rows, Cols);
    }

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
    public ImageSet Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return count >= Count ? this : Slice(0, count);
    }

    /// <summary>Images <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1, copied, labels kept or absent alike.</summary>
    internal ImageSet Slice(int start, int count) => Vectors is not null
        ? new ImageSet(Vectors[(start * PixelsPerImage)..((start + count) * PixelsPerImage)], PixelsPerImage,
            HasLabels ? Labels[start..(start + count)] : null)
        : new(
        Images[(start * PixelsPerImage)..((start + count) * PixelsPerImage)],
        HasLabels ? Labels[start..(start + count)] : null, Rows, Cols, HasLabels, Channels);

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
    public ImageSet Binarized(int seed = TestBinarizationSeed)
    {
        if (Vectors is not null)
            throw new InvalidOperationException("a set of real-valued vectors cannot be binarised");
        ulong key = Kernels.RandomKernels.StreamKey((ulong)seed, 0);
        var pixels = new byte[Images.Length];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = Kernels.ImportanceKernels.Uniform(key, (ulong)i) < Images[i] * (1f / 255f) ? (byte)255 : (byte)0;
        return new ImageSet(pixels, HasLabels ? Labels : null, Rows, Cols, HasLabels, Channels);
    }

    // Writing: images a model made (pixel probabilities) as IDX or .npy files, labels as IDX.

    /// <summary>Writes count = probabilities.Length / (H x W) images as an IDX3 file of bytes, count x H x W.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="probabilities">Row-major count x (H x W) pixel probabilities.</param>
    /// <param name="imageHeight">H (28 for MNIST; a model's <c>Config.ImageHeight</c>).</param>
    /// <param name="imageWidth">W.</param>
    /// <returns>How many images were written.</returns>
    public static int WriteIdxImages(string path, ReadOnlySpan<float> probabilities, int imageHeight, int imageWidth)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageWidth);
        int pixelsPerImage = checked(imageHeight * imageWidth);
        if (probabilities.Length % pixelsPerImage != 0)
            throw new ArgumentException($"{probabilities.Length} values are not a whole number of {imageHeight}x{imageWidth} images", nameof(probabilities));
        int count = probabilities.Length / pixelsPerImage;
        IdxWriter.WriteImages(path, Pixels.ToBytes(probabilities), count, imageHeight, imageWidth);
        return count;
    }

    /// <summary>
    /// Writes count = values.Length / (C x H x W) images as a NumPy .npy file of float32, shaped count x H x W for grey
    /// images and count x C x H x W for colour (the values as the model gives them, not quantised).
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <param name="values">count x C x H x W values.</param>
    /// <param name="imageChannels">C (a model's <c>Config.ImageChannels</c>).</param>
    /// <param name="imageHeight">H.</param>
    /// <param name="imageWidth">W.</param>
    /// <returns>How many images were written.</returns>
    public static int WriteNpy(string path, ReadOnlySpan<float> values, int imageChannels, int imageHeight, int imageWidth)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageWidth);
        int perImage = checked(imageChannels * imageHeight * imageWidth);
        if (values.Length % perImage != 0)
            throw new ArgumentException($"{values.Length} values are not a whole number of {imageChannels}x{imageHeight}x{imageWidth} images", nameof(values));
        int count = values.Length / perImage;
        Npy.WriteFloats(path, imageChannels == 1 ? [count, imageHeight, imageWidth] : [count, imageChannels, imageHeight, imageWidth], values);
        return count;
    }

    /// <summary>
    /// Writes count = values.Length / D rows of real values as a NumPy .npy file of float32 shaped count x D: what a model
    /// of vectors draws, and what <see cref="ImageData.LoadNpy"/> and <see cref="ImageData.LoadVectorSet"/> read back as vectors.
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <param name="values">count x D values.</param>
    /// <param name="dimensions">D, the values per row (a model's <c>Config.InputSize</c>).</param>
    /// <returns>How many rows were written.</returns>
    public static int WriteNpyRows(string path, ReadOnlySpan<float> values, int dimensions)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        if (values.Length % dimensions != 0)
            throw new ArgumentException($"{values.Length} values are not a whole number of rows of {dimensions}", nameof(values));
        int count = values.Length / dimensions;
        Npy.WriteFloats(path, [count, dimensions], values);
        return count;
    }

    /// <summary>Writes labels as an IDX1 file of bytes.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="labels">Labels, each in 0-255.</param>
    public static void WriteIdxLabels(string path, ReadOnlySpan<int> labels)
    {
        var bytes = new byte[labels.Length];
        for (int i = 0; i < labels.Length; i++)
            bytes[i] = (uint)labels[i] <= 255 ? (byte)labels[i]
                : throw new ArgumentOutOfRangeException(nameof(labels), $"label {labels[i]} does not fit in a byte");
        IdxWriter.WriteLabels(path, bytes);
    }
}
