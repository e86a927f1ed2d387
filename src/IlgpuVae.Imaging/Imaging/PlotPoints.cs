namespace IlgpuVae.Imaging;

/// <summary>
/// The checks of the points and labels a plot (or the t-SNE that lays one out) is given: this package's own
/// argument checks, as the core checks the arguments of its analyses; one line each, naming the argument.
/// </summary>
internal static class PlotPoints
{
    /// <summary>Checks a row-major point matrix and returns its row count.</summary>
    /// <param name="points">Row-major n x <paramref name="dims"/> values; all must be finite.</param>
    /// <param name="dims">Values per row, at least 1.</param>
    /// <param name="name">The argument's name.</param>
    /// <returns>The number of rows.</returns>
    public static int Rows(float[] points, int dims, string name)
    {
        ArgumentNullException.ThrowIfNull(points, name);
        ArgumentOutOfRangeException.ThrowIfLessThan(dims, 1, nameof(dims));
        if (points.Length % dims != 0)
            throw new ArgumentException($"Length {points.Length} is not a multiple of dims = {dims}.", name);
        int at = Array.FindIndex(points, v => !float.IsFinite(v));
        if (at >= 0)
            throw new ArgumentException($"Value at index {at} (row {at / dims}, column {at % dims}) is {points[at]}; points must be finite.", name);
        return points.Length / dims;
    }

    /// <summary>Checks that <paramref name="labels"/> has one entry per row.</summary>
    /// <param name="labels">Labels, one per row.</param>
    /// <param name="rows">The rows.</param>
    /// <param name="name">The argument's name.</param>
    public static void Labels(int[] labels, int rows, string name)
    {
        ArgumentNullException.ThrowIfNull(labels, name);
        if (labels.Length != rows)
            throw new ArgumentException($"Expected {rows} labels (one per point) but got {labels.Length}.", name);
    }
}
