namespace IlgpuVae.Data;

/// <summary>How the fetchers tell a source that did not work (try the next one) from a real error.</summary>
internal static class FetchErrors
{
    /// <summary>Errors that mean "this source did not work, try the next one".</summary>
    internal static bool IsSourceFailure(Exception ex) =>
        ex is HttpRequestException or IOException or InvalidDataException or OperationCanceledException
            or UnauthorizedAccessException or FormatException or System.ComponentModel.Win32Exception;

    /// <summary>A message on one line.</summary>
    internal static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
