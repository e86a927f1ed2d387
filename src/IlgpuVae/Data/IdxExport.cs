namespace IlgpuVae.Data;

/// <summary>Writes generated images as MNIST-format IDX files, quantised by <see cref="Pixels.ToBytes"/> like every export.</summary>
public static class IdxExport
{
    /// <summary>Writes count = probabilities.Length / D square images as an IDX3 file of bytes.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="probabilities">Row-major count x D pixel probabilities.</param>
    /// <param name="pixelsPerImage">D, a square number (784 for MNIST's 28 x 28).</param>
    /// <returns>How many images were written.</returns>
    public static int WriteImages(string path, ReadOnlySpan<float> probabilities, int pixelsPerImage)
    {
        int side = SquareSide(pixelsPerImage);
        if (probabilities.Length % pixelsPerImage != 0)
            throw new ArgumentException($"{probabilities.Length} values are not a whole number of {pixelsPerImage}-pixel images", nameof(probabilities));
        int count = probabilities.Length / pixelsPerImage;
        IdxWriter.WriteImages(path, Pixels.ToBytes(probabilities), count, side, side);
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

    /// <summary>The side of a square image of <paramref name="pixels"/> pixels.</summary>
    /// <param name="pixels">Pixels per image.</param>
    /// <returns>The side.</returns>
    /// <exception cref="InvalidDataException">The images are not square.</exception>
    public static int SquareSide(int pixels)
    {
        int side = (int)Math.Round(Math.Sqrt(pixels));
        if (pixels <= 0 || side * side != pixels)
            throw new InvalidDataException($"images of {pixels} pixels are not square");
        return side;
    }
}
