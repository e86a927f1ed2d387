using System.Buffers.Binary;
using System.IO.Compression;

namespace IlgpuVae.Imaging;

/// <summary>
/// Minimal dependency-free PNG codec. Writes 8-bit RGB (colour type 2) or 8-bit greyscale
/// (colour type 0), non-interlaced, with per-row adaptive filtering and zlib compression.
/// Reads 8-bit non-interlaced greyscale, grey+alpha, RGB and RGBA files with any of the five
/// filter types (alpha is discarded); that covers everything this class writes.
/// </summary>
internal static class Png
{
    /// <summary>The eight-byte PNG file signature.</summary>
    public static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private const int MaxIdatChunk = 1 << 16;
    private const byte ColorGray = 0;
    private const byte ColorRgb = 2;
    private const byte ColorGrayAlpha = 4;
    private const byte ColorRgba = 6;

    /// <summary>
    /// Writes <paramref name="image"/> as an 8-bit RGB PNG. The file is written to a temporary file in the
    /// same directory and then moved over <paramref name="path"/>, so readers never see a partial file.
    /// The directory is created if missing.
    /// </summary>
    /// <param name="path">Destination file path.</param>
    /// <param name="image">Image to write.</param>
    public static void Write(string path, RgbImage image) => WriteAtomic(path, Encode(image));

    /// <summary>Writes an 8-bit greyscale PNG atomically (see <see cref="Write(string, RgbImage)"/>).</summary>
    /// <param name="path">Destination file path.</param>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="gray">Row-major grey levels, exactly width * height bytes.</param>
    public static void WriteGray(string path, int width, int height, ReadOnlySpan<byte> gray) =>
        WriteAtomic(path, EncodeGray(width, height, gray));

    /// <summary>Encodes <paramref name="image"/> as an 8-bit RGB PNG in memory.</summary>
    /// <param name="image">Image to encode.</param>
    /// <returns>The complete PNG file bytes.</returns>
    public static byte[] Encode(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return EncodeCore(image.Width, image.Height, ColorRgb, 3, image.Pixels);
    }

    /// <summary>Encodes an 8-bit greyscale PNG in memory.</summary>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="gray">Row-major grey levels, exactly width * height bytes.</param>
    /// <returns>The complete PNG file bytes.</returns>
    public static byte[] EncodeGray(int width, int height, ReadOnlySpan<byte> gray)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if ((long)width * height != gray.Length)
        {
            throw new ArgumentException(
                $"Expected {(long)width * height} bytes for a {width}x{height} greyscale image, got {gray.Length}.",
                nameof(gray));
        }

        return EncodeCore(width, height, ColorGray, 1, gray);
    }

    /// <summary>Reads a PNG file (see <see cref="Decode"/> for what is supported).</summary>
    /// <param name="path">File to read.</param>
    /// <returns>The image as RGB (greyscale is expanded, alpha dropped).</returns>
    public static RgbImage Read(string path) => Decode(File.ReadAllBytes(path));

    /// <summary>
    /// Decodes an 8-bit, non-interlaced PNG of colour type 0, 2, 4 or 6, verifying chunk CRCs.
    /// </summary>
    /// <param name="data">The complete PNG file bytes.</param>
    /// <returns>The image as RGB (greyscale is expanded, alpha dropped).</returns>
    /// <exception cref="InvalidDataException">The data is not a well-formed PNG.</exception>
    /// <exception cref="NotSupportedException">The PNG uses a feature outside the supported subset.</exception>
    public static RgbImage Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < Signature.Length || !data[..Signature.Length].SequenceEqual(Signature))
        {
            throw new InvalidDataException("Not a PNG file (bad signature).");
        }

        int pos = Signature.Length;
        int width = 0, height = 0, channels = 0;
        bool seenHeader = false, seenEnd = false;
        using var idat = new MemoryStream();
        while (!seenEnd)
        {
            if (data.Length - pos < 12)
            {
                throw new InvalidDataException("Truncated PNG chunk.");
            }

            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            if (length > (uint)(data.Length - pos - 12))
            {
                throw new InvalidDataException("PNG chunk length exceeds file size.");
            }

            ReadOnlySpan<byte> typeAndBody = data.Slice(pos + 4, 4 + (int)length);
            uint storedCrc = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)length)..]);
            if (Crc32.Compute(typeAndBody) != storedCrc)
            {
                throw new InvalidDataException("PNG chunk CRC mismatch.");
            }

            ReadOnlySpan<byte> type = typeAndBody[..4];
            ReadOnlySpan<byte> body = typeAndBody[4..];
            if (type.SequenceEqual("IHDR"u8))
            {
                if (body.Length != 13)
                {
                    throw new InvalidDataException("Bad IHDR length.");
                }

                width = checked((int)BinaryPrimitives.ReadUInt32BigEndian(body));
                height = checked((int)BinaryPrimitives.ReadUInt32BigEndian(body[4..]));
                byte bitDepth = body[8], colorType = body[9], compression = body[10], filter = body[11], interlace = body[12];
                if (width < 1 || height < 1)
                {
                    throw new InvalidDataException("PNG has zero size.");
                }

                if (bitDepth != 8 || compression != 0 || filter != 0 || interlace != 0)
                {
                    throw new NotSupportedException(
                        $"Only 8-bit non-interlaced PNGs are supported (bit depth {bitDepth}, interlace {interlace}).");
                }

                channels = colorType switch
                {
                    ColorGray => 1,
                    ColorRgb => 3,
                    ColorGrayAlpha => 2,
                    ColorRgba => 4,
                    _ => throw new NotSupportedException($"PNG colour type {colorType} is not supported."),
                };
                seenHeader = true;
            }
            else if (type.SequenceEqual("IDAT"u8))
            {
                if (!seenHeader)
                {
                    throw new InvalidDataException("IDAT before IHDR.");
                }

                idat.Write(body);
            }
            else if (type.SequenceEqual("IEND"u8))
            {
                seenEnd = true;
            }
            else if ((type[0] & 0x20) == 0)
            {
                throw new NotSupportedException($"Unsupported critical PNG chunk '{System.Text.Encoding.ASCII.GetString(type)}'.");
            }

            pos += 12 + (int)length;
        }

        if (!seenHeader)
        {
            throw new InvalidDataException("PNG has no IHDR chunk.");
        }

        int stride = checked(width * channels);
        byte[] raw = new byte[checked((long)(stride + 1) * height)];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress, leaveOpen: true))
        {
            try
            {
                z.ReadExactly(raw);
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException("PNG image data is shorter than the header implies.", e);
            }
        }

        var image = new RgbImage(width, height);
        byte[] prev = new byte[stride];
        byte[] cur = new byte[stride];
        byte[] outPixels = image.Pixels;
        for (int y = 0; y < height; y++)
        {
            int rowStart = y * (stride + 1);
            byte filter = raw[rowStart];
            raw.AsSpan(rowStart + 1, stride).CopyTo(cur);
            Unfilter(filter, cur, prev, channels);
            int o = y * width * 3;
            for (int x = 0; x < width; x++)
            {
                int i = x * channels;
                if (channels <= 2)
                {
                    outPixels[o] = outPixels[o + 1] = outPixels[o + 2] = cur[i];
                }
                else
                {
                    outPixels[o] = cur[i];
                    outPixels[o + 1] = cur[i + 1];
                    outPixels[o + 2] = cur[i + 2];
                }

                o += 3;
            }

            (prev, cur) = (cur, prev);
        }

        return image;
    }

    private static byte[] EncodeCore(int width, int height, byte colorType, int channels, ReadOnlySpan<byte> pixels)
    {
        int stride = checked(width * channels);
        byte[] compressed;
        using (var zbuf = new MemoryStream())
        {
            using (var z = new ZLibStream(zbuf, CompressionLevel.Optimal, leaveOpen: true))
            {
                byte[] line = new byte[stride + 1];
                byte[] best = new byte[stride + 1];
                ReadOnlySpan<byte> prev = default;
                for (int y = 0; y < height; y++)
                {
                    ReadOnlySpan<byte> row = pixels.Slice(y * stride, stride);
                    long bestScore = long.MaxValue;
                    for (byte f = 0; f <= 4; f++)
                    {
                        line[0] = f;
                        long score = Filter(f, row, prev, channels, line.AsSpan(1));
                        if (score < bestScore)
                        {
                            bestScore = score;
                            line.CopyTo(best, 0);
                        }
                    }

                    z.Write(best);
                    prev = row;
                }
            }

            compressed = zbuf.ToArray();
        }

        using var png = new MemoryStream(compressed.Length + 128);
        png.Write(Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr[4..], (uint)height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = colorType;
        ihdr[10] = 0; // deflate
        ihdr[11] = 0; // adaptive filtering
        ihdr[12] = 0; // no interlace
        WriteChunk(png, "IHDR"u8, ihdr);
        for (int offset = 0; offset < compressed.Length || offset == 0; offset += MaxIdatChunk)
        {
            int n = Math.Min(MaxIdatChunk, compressed.Length - offset);
            WriteChunk(png, "IDAT"u8, compressed.AsSpan(offset, n));
        }

        WriteChunk(png, "IEND"u8, []);
        return png.ToArray();
    }

    /// <summary>Writes one chunk: length, type, data, CRC over type and data.</summary>
    private static void WriteChunk(Stream s, ReadOnlySpan<byte> type, ReadOnlySpan<byte> body)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)body.Length);
        s.Write(word);
        s.Write(type);
        s.Write(body);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Append(Crc32.Compute(type), body));
        s.Write(word);
    }

    /// <summary>Applies filter <paramref name="f"/>; returns the sum of |signed residuals| (lower compresses better).</summary>
    private static long Filter(byte f, ReadOnlySpan<byte> row, ReadOnlySpan<byte> prev, int bpp, Span<byte> dst)
    {
        long score = 0;
        for (int i = 0; i < row.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0;
            int b = prev.IsEmpty ? 0 : prev[i];
            int c = i >= bpp && !prev.IsEmpty ? prev[i - bpp] : 0;
            int predicted = f switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) >> 1,
                _ => Paeth(a, b, c),
            };
            byte v = (byte)(row[i] - predicted);
            dst[i] = v;
            score += Math.Abs((int)(sbyte)v);
        }

        return score;
    }

    private static void Unfilter(byte f, Span<byte> cur, ReadOnlySpan<byte> prev, int bpp)
    {
        if (f > 4)
        {
            throw new InvalidDataException($"Bad PNG filter type {f}.");
        }

        for (int i = 0; i < cur.Length; i++)
        {
            int a = i >= bpp ? cur[i - bpp] : 0;
            int b = prev[i];
            int c = i >= bpp ? prev[i - bpp] : 0;
            int predicted = f switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) >> 1,
                _ => Paeth(a, b, c),
            };
            cur[i] = (byte)(cur[i] + predicted);
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void WriteAtomic(string path, byte[] bytes) => Data.AtomicFile.WriteAllBytes(path, bytes);
}
