using StbImageSharp;

namespace IlgpuVae.Data;

/// <summary>
/// Reads a folder of pictures (PNG, JPEG, BMP, GIF, TGA; decoded by StbImageSharp, a managed port of stb_image) as an
/// image set, as torchvision's ImageFolder does but stricter: the classes are the sub-folders' names sorted ordinally
/// (label i is the i-th), a folder without sub-folders is unlabelled, and every file is checked (decodable, one size)
/// before any set is made, so a bad folder fails whole with a message naming the file.
/// </summary>
internal static class ImageFolder
{
    /// <summary>The file extensions that count as pictures (compared ignoring case); other files are skipped.</summary>
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga"];

    /// <summary>The largest class count: labels are bytes.</summary>
    private const int MaxClasses = 256;

    /// <summary>Whether <paramref name="directory"/> holds pictures or class folders rather than IDX files.</summary>
    public static bool HoldsPictures(string directory) =>
        Directory.Exists(directory) && MnistFiles.Find(directory, MnistFiles.TrainImages) is null;

    /// <summary>The picture files of a folder tree: (file, label) in label order, then file-name order.</summary>
    /// <param name="directory">A folder of pictures (unlabelled) or of class folders of pictures.</param>
    /// <param name="classNames">The class folders' names, sorted ordinally; null for an unlabelled folder.</param>
    /// <returns>The files.</returns>
    /// <exception cref="InvalidDataException">The folder holds no pictures, mixes pictures and class folders, has an
    /// empty class folder or more than 256 classes.</exception>
    public static List<(string File, byte Label)> List(string directory, out string[]? classNames)
    {
        var folders = Visible(Directory.EnumerateDirectories(directory)).ToArray();
        var pictures = Pictures(directory);
        classNames = null;
        if (folders.Length == 0)
        {
            if (pictures.Length == 0)
                throw new InvalidDataException($"{directory}: no pictures ({string.Join(", ", Extensions)}), no class folders and no {MnistFiles.TrainImages}(.gz)");
            return pictures.Select(file => (file, (byte)0)).ToList();
        }
        if (pictures.Length > 0)
            throw new InvalidDataException($"{pictures[0]}: a picture beside the class folders of {directory}; put every picture in its class's folder");
        if (folders.Length > MaxClasses)
            throw new InvalidDataException($"{directory}: {folders.Length} class folders; at most {MaxClasses} classes");
        classNames = folders.Select(Path.GetFileName).ToArray()!;
        var files = new List<(string, byte)>();
        for (int label = 0; label < folders.Length; label++)
        {
            var inClass = Pictures(folders[label]);
            if (inClass.Length == 0)
                throw new InvalidDataException($"{folders[label]}: class folder holds no pictures ({string.Join(", ", Extensions)})");
            files.AddRange(inClass.Select(file => (file, (byte)label)));
        }
        return files;
    }

    /// <summary>
    /// Decodes the pictures into one set of C x H x W bytes. C is <paramref name="channels"/>, or else 3 when any picture
    /// has colour and 1 when all are grey (grey from colour is stb's luma (77 R + 150 G + 29 B) / 256; grey to colour
    /// repeats it; alpha is dropped). Without <paramref name="size"/> every picture must have the first one's size;
    /// with it each is resized (<see cref="Resize"/>).
    /// </summary>
    /// <param name="files">The files and their labels, from <see cref="List"/>.</param>
    /// <param name="labelled">Whether the labels mean anything.</param>
    /// <param name="size">The size to resize to, or null to require one size.</param>
    /// <param name="channels">1 or 3 to convert to, or null to keep the pictures' own.</param>
    /// <returns>The set.</returns>
    /// <exception cref="InvalidDataException">A file is no decodable picture, or sizes differ without <paramref name="size"/>.</exception>
    public static ImageSet Read(IReadOnlyList<(string File, byte Label)> files, bool labelled, (int Height, int Width)? size, int? channels)
    {
        // Headers first: a size mismatch or an undecodable file is found before anything is decoded.
        var infos = new ImageInfo[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            using var stream = File.OpenRead(files[i].File);
            infos[i] = Info(stream, files[i].File);
            if (size is null && (infos[i].Width, infos[i].Height) != (infos[0].Width, infos[0].Height))
                throw new InvalidDataException($"{files[i].File}: {infos[i].Height}x{infos[i].Width} pixels, but {files[0].File} has " +
                    $"{infos[0].Height}x{infos[0].Width}; give an image size to resize them all");
        }
        int c = channels ?? (infos.Any(info => info.ColorComponents is ColorComponents.RedGreenBlue or ColorComponents.RedGreenBlueAlpha) ? 3 : 1);
        var (height, width) = size ?? (infos[0].Height, infos[0].Width);
        long values = (long)files.Count * c * height * width;
        if (values > Array.MaxLength)
            throw new InvalidDataException($"{files.Count} pictures of {c}x{height}x{width} values do not fit in one array");
        var images = new byte[values];
        var labels = new byte[files.Count];
        int d = c * height * width;
        for (int i = 0; i < files.Count; i++)
        {
            ImageResult decoded;
            try
            {
                decoded = ImageResult.FromMemory(File.ReadAllBytes(files[i].File), c == 3 ? ColorComponents.RedGreenBlue : ColorComponents.Grey);
            }
            catch (Exception e) when (e is not IOException and not UnauthorizedAccessException)
            {
                // stb reports a corrupt file with a bare Exception ("bad huffman code" and the like).
                throw new InvalidDataException($"{files[i].File}: not a decodable picture ({e.Message})");
            }
            var planes = images.AsSpan(i * d, d);
            if (size is null)
                Pixels.ToPlanes(decoded.Data, c, planes);
            else
                Resize(decoded.Data, decoded.Height, decoded.Width, c, height, width, planes);
            labels[i] = files[i].Label;
        }
        return ImageSet.FromBytes(images, files.Count, c, height, width, labelled ? labels : null);
    }

    /// <summary>
    /// Resizes an interleaved H x W x C picture to <paramref name="height"/> x <paramref name="width"/> planes, keeping
    /// its aspect ratio: scaled (bilinear, pixel centres aligned, edges clamped) until it covers the target, then
    /// cropped about its centre. Nothing is padded and nothing is stretched; a picture of the target size comes out
    /// unchanged.
    /// </summary>
    internal static void Resize(ReadOnlySpan<byte> source, int sourceHeight, int sourceWidth, int channels, int height, int width, Span<byte> planes)
    {
        double scale = Math.Max((double)height / sourceHeight, (double)width / sourceWidth);
        // The crop's offset in the scaled picture, centred.
        double offsetY = (sourceHeight * scale - height) / 2, offsetX = (sourceWidth * scale - width) / 2;
        for (int y = 0; y < height; y++)
        {
            double sy = Math.Clamp((y + 0.5 + offsetY) / scale - 0.5, 0, sourceHeight - 1);
            int y0 = (int)sy, y1 = Math.Min(y0 + 1, sourceHeight - 1);
            double fy = sy - y0;
            for (int x = 0; x < width; x++)
            {
                double sx = Math.Clamp((x + 0.5 + offsetX) / scale - 0.5, 0, sourceWidth - 1);
                int x0 = (int)sx, x1 = Math.Min(x0 + 1, sourceWidth - 1);
                double fx = sx - x0;
                for (int ch = 0; ch < channels; ch++)
                {
                    double top = source[(y0 * sourceWidth + x0) * channels + ch] * (1 - fx) + source[(y0 * sourceWidth + x1) * channels + ch] * fx;
                    double bottom = source[(y1 * sourceWidth + x0) * channels + ch] * (1 - fx) + source[(y1 * sourceWidth + x1) * channels + ch] * fx;
                    planes[(ch * height + y) * width + x] = (byte)Math.Round(top * (1 - fy) + bottom * fy, MidpointRounding.AwayFromZero);
                }
            }
        }
    }

    private static ImageInfo Info(Stream stream, string file)
    {
        ImageInfo? info;
        try
        {
            info = ImageInfo.FromStream(stream);
        }
        catch (Exception e) when (e is not IOException and not UnauthorizedAccessException)
        {
            info = null;
        }
        if (info is not ImageInfo found || found.Width <= 0 || found.Height <= 0)
            throw new InvalidDataException($"{file}: not a decodable picture ({string.Join(", ", Extensions)})");
        return found;
    }

    private static string[] Pictures(string directory) =>
        Visible(Directory.EnumerateFiles(directory))
            .Where(file => Extensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase)).ToArray();

    // Sorted ordinally, as ImageFolder sorts; hidden entries (".DS_Store", ".ipynb_checkpoints") are not data.
    private static IEnumerable<string> Visible(IEnumerable<string> paths) =>
        paths.Where(path => !Path.GetFileName(path).StartsWith('.')).Order(StringComparer.Ordinal);
}
