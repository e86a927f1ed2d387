using IlgpuVae.Checkpoints;
using IlgpuVae.Data;

namespace IlgpuVae.Cli;

/// <summary>
/// The one place that knows which library failures are expected (a one-line error, exit code 1) and which
/// command-line flag helps with each: the library says what is wrong, the CLI says what to type.
/// </summary>
public static class ErrorHints
{
    public static bool IsExpected(Exception e) => e is DataLoadException
        // PlatformNotSupportedException too (a NotSupportedException): a device the machine lacks.
        or InvalidDataException or IOException
        or UnauthorizedAccessException or ArgumentException or OperationCanceledException
        // A model the ONNX exporter cannot map (a layer type it does not know yet).
        or NotSupportedException;

    /// <summary>Whether a failure is the user's input to fix, as a usage error is (exit code 2): a data file that is
    /// corrupt or mismatched (named in the message). A damaged model file is not: that is exit code 1.</summary>
    public static bool IsBadInput(Exception e) => e is DataLoadException { InnerException: InvalidDataException };

    /// <summary>"; use --device ..." and the like, or "" when no flag helps.</summary>
    public static string For(Exception e) => e switch
    {
        // ComputeDevice.Open: the machine has no device of the kind asked for.
        PlatformNotSupportedException => "; use --device auto or --device cpu",
        DataLoadException { InnerException: ArgumentException } noTest when noTest.Message.Contains("no test images", StringComparison.Ordinal) => "; give --test-images or --test-fraction F",
        DataLoadException { InnerException: FileNotFoundException } => $"; pass --data DIR, --dataset NAME or set {DataFiles.DataEnvironmentVariable}",
        _ => "",
    };

    /// <summary>The hint for a training run that diverged.</summary>
    public const string Diverged = "; try a lower --lr";

    /// <summary>The hint for a resumed run that diverged: a resume keeps the learning rate.</summary>
    public const string DivergedOnResume = "; a resume keeps the run's learning rate: start a new run with a lower --lr";

    public static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}

/// <summary>
/// A failure while reading the data the user named: the library's exception (kept as the inner one) marked as being
/// about the data. The library throws .NET's <see cref="FileNotFoundException"/> and <see cref="InvalidDataException"/>
/// for data files and model files alike; only a load wrapped in <see cref="Run{T}"/> gets the data hints of
/// <see cref="ErrorHints.For"/>, and a malformed data file the exit code of a usage error.
/// </summary>
public sealed class DataLoadException(Exception inner) : Exception(inner.Message, inner)
{
    /// <summary>Runs a data load, marking a missing or malformed file, or a load the arguments do not allow (no test
    /// split and no fraction), as the data's failure.</summary>
    public static T Run<T>(Func<T> load)
    {
        try
        {
            return load();
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException or ArgumentException)
        {
            throw new DataLoadException(e);
        }
    }
}
