namespace IlgpuVae.Tests.Benchmarks;

/// <summary>Runs the benchmarks tool (tools/IlgpuVae.Benchmarks) in-process, capturing its output, as CliRunner runs ilgpu-vae.</summary>
public static class BenchRunner
{
    public static (int Code, string Out, string Err) Bench(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = global::IlgpuVae.Benchmarks.Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
