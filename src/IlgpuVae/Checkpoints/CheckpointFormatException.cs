namespace IlgpuVae.Checkpoints;

/// <summary>
/// Thrown when a checkpoint file is not a well-formed safetensors file: its header or its
/// layout contradicts itself or the file it lives in. The message is a single line naming
/// the file and the problem.
/// </summary>
internal sealed class CheckpointFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="filePath"/> and a one-line <paramref name="problem"/>.</summary>
    /// <param name="filePath">The file that was being read.</param>
    /// <param name="problem">What is wrong with it, as a short sentence fragment.</param>
    /// <param name="innerException">The lower-level error that revealed the problem, if any.</param>
    public CheckpointFormatException(string filePath, string problem, Exception? innerException = null)
        : base(FormatMessage(filePath, problem), innerException)
    {
        FilePath = filePath;
        Problem = OneLine(problem);
    }

    /// <summary>The path of the offending file, as given to the reader.</summary>
    public string FilePath { get; }

    /// <summary>The problem, without the file name.</summary>
    public string Problem { get; }

    private static string FormatMessage(string filePath, string problem) =>
        $"Invalid safetensors file '{filePath}': {OneLine(problem)}";

    private static string OneLine(string text) =>
        text.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\n', ' ').Replace('\r', ' ');
}
