using System.Diagnostics;
using System.Net;
using System.Text.Json;
using IlgpuVae.Data;
using IlgpuVae.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace IlgpuVae.Explorer;

/// <summary>Where and what the explorer serves.</summary>
public sealed record ExplorerOptions
{
    /// <summary>The address to listen on: loopback unless the caller says otherwise.</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>The port; 0 picks a free one.</summary>
    public int Port { get; init; } = 5178;

    /// <summary>How many test images (the first ones) the scatter shows.</summary>
    public int Points { get; init; } = 2000;

    /// <summary>Where a request that failed on the server's side (HTTP 500) is logged, one line each; null for nowhere.</summary>
    public TextWriter? Log { get; init; }
}

/// <summary>
/// The latent-space explorer: one page (served from this assembly) and a small JSON API over a loaded model. Every
/// decode and encode runs through the library on the model's device, so what the page draws is exactly
/// <see cref="VaeModel.Decode(ReadOnlySpan{float}, ReadOnlySpan{int})"/>. Requests are validated (lengths, ranges, finite numbers) and refused with 400 and a
/// short message; bodies are capped at <see cref="MaxBodyBytes"/> (413); no request names a file.
/// </summary>
public sealed class ExplorerServer : IAsyncDisposable
{
    /// <summary>The largest request body accepted: a drawn digit (784 numbers) or 64 codes fit with room to spare.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private static readonly HashSet<string> LoopbackHosts = new(StringComparer.OrdinalIgnoreCase) { "127.0.0.1", "localhost", "[::1]", "::1" };
    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
    private readonly WebApplication _app;
    private readonly VaeModel _model;
    private readonly LatentView _view;
    // A model serves one call at a time.
    private readonly Lock _gate = new();

    private ExplorerServer(WebApplication app, VaeModel model, LatentView view)
    {
        _app = app;
        _model = model;
        _view = view;
    }

    /// <summary>The page's address, e.g. http://127.0.0.1:5178/.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Encodes the scatter's test images and starts listening.</summary>
    /// <param name="model">The model; the caller keeps owning it and disposes it after the server.</param>
    /// <param name="test">The test set whose latent means the scatter shows.</param>
    /// <param name="options">Address, port and point count.</param>
    /// <param name="cancellationToken">Stops the start.</param>
    /// <returns>The running server.</returns>
    public static async Task<ExplorerServer> StartAsync(VaeModel model, ImageSet test, ExplorerOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Port, 65535);
        var view = new LatentView(model, test, options.Points);
        // The empty builder reads no appsettings.json and no ASPNETCORE_ variables: nothing in the working directory or
        // the environment can add an endpoint or change a limit.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [], EnvironmentName = Environments.Production });
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Listen(options.Address, options.Port);
        });
        var app = builder.Build();
        var server = new ExplorerServer(app, model, view);
        server.Map(app, IPAddress.IsLoopback(options.Address), options.Log);
        await app.StartAsync(cancellationToken);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    /// <summary>Stops listening.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void Map(WebApplication app, bool loopback, TextWriter? log)
    {
        app.Use(async (context, next) =>
        {
            // On loopback, a page elsewhere must not reach the server through a name that resolves here (DNS rebinding).
            if (loopback && !LoopbackHosts.Contains(context.Request.Host.Host))
            {
                await Error(context, StatusCodes.Status400BadRequest, "unexpected Host header");
                return;
            }
            var headers = context.Response.Headers;
            headers["X-Content-Type-Options"] = "nosniff";
            headers["Cache-Control"] = "no-store";
            // The page loads nothing from elsewhere.
            headers["Content-Security-Policy"] = "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:";
            try
            {
                await next(context);
            }
            catch (BadRequestException e)
            {
                await Error(context, StatusCodes.Status400BadRequest, e.Message);
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                await Error(context, e.StatusCode, $"the body is larger than {MaxBodyBytes} bytes");
            }
            catch (Exception e) when (e is not OperationCanceledException && !context.Response.HasStarted)
            {
                // The server's fault, not the request's: a 500 that says what happened, and a line in the log.
                string message = e.Message.ReplaceLineEndings(" ").Trim();
                log?.WriteLine($"explorer: {context.Request.Method} {context.Request.Path}: {message}");
                await Error(context, StatusCodes.Status500InternalServerError, message);
            }
        });
        app.MapGet("/", () => Results.Stream(Page(), "text/html; charset=utf-8"));
        app.MapGet("/api/info", (Func<IResult>)Info);
        app.MapPost("/api/decode", (Func<HttpContext, Task<IResult>>)Decode);
        app.MapPost("/api/encode", (Func<HttpContext, Task<IResult>>)Encode);
        app.MapGet("/api/test", (Func<HttpContext, IResult>)TestImage);
    }

    private IResult Info()
    {
        var config = _model.Config;
        return Results.Json(new
        {
            model = config.ToString(),
            kind = config.Kind,
            inputSize = config.InputSize,
            imageChannels = config.ImageChannels,
            imageHeight = config.ImageHeight,
            imageWidth = config.ImageWidth,
            // The class folders' names a model trained on a folder of pictures records; null for numbered classes.
            classNames = IlgpuVae.Data.ImageData.ClassNamesIn(_model.Metadata),
            latent = config.Latent,
            classes = config.Classes,
            maxCodes = ExplorerRequests.MaxCodes,
            maxCoordinate = ExplorerRequests.MaxCoordinate,
            points = _view.Count,
            labels = _view.Labels,
            means = _view.Means,
            pcaMean = _view.PcaMean,
            pcaComponents = _view.PcaComponents,
        }, s_json);
    }

    private async Task<IResult> Decode(HttpContext context)
    {
        var body = ExplorerRequests.Object(await Body(context));
        var config = _model.Config;
        float[] codes = ExplorerRequests.Codes(body, config.Latent);
        int count = codes.Length / config.Latent;
        int[] labels = ExplorerRequests.Labels(body, count, config.Classes);
        var watch = Stopwatch.StartNew();
        float[] pixels;
        lock (_gate)
            pixels = _model.Decode(codes, labels).Values;
        double milliseconds = watch.Elapsed.TotalMilliseconds;
        return Results.Json(new { pixels = Rows(pixels, config.InputSize), milliseconds }, s_json);
    }

    private async Task<IResult> Encode(HttpContext context)
    {
        var body = ExplorerRequests.Object(await Body(context));
        var config = _model.Config;
        float[] pixels = ExplorerRequests.Pixels(body, config.InputSize);
        int[] labels = ExplorerRequests.Label(body, config.Classes) is int label ? [label] : [];
        float[] mu, logvar, reconstruction;
        lock (_gate)
        {
            (mu, logvar) = _model.Encode(pixels, labels);
            reconstruction = _model.Decode(mu, labels).Values;
        }
        return Results.Json(new { mu, logvar, reconstruction }, s_json);
    }

    private IResult TestImage(HttpContext context)
    {
        var query = context.Request.Query;
        if (query.Count != 1 || query["index"].Count != 1)
            throw new BadRequestException("give exactly one index");
        int index = ExplorerRequests.QueryInteger(query["index"][0], "index", 0, _view.Count - 1);
        int d = _model.Config.InputSize;
        float[] image = _view.Images.AsSpan(index * d, d).ToArray();
        int label = _view.Labels[index];
        float[] reconstruction;
        lock (_gate)
            reconstruction = _model.Reconstruct(image, _model.Config.IsConditional ? [label] : default).Values;
        float[] mu = _view.Means.AsSpan(index * _model.Config.Latent, _model.Config.Latent).ToArray();
        return Results.Json(new { index, label, image, reconstruction, mu }, s_json);
    }

    private static float[][] Rows(float[] values, int width) =>
        [.. Enumerable.Range(0, values.Length / width).Select(r => values.AsSpan(r * width, width).ToArray())];

    private static async Task<byte[]> Body(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes)
            throw new Microsoft.AspNetCore.Http.BadHttpRequestException("too large", StatusCodes.Status413PayloadTooLarge);
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
                throw new Microsoft.AspNetCore.Http.BadHttpRequestException("too large", StatusCodes.Status413PayloadTooLarge);
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static Task Error(HttpContext context, int status, string message)
    {
        context.Response.Clear();
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { error = message });
    }

    private static Stream Page() =>
        typeof(ExplorerServer).Assembly.GetManifestResourceStream("IlgpuVae.Explorer.index.html")
        ?? throw new InvalidOperationException("the explorer page is missing from the assembly");
}
