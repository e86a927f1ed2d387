using System.Text.Json;
using IlgpuVae.Tests.Data;
using Xunit;
using static IlgpuVae.Tests.Benchmarks.BenchRunner;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Benchmarks;

/// <summary>The benchmarks tool's <c>train --rounds --peer</c>: interleaved rounds, the peer's figures read from its EPOCH lines.</summary>
public sealed class BenchTrainCommandTests
{
    // A stand-in peer: two epochs, the TorchSharp peer's line format; the last line is the round's figure.
    private const string Peer = "printf 'EPOCH 1 train_loss=9 train_s=2.50 train_cpu_s=4.00\\nEPOCH 2 train_loss=8 train_s=0.75 train_cpu_s=1.25 rss_mb=9\\n'";

    [MnistFact]
    public void Rounds_WithAPeer_ReportEachSidesMinimumAndMedian()
    {
        var (code, output, err) = Bench("train", "--data", TestData.MnistDirectory!, "--epochs", "2", "--limit", "256",
            "--rounds", "3", "--peer", Peer, "--device", "cpu", "--json");
        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        var rounds = root.GetProperty("rounds");
        var ours = rounds.GetProperty("ours");
        double[] walls = [.. ours.GetProperty("last_epoch_seconds").EnumerateArray().Select(e => e.GetDouble())];
        double[] cpu = [.. ours.GetProperty("cpu_seconds").EnumerateArray().Select(e => e.GetDouble())];
        Assert.Equal(3, walls.Length);
        Assert.Equal(3, cpu.Length);
        Assert.All(walls, w => Assert.True(w > 0));
        Assert.All(cpu, c => Assert.True(c > 0));
        Assert.Equal(walls.Min(), ours.GetProperty("min").GetDouble());
        Assert.Equal(walls.Order().ElementAt(1), ours.GetProperty("median").GetDouble());
        var peer = rounds.GetProperty("peer");
        Assert.Equal([0.75, 0.75, 0.75], peer.GetProperty("last_epoch_seconds").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal([1.25, 1.25, 1.25], peer.GetProperty("cpu_seconds").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal(walls.Min() / 0.75, rounds.GetProperty("ratio_min").GetDouble(), 12);
        Assert.True(root.GetProperty("peak_gflops").GetDouble() > 0);
        // 784-400-20: 6 FLOPs per forward multiply-add.
        Assert.Equal(6e-6 * (784 * 400 + 400 * 40 + 20 * 400 + 400 * 784), root.GetProperty("mflop_per_image").GetDouble(), 9);
    }

    [MnistTheory]
    [InlineData("echo no such peer >&2; exit 3", "exited with code 3 (no such peer)")]
    [InlineData("echo hello", "printed no 'EPOCH ... train_s=S' line")]
    public void Peer_ThatFailsOrPrintsNoEpoch_IsAOneLineUsageError(string peer, string message)
    {
        var (code, _, err) = Bench("train", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "128",
            "--peer", peer, "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, message);
    }

    [Fact]
    public void Rounds_Zero_IsAUsageError()
    {
        var (code, _, err) = Bench("train", "--rounds", "0");
        Assert.Equal(2, code);
        AssertOneLineError(err, "--rounds");
    }
}
