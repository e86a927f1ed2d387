using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using IlgpuVae.Data;
using IlgpuVae.Tests.Data;
using Xunit;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Explorer;

/// <summary>The explorer's API over HTTP: answers that equal the library's, and every bad request refused with 400.</summary>
public sealed class ExplorerServerTests(VaeExplorerFixture vae, CvaeExplorerFixture cvae, ITestOutputHelper output)
    : IClassFixture<VaeExplorerFixture>, IClassFixture<CvaeExplorerFixture>
{
    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> Read(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private static float[] Floats(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetSingle())];

    [MnistFact]
    public async Task Server_ListensOnLoopbackAndServesThePage()
    {
        Assert.Equal("127.0.0.1", vae.Server.Url.Host);
        using var response = await vae.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Latent-space explorer", await response.Content.ReadAsStringAsync());
        Assert.StartsWith("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [MnistTheory]
    [InlineData("evil.example")]
    [InlineData("127.0.0.1.nip.io")]
    public async Task Server_OnLoopback_RefusesAForeignHostHeader(string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/info");
        request.Headers.Host = host;
        using var response = await vae.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("unexpected Host header", (await Read(response)).GetProperty("error").GetString());
        using var local = new HttpRequestMessage(HttpMethod.Get, "/api/info") { Headers = { Host = $"localhost:{vae.Server.Url.Port}" } };
        Assert.Equal(HttpStatusCode.OK, (await vae.Client.SendAsync(local)).StatusCode);
    }

    [MnistFact]
    public async Task Info_GivesTheTestMeansTheLibraryComputes()
    {
        var info = await Read(await cvae.Client.GetAsync("/api/info"));

        Assert.Equal(3, info.GetProperty("latent").GetInt32());
        Assert.Equal(10, info.GetProperty("classes").GetInt32());
        Assert.Equal(ExplorerFixture.Points, info.GetProperty("points").GetInt32());
        int[] labels = [.. cvae.Test.Labels.Select(l => (int)l)];
        var (mu, _) = cvae.Reference.Encode(cvae.Test.Gather([.. Enumerable.Range(0, ExplorerFixture.Points)]), labels);
        Assert.Equal(mu, Floats(info.GetProperty("means")));
        Assert.Equal(2 * 3, info.GetProperty("pcaComponents").GetArrayLength());
        // The page lays out the pixels by the model's image shape; MNIST's classes have no names.
        Assert.Equal((1, 28, 28), (info.GetProperty("imageChannels").GetInt32(), info.GetProperty("imageHeight").GetInt32(), info.GetProperty("imageWidth").GetInt32()));
        Assert.Equal(JsonValueKind.Null, info.GetProperty("classNames").ValueKind);
    }

    [MnistFact]
    public async Task Decode_EqualsTheLibrarysDecode()
    {
        float[] codes = [0.25f, -1.5f, 2f, 0.5f, 0f, -0.125f];
        using var response = await cvae.Client.PostAsync("/api/decode", Json("{\"codes\":[[0.25,-1.5,2],[0.5,0,-0.125]],\"labels\":[3,7]}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var pixels = (await Read(response)).GetProperty("pixels");

        float[] expected = cvae.Reference.Decode(codes, [3, 7]).Values;
        Assert.Equal(expected, pixels.EnumerateArray().SelectMany(Floats).ToArray());
    }

    [MnistFact]
    public async Task TestImage_GivesTheImageAndTheLibrarysReconstruction()
    {
        var body = await Read(await vae.Client.GetAsync("/api/test?index=42"));

        float[] image = vae.Test.Gather([42]).Values;
        Assert.Equal(vae.Test.Labels[42], body.GetProperty("label").GetInt32());
        Assert.Equal(image, Floats(body.GetProperty("image")));
        Assert.Equal(vae.Reference.Reconstruct(image).Values, Floats(body.GetProperty("reconstruction")));
    }

    [MnistFact]
    public async Task Encode_DrawnDigit_GivesCodeAndReconstruction()
    {
        float[] image = cvae.Test.Gather([5]).Values;
        string pixels = string.Join(",", image.Select(p => p.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        var body = await Read(await cvae.Client.PostAsync("/api/encode", Json($"{{\"pixels\":[{pixels}],\"label\":4}}")));

        var (mu, _) = cvae.Reference.Encode(image, [4]);
        Assert.Equal(mu, Floats(body.GetProperty("mu")));
        Assert.Equal(cvae.Reference.Decode(mu, [4]).Values, Floats(body.GetProperty("reconstruction")));
    }

    public static TheoryData<string, string, string> BadDecodes => new()
    {
        { "{", "", "not valid JSON" },
        { "[1,2]", "", "must be a JSON object" },
        { "{}", "", "codes must be an array" },
        { "{\"codes\":[],\"labels\":[]}", "", "codes must hold 1-64 items, got 0" },
        { "{\"codes\":[" + string.Join(",", Enumerable.Repeat("[0,0,0]", 65)) + "]}", "", "codes must hold 1-64 items, got 65" },
        { "{\"codes\":[[0,0]],\"labels\":[1]}", "", "codes[0] must be an array of 3 numbers" },
        { "{\"codes\":[[0,0,\"x\"]],\"labels\":[1]}", "", "codes[0] must hold finite numbers" },
        { "{\"codes\":[[0,0,1e999]],\"labels\":[1]}", "", "codes[0] must hold finite numbers" },
        { "{\"codes\":[[0,0,NaN]],\"labels\":[1]}", "", "not valid JSON" },
        { "{\"codes\":[[0,0,101]],\"labels\":[1]}", "", "numbers in [-100, 100]" },
        { "{\"codes\":[[0,0,0]]}", "", "labels must be an array" },
        { "{\"codes\":[[0,0,0]],\"labels\":[10]}", "", "labels[0] must be in 0-9, got 10" },
        { "{\"codes\":[[0,0,0]],\"labels\":[-1]}", "", "labels[0] must be in 0-9, got -1" },
        { "{\"codes\":[[0,0,0]],\"labels\":[1.5]}", "", "labels[0] must be an integer" },
        { "{\"codes\":[[0,0,0]],\"labels\":[1,2]}", "", "labels must hold 1 items, got 2" },
    };

    [MnistTheory]
    [MemberData(nameof(BadDecodes))]
    public async Task Decode_BadRequest_Is400WithAShortMessage(string body, string unused, string message)
    {
        _ = unused;
        using var response = await cvae.Client.PostAsync("/api/decode", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await Read(response)).GetProperty("error").GetString());
    }

    [MnistTheory]
    [InlineData("/api/test", "give exactly one index")]
    [InlineData("/api/test?index=-1", "index must be an integer in 0-299")]
    [InlineData("/api/test?index=abc", "index must be an integer")]
    [InlineData("/api/test?index=300", "index must be in 0-299, got 300")]
    [InlineData("/api/test?index=99999999999", "index must be an integer")]
    [InlineData("/api/test?index=1&path=/etc/passwd", "give exactly one index")]
    public async Task TestImage_BadIndex_Is400(string url, string message)
    {
        using var response = await vae.Client.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await Read(response)).GetProperty("error").GetString());
    }

    [MnistTheory]
    [InlineData("{\"pixels\":[0.5]}", "pixels must hold 784 items, got 1")]
    [InlineData("PIXELS_2", "pixels[0] must hold numbers in [0, 1], got 2")]
    [InlineData("PIXELS_0.5", "label is only for a conditional model")]
    public async Task Encode_BadRequest_Is400(string body, string message)
    {
        if (body.StartsWith("PIXELS_", StringComparison.Ordinal))
        {
            string first = body["PIXELS_".Length..];
            body = "{\"pixels\":[" + first + string.Concat(Enumerable.Repeat(",0", 783)) + "]" + (first == "0.5" ? ",\"label\":1" : "") + "}";
        }
        using var response = await vae.Client.PostAsync("/api/encode", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await Read(response)).GetProperty("error").GetString());
    }

    [MnistFact]
    public async Task Decode_BodyOverTheLimit_Is413()
    {
        string body = "{\"codes\":[[" + new string(' ', 70 * 1024) + "0,0]]}";
        using var response = await vae.Client.PostAsync("/api/decode", Json(body));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [MnistFact]
    public async Task Decode_OneCode_AnswersUnder50Milliseconds()
    {
        var times = new List<double>();
        // The first requests pay for JIT compilation; the explorer's user pays it once per server.
        for (int i = -5; i < 60; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await vae.Client.PostAsJsonAsync("/api/decode", new { codes = new[] { new[] { 0.01f * i, -0.5f } } });
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
            if (i >= 0)
                times.Add(watch.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        double median = times[times.Count / 2], p95 = times[(int)(times.Count * 0.95)];
        output.WriteLine($"decode round trip over HTTP: median {median:F2} ms, 95th percentile {p95:F2} ms, worst {times[^1]:F2} ms");
        Assert.True(median < 50, $"median decode round trip {median:F1} ms");
    }
}
