using IlgpuVae.Data;

namespace IlgpuVae.Tests.Data;

/// <summary>
/// A small IDX data set of another size than MNIST's, written by the test: 12 x 16 images (H != W, so a swapped
/// height and width shows) of three classes, each class a band of ink in its own third of the width.
/// </summary>
public static class SyntheticIdx
{
    public const int Height = 12, Width = 16, Classes = 3;

    public static (byte[] Images, byte[] Labels) Make(int count, int seed)
    {
        var random = new Random(seed);
        var images = new byte[count * Height * Width];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            int c = i % Classes;
            labels[i] = (byte)c;
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                    if (x * Classes / Width == c && random.NextDouble() < 0.8)
                        images[(i * Height + y) * Width + x] = 255;
        }
        return (images, labels);
    }

    /// <summary>The set in memory, labelled (train and test drawn from seeds 1 and 2, as <see cref="Write"/> does).</summary>
    public static ImageData InMemory(int train = 240, int test = 60)
    {
        var (trainImages, trainLabels) = Make(train, 1);
        var (testImages, testLabels) = Make(test, 2);
        return new ImageData(new ImageSet(trainImages, trainLabels, Height, Width), new ImageSet(testImages, testLabels, Height, Width), "bands");
    }

    /// <summary>Writes the set under MNIST's names (train 240, test 60 images), labels unless told not to.</summary>
    public static void Write(string directory, bool labels = true, int train = 240, int test = 60)
    {
        var (trainImages, trainLabels) = Make(train, 1);
        var (testImages, testLabels) = Make(test, 2);
        IdxWriter.WriteImages(Path.Combine(directory, MnistFiles.TrainImages), trainImages, train, Height, Width);
        IdxWriter.WriteImages(Path.Combine(directory, MnistFiles.TestImages + ".gz"), testImages, test, Height, Width);
        if (labels)
        {
            IdxWriter.WriteLabels(Path.Combine(directory, MnistFiles.TrainLabels), trainLabels);
            IdxWriter.WriteLabels(Path.Combine(directory, MnistFiles.TestLabels), testLabels);
        }
    }
}
