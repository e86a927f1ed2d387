namespace IlgpuVae.Data;

/// <summary>Conversions between MNIST's byte pixels and the models' float pixels in [0, 1].</summary>
internal static class Pixels
{
    /// <summary>One image's interleaved pixels (R G B R G B ...) as channel planes (R ... G ... B ...).</summary>
    /// <param name="interleaved">H x W x C values.</param>
    /// <param name="channels">C.</param>
    /// <param name="planes">C x H x W values, written.</param>
    internal static void ToPlanes(ReadOnlySpan<byte> interleaved, int channels, Span<byte> planes)
    {
        int pixels = interleaved.Length / channels;
        for (int p = 0; p < pixels; p++)
            for (int c = 0; c < channels; c++)
                planes[c * pixels + p] = interleaved[p * channels + c];
    }

    /// <summary>The index of the first value outside [0, 1] or NaN, or null when every value lies in [0, 1].</summary>
    /// <param name="values">The values.</param>
    /// <returns>The index, or null.</returns>
    internal static int? FirstOutsideUnit(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!(values[i] >= 0f && values[i] <= 1f))
                return i;
        return null;
    }

    /// <summary>Pixel probabilities as bytes, <c>round(clamp(p, 0, 1) * 255)</c> (NaN becomes 0), e.g. for IDX files.</summary>
    /// <param name="probabilities">Values nominally in [0, 1].</param>
    /// <returns>One byte per value.</returns>
    internal static byte[] ToBytes(ReadOnlySpan<float> probabilities)
    {
        var bytes = new byte[probabilities.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            float p = probabilities[i];
            bytes[i] = float.IsNaN(p) ? (byte)0 : (byte)MathF.Round(Math.Clamp(p, 0f, 1f) * 255f, MidpointRounding.AwayFromZero);
        }
        return bytes;
    }
}
