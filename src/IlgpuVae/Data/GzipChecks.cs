using System.Buffers.Binary;
using System.IO.Compression;

namespace IlgpuVae.Data;

/// <summary>
/// What .NET's <see cref="GZipStream"/> does not check about a gzip file (RFC 1952), and the one-line words for what
/// it does: it stops without a word at a stream cut off before its CRC and size trailer, ignores bytes after the last
/// member that do not start another member, and reports a CRC mismatch as "unsupported compression method". A member
/// ends with the CRC-32 and the size (mod 2^32) of its uncompressed data; a file may hold several members one after
/// the other (their data joined), and the last 8 bytes of a well-formed file are always the last member's trailer.
/// </summary>
internal static class GzipChecks
{
    /// <summary>The most deflate expands: a 258-byte match coded in 2 bits, 1032:1.</summary>
    public const long MaxRatio = 1032;

    /// <summary>The shortest gzip member: a 10-byte header, an empty deflate block (2 bytes), the 8-byte trailer.</summary>
    public const int MinLength = 20;

    /// <summary>The last 8 bytes: the last member's CRC-32 and uncompressed size mod 2^32. The position is restored.</summary>
    public static (uint Crc, uint Size) Trailer(FileStream file)
    {
        long position = file.Position;
        Span<byte> trailer = stackalloc byte[8];
        file.Position = file.Length - 8;
        file.ReadExactly(trailer);
        file.Position = position;
        return (BinaryPrimitives.ReadUInt32LittleEndian(trailer), BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]));
    }

    /// <summary>The most uncompressed bytes a gzip file of <paramref name="length"/> bytes can hold.</summary>
    public static long MaxUncompressed(long length) => MaxRatio * length;

    /// <summary>
    /// Whether the file may hold more than one member: whether the bytes 1f 8b 08 (a member's start) occur after the
    /// first member's header. False means one member for certain, so the trailer's size is the whole data's; true may
    /// also be chance (about one such triple in 16 MiB of compressed data). The position is restored.
    /// </summary>
    public static bool MayHoldSeveralMembers(FileStream file)
    {
        long position = file.Position;
        try
        {
            file.Position = 10;
            byte[] buffer = new byte[1 << 16];
            int carry = 0;
            int read;
            while ((read = file.Read(buffer, carry, buffer.Length - carry)) > 0)
            {
                int end = carry + read;
                if (buffer.AsSpan(0, end).IndexOf([(byte)0x1F, (byte)0x8B, (byte)0x08]) >= 0)
                    return true;
                carry = Math.Min(2, end);
                buffer.AsSpan(end - carry, carry).CopyTo(buffer);
            }
            return false;
        }
        finally
        {
            file.Position = position;
        }
    }

    /// <summary>
    /// Checks that the data read from the whole gzip file, <paramref name="head"/> then <paramref name="body"/>,
    /// ends where the file does: the file's last 8 bytes must be the trailer of the last member, that is the CRC-32
    /// and size of a suffix of the data (all of it for a single member). A file cut off inside its trailer or after
    /// the last deflate block, or followed by bytes that are not a gzip member, fails.
    /// </summary>
    /// <returns>Null if the file ends well, else the problem in a few words.</returns>
    public static string? CheckEnd(FileStream file, ReadOnlySpan<byte> head, ReadOnlySpan<byte> body)
    {
        var (crc, size) = Trailer(file);
        long total = head.Length + (long)body.Length;
        if (size <= total && Crc32OfSuffix(head, body, size) == crc)
            return null;
        // Where a single member's trailer would be, if the data is one member: found before the end, what follows
        // it is not gzip; not found, the file was cut off (or is several members followed by junk).
        uint all = Crc32OfSuffix(head, body, total);
        byte[] pattern = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(pattern, all);
        BinaryPrimitives.WriteUInt32LittleEndian(pattern.AsSpan(4), (uint)total);
        long at = Find(file, pattern);
        return at >= 0
            ? $"{file.Length - at - 8} bytes after the end of the gzip stream (at byte {at + 8} of {file.Length}) are not gzip (trailing garbage)"
            : "the file does not end with the CRC and size trailer of a gzip member (truncated gzip, or followed by bytes that are not gzip)";
    }

    /// <summary>
    /// Says what a <see cref="GZipStream"/> data error was. A stream with its trailer cut off decompresses without the
    /// check, so the file is decompressed again without its last 8 bytes: if that works, and the data has the size
    /// the trailer states but another CRC-32, the error was a CRC mismatch.
    /// </summary>
    public static string Diagnose(FileStream file)
    {
        try
        {
            var (crc, size) = Trailer(file);
            file.Position = 0;
            using var gzip = new GZipStream(new PrefixStream(file, file.Length - 8), CompressionMode.Decompress, leaveOpen: true);
            byte[] buffer = new byte[1 << 16];
            var hash = new System.IO.Hashing.Crc32();
            long count = 0;
            int read;
            while ((read = gzip.Read(buffer)) > 0)
            {
                hash.Append(buffer.AsSpan(0, read));
                count += read;
            }
            uint actual = hash.GetCurrentHashAsUInt32();
            if ((uint)count == size && actual != crc)
                return $"corrupt gzip data: CRC mismatch (the data's CRC-32 is {actual:x8}, the trailer says {crc:x8})";
            if ((uint)count != size)
                return $"corrupt gzip data: size mismatch (the data is {count} bytes, the trailer says {size})";
        }
        catch (InvalidDataException)
        {
        }
        return "corrupt gzip data: invalid compressed data or header, or a CRC mismatch in an earlier member";
    }

    private static long Find(FileStream file, byte[] pattern)
    {
        long position = file.Position;
        try
        {
            file.Position = 0;
            byte[] buffer = new byte[1 << 16];
            long offset = 0; // file offset of buffer[0]
            int carry = 0;
            int read;
            while ((read = file.Read(buffer, carry, buffer.Length - carry)) > 0)
            {
                int end = carry + read;
                int i = buffer.AsSpan(0, end).IndexOf(pattern);
                if (i >= 0)
                    return offset + i;
                carry = Math.Min(pattern.Length - 1, end);
                offset += end - carry;
                buffer.AsSpan(end - carry, carry).CopyTo(buffer);
            }
            return -1;
        }
        finally
        {
            file.Position = position;
        }
    }

    // gzip's CRC-32 (the reflected polynomial 0xEDB88320) of the last `length` bytes of head followed by body.
    private static uint Crc32OfSuffix(ReadOnlySpan<byte> head, ReadOnlySpan<byte> body, long length)
    {
        var hash = new System.IO.Hashing.Crc32();
        if (length > body.Length)
            hash.Append(head[(int)(head.Length - (length - body.Length))..]);
        hash.Append(body[(int)Math.Max(0, body.Length - length)..]);
        return hash.GetCurrentHashAsUInt32();
    }

    /// <summary>The first <c>length</c> bytes of a stream, read from its current position.</summary>
    private sealed class PrefixStream(Stream inner, long length) : Stream
    {
        private long _left = length;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            int read = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            _left -= read;
            return read;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
