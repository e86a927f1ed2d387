using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using IlgpuVae.Checkpoints;
using IlgpuVae.Data;
using Xunit;
using static IlgpuVae.Tests.Data.IdxReaderTests;

namespace IlgpuVae.Tests.Data;

/// <summary>
/// Issue 22, cases 8, 10 and 13: input files that are not what they should be. A FIFO, a device or a directory where a
/// file is read is refused by its path without being opened; a gzip file's CRC, trailer and end are checked, and a
/// header's claim against the file's size before any body is decompressed; images and labels are checked against each
/// other before either body; a raw file and its .gz that differ are refused. Every error is one line naming the file.
/// </summary>
public sealed partial class HostileDataTests
{
    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MkFifo(string path, uint mode);

    /// <summary>Makes a FIFO (Unix only: the tests that need one return early elsewhere).</summary>
    internal static string Fifo(TempDirectory dir, string name) => Fifo(dir.File(name));

    /// <summary>Makes a FIFO at <paramref name="path"/>.</summary>
    internal static string Fifo(string path)
    {
        Assert.True(MkFifo(path, Convert.ToUInt32("600", 8)) == 0, $"mkfifo failed: {Marshal.GetLastPInvokeError()}");
        return path;
    }

    /// <summary>Runs <paramref name="action"/> and fails, instead of hanging, if it takes more than 20 seconds: a read
    /// blocked in opening the FIFO <paramref name="fifo"/> is then let go by opening its other end.</summary>
    internal static T Within<T>(string fifo, Func<T> action)
    {
        var task = Task.Run(action);
        if (!task.Wait(TimeSpan.FromSeconds(20)))
        {
            using (new FileStream(fifo, FileMode.Open, FileAccess.Write))
            {
            }
            Assert.Fail($"still blocked on {fifo} after 20 s");
        }
        return task.GetAwaiter().GetResult();
    }

    private static void AssertOneLine(string fragment, Exception e)
    {
        Assert.Contains(fragment, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    // ---- case 8 and 13d: not a regular file ----

    [Fact]
    public void RegularFile_TellsEachKindWithoutOpeningIt()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("file"), [1]);
        Assert.Null(RegularFile.Problem(dir.File("file")));
        Assert.Null(RegularFile.Problem(dir.File("missing")));
        Assert.Equal("is a directory, not a file", RegularFile.Problem(dir.Path));
        if (OperatingSystem.IsWindows())
            return;
        Assert.Equal("not a regular file (a FIFO)", RegularFile.Problem(Fifo(dir, "fifo")));
        Assert.Equal("not a regular file (a character device)", RegularFile.Problem("/dev/null"));
        // A final link is followed, as reading would.
        File.CreateSymbolicLink(dir.File("link"), dir.File("file"));
        Assert.Null(RegularFile.Problem(dir.File("link")));
        File.CreateSymbolicLink(dir.File("link-to-fifo"), dir.File("fifo"));
        Assert.Equal("not a regular file (a FIFO)", RegularFile.Problem(dir.File("link-to-fifo")));
    }

    [Fact]
    public void IdxFifo_IsRefusedWithoutBlocking()
    {
        if (OperatingSystem.IsWindows())
            return;
        using var dir = new TempDirectory();
        string fifo = Fifo(dir, "train-images-idx3-ubyte");
        var e = Within(fifo, () => Record.Exception(() => ImageData.LoadSet(fifo, null)));
        Assert.IsType<InvalidDataException>(e);
        AssertOneLine($"{fifo}: not a regular file (a FIFO)", e);
    }

    [Fact]
    public void IdxDirectory_IsNamedAsADirectory_NotAsMissing()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("images"));
        var e = Assert.Throws<InvalidDataException>(() => ImageData.LoadSet(dir.File("images"), null));
        AssertOneLine($"{dir.File("images")}: is a directory", e);

        // Under a standard name in a data directory: not passed over for the .gz beside it.
        SyntheticIdx.Write(dir.Path);
        Directory.CreateDirectory(dir.File(MnistFiles.TestImages));
        e = Assert.Throws<InvalidDataException>(() => ImageData.Load(DataFiles.InDirectory(dir.Path)));
        AssertOneLine($"{dir.File(MnistFiles.TestImages)}: is a directory", e);
    }

    [Fact]
    public void ModelFifoOrDirectory_IsRefusedBeforeOpening()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("model.safetensors"));
        Exception e = Assert.Throws<IOException>(() => SafeTensors.Read(dir.File("model.safetensors")));
        AssertOneLine($"{dir.File("model.safetensors")}: is a directory", e);
        if (OperatingSystem.IsWindows())
            return;
        string fifo = Fifo(dir, "fifo.safetensors");
        e = Within(fifo, () => Record.Exception(() => SafeTensors.Read(fifo)));
        Assert.IsType<IOException>(e);
        AssertOneLine($"{fifo}: not a regular file (a FIFO)", e);
        e = Within(fifo, () => Record.Exception(() => SafeTensors.ReadHeader(fifo)));
        AssertOneLine($"{fifo}: not a regular file (a FIFO)", e);
    }

    // ---- case 10: headers and sizes before bodies ----

    [Fact]
    public void ImagesAndLabels_CountsAreComparedBeforeEitherBodyIsRead()
    {
        using var dir = new TempDirectory();
        // The images' header is a gzip member of its own; their body, another member, is damaged: reading it would
        // fail on the images. The labels' count differs, which the headers alone show.
        byte[] idx = Idx(0x08, [50, 4, 4], 800);
        byte[] body = Gzip(idx[16..]);
        body[^8] ^= 0xFF;
        string images = dir.File("images.gz"), labels = dir.File("labels");
        File.WriteAllBytes(images, [.. Gzip(idx[..16]), .. body]);
        IdxWriter.WriteLabels(labels, new byte[40]);

        var e = Assert.Throws<InvalidDataException>(() => ImageData.LoadSet(images, labels));
        AssertOneLine($"{labels}: 40 labels for the 50 images of {images}", e);
    }

    [Fact]
    public void GzipTrailerSmallerThanTheHeaderClaims_IsRefusedBeforeDecompressing()
    {
        using var dir = new TempDirectory();
        string path = dir.File("images.gz");
        // 100 x 10 x 10 claimed, 5000 bytes there: within what a file of this size could hold, but its one member's
        // trailer says 5016 bytes.
        byte[] raw = Idx(0x08, [100, 10, 10], 5000);
        new Random(3).NextBytes(raw.AsSpan(16));
        File.WriteAllBytes(path, Gzip(raw));

        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadHeader(path, 3, contentName: "pixels"));
        AssertOneLine($"{path}: the IDX header claims 10016 bytes (100x10x10 pixels and the header), the gzip trailer says 5016", e);
    }

    [Fact]
    public void GzipClaimingMoreThanDeflateCanHold_IsRefusedFromTheFileSize()
    {
        using var dir = new TempDirectory();
        string path = dir.File("images.gz");
        // The issue's 40000 x 50000 images, promised by a few hundred bytes.
        File.WriteAllBytes(path, Gzip(Idx(0x08, [40000, 50000, 1], 1000)));
        long length = new FileInfo(path).Length;

        var stopwatch = Stopwatch.StartNew();
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadHeader(path, 3, contentName: "pixels"));
        AssertOneLine($"{path}: truncated: expected 2000000000 bytes of pixels, but a gzip file of {length} bytes holds at most {1032 * length}", e);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
    }

    // ---- case 13a-b: gzip integrity ----

    [Fact]
    public void GzipWithABadCrc_IsReportedAsACrcMismatch()
    {
        using var dir = new TempDirectory();
        string path = dir.File("images.gz");
        byte[] gz = Gzip(Idx(0x08, [4, 4, 4], 64));
        gz[^8] ^= 0xFF;
        File.WriteAllBytes(path, gz);

        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        AssertOneLine($"{path}: corrupt gzip data: CRC mismatch", e);
        Assert.DoesNotContain("unsupported compression method", e.Message);
    }

    [Fact]
    public void GzipWithADamagedBody_IsCorruptGzipData()
    {
        using var dir = new TempDirectory();
        string path = dir.File("images.gz");
        byte[] raw = Idx(0x08, [40, 10, 10], 4000);
        new Random(5).NextBytes(raw.AsSpan(16));
        byte[] gz = Gzip(raw);
        for (int i = 100; i < 120; i++)
            gz[i] ^= 0x5A;
        File.WriteAllBytes(path, gz);

        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        AssertOneLine($"{path}: corrupt gzip data", e);
        Assert.DoesNotContain("unsupported compression method", e.Message);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void GzipCutOffInItsTrailer_IsTruncated(int cut)
    {
        using var dir = new TempDirectory();
        string path = dir.File("images.gz");
        byte[] gz = Gzip(Idx(0x08, [6, 4, 4], 96));
        File.WriteAllBytes(path, gz[..^cut]);

        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        AssertOneLine(path + ": ", e);
        Assert.Contains("truncated", e.Message);
    }

    [Theory]
    [InlineData("GARBAGE!")]
    [InlineData("\0\0\0\0\0\0\0\0")]
    [InlineData("\n")]
    public void GzipFollowedByBytesThatAreNotGzip_IsRefused(string garbage)
    {
        using var dir = new TempDirectory();
        string path = dir.File("images.gz");
        File.WriteAllBytes(path, [.. Gzip(Idx(0x08, [6, 4, 4], 96)), .. System.Text.Encoding.ASCII.GetBytes(garbage)]);

        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        AssertOneLine(path + ": ", e);
        Assert.Contains("not gzip", e.Message);
    }

    [Fact]
    public void GzipOfSeveralMembers_IsRead_AndJunkAfterThemIsNot()
    {
        using var dir = new TempDirectory();
        string path = dir.File("images.gz");
        byte[] raw = Idx(0x08, [6, 4, 4], 96);
        byte[] members = [.. Gzip(raw[..30]), .. Gzip(raw[30..70]), .. Gzip(raw[70..])];
        File.WriteAllBytes(path, members);
        Assert.Equal(raw[16..], IdxReader.ReadImages(path).Data);

        File.WriteAllBytes(path, [.. members, .. "junk"u8]);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains("not gzip", e.Message);
    }

    // ---- case 13c: x and x.gz ----

    [Fact]
    public void RawAndGz_ThatDiffer_AreRefusedNamingBoth_ThatAgree_GiveTheRaw()
    {
        using var dir = new TempDirectory();
        SyntheticIdx.Write(dir.Path);
        string raw = dir.File(MnistFiles.TrainImages), gz = raw + ".gz";
        // The same data compressed (gzip -k): accepted, the raw file read.
        File.WriteAllBytes(gz, Gzip(File.ReadAllBytes(raw)));
        Assert.Equal(raw, DataFiles.InDirectory(dir.Path).TrainImages);

        // Different data.
        var (images, _) = SyntheticIdx.Make(240, 9);
        IdxWriter.WriteImages(gz, images, 240, SyntheticIdx.Height, SyntheticIdx.Width);
        var e = Assert.Throws<InvalidDataException>(() => DataFiles.InDirectory(dir.Path));
        AssertOneLine($"{raw} and {gz} both exist and hold different data", e);

        // A .gz that cannot be read to compare.
        byte[] corrupt = Gzip(File.ReadAllBytes(raw));
        corrupt[3] = 0xFF; // reserved flag bits
        File.WriteAllBytes(gz, corrupt);
        e = Assert.Throws<InvalidDataException>(() => DataFiles.InDirectory(dir.Path));
        AssertOneLine($"{raw} and {gz} both exist", e);
    }
}
