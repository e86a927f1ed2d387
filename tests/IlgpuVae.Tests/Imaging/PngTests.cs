using System.Buffers.Binary;
using System.IO.Compression;
using IlgpuVae.Imaging;
using Xunit;

namespace IlgpuVae.Tests.Imaging;

/// <summary>PNG encoder/decoder and CRC tests.</summary>
public sealed class PngTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ilgpuvae-png-" + Guid.NewGuid().ToString("N"));

    /// <summary>Creates the scratch directory.</summary>
    public PngTests() => Directory.CreateDirectory(_dir);

    /// <summary>Removes the scratch directory.</summary>
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The CRC of the IEND chunk type (with empty body) is the well-known AE 42 60 82.</summary>
    [Fact]
    public void Crc32_OfIendChunk_IsAE426082()
    {
        Assert.Equal(0xAE426082u, Crc32.Compute("IEND"u8));
    }

    /// <summary>Standard CRC-32 check value, and incremental use equals one-shot.</summary>
    [Fact]
    public void Crc32_CheckValue_AndAppend()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0xCBF43926u, Crc32.Append(Crc32.Compute("1234"u8), "56789"u8));
        Assert.Equal(0u, Crc32.Compute([]));
    }

    /// <summary>Encoded file has the signature, a correct IHDR and ends with the exact IEND chunk.</summary>
    [Fact]
    public void Encode_HasSignatureIhdrAndIend()
    {
        var img = new RgbImage(7, 3, new Rgb(1, 2, 3));
        byte[] png = Png.Encode(img);

        Assert.Equal(Png.Signature.ToArray(), png[..8]);
        Assert.Equal(13u, BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(8)));
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);
        Assert.Equal(7u, BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(20)));
        Assert.Equal(8, png[24]); // bit depth
        Assert.Equal(2, png[25]); // colour type RGB
        Assert.Equal(Crc32.Compute(png.AsSpan(12, 17)), BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(29)));
        byte[] iend = [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82];
        Assert.Equal(iend, png[^12..]);
    }

    /// <summary>Writing then reading a file returns identical RGB pixels and leaves no temp files.</summary>
    [Fact]
    public void WriteRead_Rgb_RoundTrips()
    {
        var rng = new Random(1234);
        var img = new RgbImage(37, 23);
        for (int y = 0; y < img.Height; y++)
        {
            for (int x = 0; x < img.Width; x++)
            {
                // Mix of smooth gradients and noise so the encoder picks several filter types.
                byte n = (byte)rng.Next(256);
                img.SetPixel(x, y, y < 10 ? new Rgb((byte)(x * 7), (byte)(y * 11), (byte)(x + y)) : new Rgb(n, (byte)(255 - n), (byte)(x * y)));
            }
        }

        string path = Path.Combine(_dir, "rgb.png");
        Png.Write(path, img);
        RgbImage back = Png.Read(path);

        Assert.Equal(img.Width, back.Width);
        Assert.Equal(img.Height, back.Height);
        Assert.Equal(img.Pixels, back.Pixels);
        Assert.Equal(["rgb.png"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    /// <summary>Writing over an existing file replaces it.</summary>
    [Fact]
    public void Write_OverwritesExistingFile()
    {
        string path = Path.Combine(_dir, "sub", "over.png");
        Png.Write(path, new RgbImage(4, 4, Rgb.Red));
        Png.Write(path, new RgbImage(2, 3, Rgb.White));

        RgbImage back = Png.Read(path);
        Assert.Equal((2, 3), (back.Width, back.Height));
        Assert.All(back.Pixels, b => Assert.Equal(255, b));
    }

    /// <summary>Greyscale files round-trip (expanded to equal RGB channels on read).</summary>
    [Fact]
    public void WriteGray_RoundTripsAsGreyRgb()
    {
        byte[] gray = Enumerable.Range(0, 15 * 9).Select(i => (byte)(i * 37)).ToArray();
        string path = Path.Combine(_dir, "gray.png");
        Png.WriteGray(path, 15, 9, gray);

        byte[] file = File.ReadAllBytes(path);
        Assert.Equal(0, file[25]); // colour type greyscale
        RgbImage back = Png.Read(path);
        for (int i = 0; i < gray.Length; i++)
        {
            Assert.Equal(Rgb.FromGray(gray[i]), back.GetPixel(i % 15, i / 15));
        }
    }

    /// <summary>Incompressible images are split into several IDAT chunks and still round-trip.</summary>
    [Fact]
    public void LargeNoiseImage_UsesSeveralIdatChunks_AndRoundTrips()
    {
        var img = new RgbImage(200, 150);
        new Random(7).NextBytes(img.Pixels);
        byte[] png = Png.Encode(img);

        int idats = 0;
        for (int pos = 8; pos < png.Length;)
        {
            int len = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            if (png.AsSpan(pos + 4, 4).SequenceEqual("IDAT"u8))
            {
                idats++;
            }

            pos += 12 + len;
        }

        Assert.True(idats > 1, $"expected several IDAT chunks, got {idats}");
        Assert.Equal(img.Pixels, Png.Decode(png).Pixels);
    }

    /// <summary>Decoder handles all five filter types on a hand-filtered image (values computed by hand).</summary>
    [Fact]
    public void Decode_HandFilteredGrey_AllFiveFilters()
    {
        // 3x5 greyscale, one filter per row: Sub, Paeth, Up, Average, None.
        byte[] raw =
        [
            1, 10, 10, 20,      // Sub   -> 10 20 40
            4, 5, 10, 241,      // Paeth -> 15 30 25
            2, 241, 225, 75,    // Up    -> 0 255 100
            3, 50, 164, 246,    // Avg   -> 50 60 70
            0, 1, 2, 3,         // None  -> 1 2 3
        ];
        byte[] expected = [10, 20, 40, 15, 30, 25, 0, 255, 100, 50, 60, 70, 1, 2, 3];

        RgbImage img = Png.Decode(BuildPng(3, 5, colorType: 0, raw));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(Rgb.FromGray(expected[i]), img.GetPixel(i % 3, i / 3));
        }
    }

    /// <summary>A corrupted chunk CRC is rejected.</summary>
    [Fact]
    public void Decode_BadCrc_Throws()
    {
        byte[] png = Png.Encode(new RgbImage(3, 3, Rgb.Grey));
        png[29] ^= 0xFF; // IHDR CRC
        Assert.Throws<InvalidDataException>(() => Png.Decode(png));
        Assert.Throws<InvalidDataException>(() => Png.Decode("not a png"u8));
    }

    private static byte[] BuildPng(int width, int height, byte colorType, byte[] rawScanlines)
    {
        using var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true))
        {
            zs.Write(rawScanlines);
        }

        byte[] ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = 8;
        ihdr[9] = colorType;

        using var ms = new MemoryStream();
        ms.Write(Png.Signature);
        Chunk(ms, "IHDR"u8, ihdr);
        Chunk(ms, "IDAT"u8, z.ToArray());
        Chunk(ms, "IEND"u8, []);
        return ms.ToArray();
    }

    private static void Chunk(Stream s, ReadOnlySpan<byte> type, ReadOnlySpan<byte> body)
    {
        byte[] word = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)body.Length);
        s.Write(word);
        byte[] typeAndBody = [.. type, .. body];
        s.Write(typeAndBody);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(typeAndBody));
        s.Write(word);
    }
}
