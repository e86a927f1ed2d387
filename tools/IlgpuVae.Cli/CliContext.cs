namespace IlgpuVae.Cli;

/// <summary>What every command writes to and stops on: the output streams and the Ctrl+C token.</summary>
public sealed record CliContext(TextWriter Out, TextWriter Err, CancellationToken Token);
