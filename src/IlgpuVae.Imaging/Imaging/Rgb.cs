namespace IlgpuVae.Imaging;

/// <summary>An 8-bit-per-channel RGB colour.</summary>
/// <param name="R">Red channel, 0-255.</param>
/// <param name="G">Green channel, 0-255.</param>
/// <param name="B">Blue channel, 0-255.</param>
internal readonly record struct Rgb(byte R, byte G, byte B)
{
    /// <summary>Pure black (0, 0, 0).</summary>
    public static Rgb Black => new(0, 0, 0);

    /// <summary>Pure white (255, 255, 255).</summary>
    public static Rgb White => new(255, 255, 255);

    /// <summary>Pure red (255, 0, 0).</summary>
    public static Rgb Red => new(255, 0, 0);

    /// <summary>Mid grey (128, 128, 128).</summary>
    public static Rgb Grey => new(128, 128, 128);

    /// <summary>Creates a grey colour with all three channels equal to <paramref name="level"/>.</summary>
    /// <param name="level">Grey level, 0 (black) to 255 (white).</param>
    /// <returns>The grey colour.</returns>
    public static Rgb FromGray(byte level) => new(level, level, level);
}
