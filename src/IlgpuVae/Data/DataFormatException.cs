namespace IlgpuVae.Data;

/// <summary>
/// A data file exists but its content is not what it should be: bad IDX header, wrong size,
/// out-of-range labels, mismatched image and label files. The message is one line that names
/// the file and the problem, so a command-line tool can print it as is.
/// </summary>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception with a one-line message naming the file and the problem.</summary>
    /// <param name="message">The one-line message.</param>
    public DataFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a one-line message and the error that caused it.</summary>
    /// <param name="message">The one-line message.</param>
    /// <param name="innerException">The underlying error (for example a corrupt gzip stream).</param>
    public DataFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
