using System.CommandLine;
using System.Net;
using IlgpuVae.Explorer;
using IlgpuVae.Models;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>explore</c>: serves the latent-space explorer page for a model until Ctrl+C.</summary>
public static class ExploreCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("explore",
        "serve a page for moving through the latent space in a browser (loopback only unless --host says otherwise)",
        [
            ModelOption,
            new("--port", "port to listen on (0 picks a free one)", "N", "5178") { Aliases = ["-p"] },
            new("--host", "address to listen on: 127.0.0.1, ::1, localhost, or another IP address to serve beyond this machine", "H", "127.0.0.1"),
            new("--points", "test images in the latent scatter", "N", "2000"),
            .. DataOptions,
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli));

    private static int Run(ParsedOptions options, CliContext cli)
    {
        int port = options.Int("--port", 0, 65535);
        int points = options.Int("--points", 2);
        string host = options.RequiredString("--host");
        IPAddress address = host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var parsed) ? parsed
            : throw new UsageException($"option '--host' expects an IP address or localhost, got '{host}'");
        string path = ModelPath(options);
        // The tool runs on the .NET runtime alone; the explorer's ASP.NET Core comes from the shared framework, here.
        AspNetCoreRuntime.Require();
        return Serve(options, cli, address, port, points, path);
    }

    // Apart from Run, so that nothing of the explorer is loaded before AspNetCoreRuntime.Require has run.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int Serve(ParsedOptions options, CliContext cli, IPAddress address, int port, int points, string path)
    {
        var (stdout, stderr, token) = cli;
        // The device first: a wrong --device fails before anything is fetched.
        using var device = OpenDevice(options);
        var data = LoadData(options, stderr, trainLimit: 1, token: token);
        using var model = VaeModel.Load(device, path);
        model.CheckCompatible(data.Test);
        if (!IPAddress.IsLoopback(address))
            stderr.WriteLine($"warning: listening on {address}, reachable beyond this machine");
        var server = ExplorerServer.StartAsync(model, data.Test, new ExplorerOptions { Address = address, Port = port, Points = points, Log = stderr }, token)
            .GetAwaiter().GetResult();
        try
        {
            stdout.WriteLine($"explorer for {model.Config} on {device.Description}: {server.Url} (Ctrl+C stops it)");
            stdout.Flush();
            token.WaitHandle.WaitOne();
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        stdout.WriteLine("stopped");
        // Stopped by a signal, as README's table says: 130 (Ctrl+C), which the caller turns into 143 or 129.
        return 130;
    }
}
