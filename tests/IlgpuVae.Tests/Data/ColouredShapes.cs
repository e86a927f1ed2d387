using IlgpuVae.Data;
using IlgpuVae.Imaging;

namespace IlgpuVae.Tests.Data;

/// <summary>
/// A colour image set written by the tests: 32 x 32 RGB pictures of one shape each (a disc, a square, a triangle or
/// a cross: the four classes, in turn) in one of four colours, of random size and place, on a dark blue background. Seeded,
/// so the same arguments give the same pictures on every machine.
/// </summary>
public static class ColouredShapes
{
    public const int Size = 32, Channels = 3;

    public static readonly string[] ClassNames = ["cross", "disc", "square", "triangle"];

    private static readonly (byte R, byte G, byte B)[] Colours = [(230, 40, 40), (40, 200, 60), (60, 90, 240), (240, 220, 40)];
    private static readonly (byte R, byte G, byte B) Background = (20, 24, 48);

    /// <summary>count pictures as C x H x W bytes, and their labels (index into <see cref="ClassNames"/>).</summary>
    public static (byte[] Images, byte[] Labels) Make(int count, int seed)
    {
        var random = new Random(seed);
        int plane = Size * Size, d = Channels * plane;
        var images = new byte[count * d];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            // In turn, so that any four pictures hold every class.
            int shape = i % ClassNames.Length;
            var colour = Colours[random.Next(Colours.Length)];
            int radius = random.Next(6, 12);
            int cx = random.Next(radius, Size - radius), cy = random.Next(radius, Size - radius);
            labels[i] = (byte)shape;
            for (int y = 0; y < Size; y++)
                for (int x = 0; x < Size; x++)
                {
                    var (r, g, b) = Inside(ClassNames[shape], x - cx, y - cy, radius) ? colour : Background;
                    int p = i * d + y * Size + x;
                    (images[p], images[p + plane], images[p + 2 * plane]) = (r, g, b);
                }
        }
        return (images, labels);
    }

    private static bool Inside(string shape, int dx, int dy, int radius) => shape switch
    {
        "disc" => dx * dx + dy * dy <= radius * radius,
        "square" => Math.Abs(dx) <= radius * 3 / 4 && Math.Abs(dy) <= radius * 3 / 4,
        "triangle" => dy <= radius * 3 / 4 && dy >= -radius && Math.Abs(dx) * 2 <= dy + radius,
        "cross" => (Math.Abs(dx) <= radius / 4 && Math.Abs(dy) <= radius) || (Math.Abs(dy) <= radius / 4 && Math.Abs(dx) <= radius),
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };

    /// <summary>Writes <paramref name="train"/> and <paramref name="test"/> pictures as PNGs under train/CLASS/ and
    /// test/CLASS/ (seeds 1 and 2), and returns them as in memory.</summary>
    public static ImageData WriteFolder(string directory, int train, int test)
    {
        var (trainImages, trainLabels) = Make(train, 1);
        var (testImages, testLabels) = Make(test, 2);
        WritePictures(Path.Combine(directory, "train"), trainImages, trainLabels);
        WritePictures(Path.Combine(directory, "test"), testImages, testLabels);
        return new ImageData(ImageSet.FromBytes(trainImages, train, Channels, Size, Size, trainLabels),
            ImageSet.FromBytes(testImages, test, Channels, Size, Size, testLabels), Path.GetFileName(directory))
        {
            ClassNames = ClassNames,
        };
    }

    /// <summary>Writes C x H x W images as PNG files DIRECTORY/CLASS/NNNNN.png (grey or RGB), one folder per class in <paramref name="names"/>.</summary>
    public static void WritePictures(string directory, byte[] images, byte[] labels, IReadOnlyList<string>? names = null,
        int channels = Channels, int height = Size, int width = Size)
    {
        names ??= ClassNames;
        int plane = height * width, d = channels * plane;
        foreach (var label in labels.Distinct())
            Directory.CreateDirectory(Path.Combine(directory, names[label]));
        for (int i = 0; i < labels.Length; i++)
        {
            string file = Path.Combine(directory, names[labels[i]], $"{i:D5}.png");
            var image = images.AsSpan(i * d, d);
            if (channels == 1)
            {
                Png.WriteGray(file, width, height, image);
                continue;
            }
            var rgb = new byte[3 * plane];
            for (int p = 0; p < plane; p++)
                (rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]) = (image[p], image[plane + p], image[2 * plane + p]);
            Png.Write(file, new RgbImage(width, height, rgb));
        }
    }
}
