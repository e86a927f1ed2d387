namespace IlgpuVae.Data;

/// <summary>
/// The data set is not where it was looked for and could not be obtained. The message is one
/// line that says what is missing and what was tried; it names no command-line flag (the CLI adds
/// its own hint: pass a directory, or set <c>ILGPU_VAE_DATA</c>).
/// </summary>
public sealed class DataUnavailableException : Exception
{
    /// <summary>Creates the exception with a one-line message.</summary>
    /// <param name="message">What was tried and how to supply the files.</param>
    public DataUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a one-line message and the error that caused it.</summary>
    /// <param name="message">What was tried and how to supply the files.</param>
    /// <param name="innerException">The underlying error.</param>
    public DataUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
