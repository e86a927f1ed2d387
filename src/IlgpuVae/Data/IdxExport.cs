namespace IlgpuVae.Data;

/// <summary>Writes generated images as IDX files in MNIST's format, quantised by <see cref="Pixels.ToBytes"/> like every
/// IDX export, or as NumPy .npy arrays of the values themselves.</summary>
public static class IdxExport
{
    /// <summary>Writes count = probabilities.Length / (H x W) images as an IDX3 file of bytes, count x H x W.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="probabilities">Row-major count x (H x W) pixel probabilities.</param>
    /// <param name="imageHeight">H (28 for MNIST; a model's <c>Config.ImageHeight</c>).</param>
    /// <param name="imageWidth">W.</param>
    /// <returns>How many images were written.</returns>
    public static int WriteImages(string path, ReadOnlySpan<float> probabilities, int imageHeight, int imageWidth)
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

    /// <summary>Writes labels as an IDX1 file of bytes.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="labels">Labels, each in 0-255.</param>
    public static void WriteLabels(string path, ReadOnlySpan<int> labels)
    {
        var bytes = new byte[labels.Length];
        for (int i = 0; i < labels.Length; i++)
            bytes[i] = (uint)labels[i] <= 255 ? (byte)labels[i]
                : throw new ArgumentOutOfRangeException(nameof(labels), $"label {labels[i]} does not fit in a byte");
        IdxWriter.WriteLabels(path, bytes);
    }
}
