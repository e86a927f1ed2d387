namespace IlgpuVae.Data;

/// <summary>Fetches MNIST's gzipped files from the public HTTP mirrors, each verified before it is kept.</summary>
internal static class MirrorSource
{
    /// <summary>Tries each mirror for each missing file; what arrives verified leaves <paramref name="missing"/>, and
    /// why the rest did not goes into <paramref name="failures"/>.</summary>
    internal static async Task FetchAsync(
        string directory, List<string> missing, MnistFetchOptions options, IProgress<string>? log, List<string> failures, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler { ConnectTimeout = options.ConnectTimeout };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("ilgpu-vae/1.0");

        // A mirror that cannot be reached at all is dropped for the remaining files, so an
        // offline machine pays the connect timeout once per mirror, not once per file.
        var live = new List<string>(options.Mirrors);
        var reasons = new Dictionary<string, string>();
        foreach (string name in missing.ToArray())
        {
            foreach (string mirror in live.ToArray())
            {
                var url = new Uri(new Uri(mirror), name + ".gz");
                log?.Report($"{name}: downloading {url}");
                try
                {
                    await DownloadAsync(client, url, Path.Combine(directory, name + ".gz"), name, options, cancellationToken).ConfigureAwait(false);
                    log?.Report($"{name}: downloaded and verified");
                    missing.Remove(name);
                    break;
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && FetchErrors.IsSourceFailure(ex))
                {
                    string reason = FetchErrors.OneLine(ex is OperationCanceledException ? "timed out" : ex.Message);
                    log?.Report($"{name}: {url.Host} failed: {reason}");
                    reasons[url.Host] = reason;
                    if (ex is OperationCanceledException || ex is HttpRequestException { StatusCode: null })
                    {
                        live.Remove(mirror);
                    }
                }
            }

            if (live.Count == 0)
            {
                break;
            }
        }

        if (missing.Count > 0)
        {
            // Socket errors already name the host; others (HTTP status, timeouts) need it added.
            failures.Add("mirrors: " + string.Join(", ", reasons.Select(r => r.Value.Contains(r.Key, StringComparison.OrdinalIgnoreCase) ? r.Value : $"{r.Key} {r.Value}")));
        }
    }

    private static async Task DownloadAsync(HttpClient client, Uri url, string target, string name, MnistFetchOptions options, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        using HttpResponseMessage response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();

        // The server answered: give the body the longer download budget.
        timeout.CancelAfter(options.DownloadTimeout);
        await using Stream body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        await VerifiedFiles.StoreVerifiedAsync(body, target, name, timeout.Token).ConfigureAwait(false);
    }
}
