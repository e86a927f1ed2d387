using IlgpuVae.Checkpoints;
using IlgpuVae.Compute;
using IlgpuVae.Data;

namespace IlgpuVae.Cli;

/// <summary>
/// The one place that knows which library failures are expected (a one-line error, exit code 1) and which
/// command-line flag helps with each: the library says what is wrong, the CLI says what to type.
/// </summary>
public static class ErrorHints
{
    public static bool IsExpected(Exception e) => e is DataFormatException or DataUnavailableException
        or DeviceUnavailableException or InvalidDataException or IOException
        or UnauthorizedAccessException or ArgumentException or OperationCanceledException
        // A model the ONNX exporter cannot map (a layer type it does not know yet).
        or NotSupportedException;

    /// <summary>"; use --device ..." and the like, or "" when no flag helps.</summary>
    public static string For(Exception e) => e switch
    {
        DeviceUnavailableException => "; use --device auto or --device cpu",
        DataUnavailableException unavailable when unavailable.Message.Contains("no test images", StringComparison.Ordinal) => "; give --test-images or --test-fraction F",
        DataUnavailableException => $"; pass --data DIR, --dataset NAME or set {KnownDataSets.DataEnvironmentVariable}",
        _ => "",
    };

    /// <summary>The hint for a training run that diverged.</summary>
    public const string Diverged = "; try a lower --lr";

    /// <summary>The hint for a resumed run that diverged: a resume keeps the learning rate.</summary>
    public const string DivergedOnResume = "; a resume keeps the run's learning rate: start a new run with a lower --lr";

    public static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
