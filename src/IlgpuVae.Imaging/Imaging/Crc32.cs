namespace IlgpuVae.Imaging;

/// <summary>
/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) as used by PNG chunks and zlib/gzip.
/// Table-driven; no dependency on System.IO.Hashing.
/// </summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    /// <summary>Computes the CRC-32 of <paramref name="data"/>.</summary>
    /// <param name="data">Bytes to checksum.</param>
    /// <returns>The finished CRC value (e.g. 0xAE426082 for the ASCII bytes "IEND").</returns>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0u, data);

    /// <summary>
    /// Continues a CRC-32 over more bytes: <c>Append(Append(0, a), b) == Compute(a ++ b)</c>.
    /// </summary>
    /// <param name="crc">A finished CRC of the preceding bytes (0 for none).</param>
    /// <param name="data">The following bytes.</param>
    /// <returns>The finished CRC of the preceding bytes followed by <paramref name="data"/>.</returns>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        foreach (byte b in data)
        {
            c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        }

        return ~c;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
