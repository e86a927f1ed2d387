using System.Globalization;

namespace IlgpuVae.Data;

/// <summary>
/// Real-valued vectors from a file: a CSV file (a header row of column names, then one row of numbers per vector; one
/// column may hold an integer label) or an N x D float32 .npy array. Every value must be a finite number and every
/// column must vary; the first fault is reported as one line naming the row and the column.
/// </summary>
/// <remarks>
/// No CSV library: the format read here is numbers separated by commas under a header, which a few lines read exactly
/// and with the row and column of a fault; fields may be wrapped in double quotes (a header written by pandas or Excel),
/// but a field may not hold a comma or a line break. This keeps the core free of a dependency an app would inherit.
/// </remarks>
internal static class VectorFile
{
    /// <summary>Reads <paramref name="path"/>: a .npy array when it ends in .npy, else CSV.</summary>
    /// <param name="path">The file.</param>
    /// <param name="labelColumn">For CSV, the name of the label column (integers 0-255), or null for none.</param>
    /// <returns>The set of vectors, in file order.</returns>
    /// <exception cref="InvalidDataException">The file is malformed; the message names the row and column.</exception>
    public static ImageSet Read(string path, string? labelColumn)
    {
        if (!Path.Exists(path))
            throw new FileNotFoundException($"{path} not found", path);
        if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            if (labelColumn is not null)
                throw new InvalidDataException($"{path}: a .npy array has no named columns; a label column is for CSV files");
            return FromNpy(path, Npy.Read(path), null);
        }
        return ReadCsv(path, labelColumn);
    }

    /// <summary>An N x D float32 array as a set of vectors.</summary>
    public static ImageSet FromNpy(string path, NpyArray array, byte[]? labels)
    {
        if (array.Shape is not [int count, int dims] || count == 0 || dims == 0)
            throw new InvalidDataException($"{path}: vectors are an N x D array; got ({string.Join(", ", array.Shape)})");
        if (array.Type != "f4")
            throw new InvalidDataException($"{path}: vectors of {array.Type}; give float32");
        var values = array.Floats();
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new InvalidDataException($"{path}: row {i / dims + 1}, column {i % dims + 1}: {Text(values[i])} is not a finite number");
        CheckVaries(path, values, dims, c => $"column {c + 1}");
        return ImageSet.FromVectors(values, dims, labels);
    }

    private static ImageSet ReadCsv(string path, string? labelColumn)
    {
        using var reader = new StreamReader(path);
        string? header = reader.ReadLine();
        if (header is null || header.Trim().Length == 0)
            throw new InvalidDataException($"{path}: empty; a CSV file of vectors starts with a header row of column names");
        var names = Fields(header);
        int label = -1;
        if (labelColumn is not null)
        {
            label = Array.IndexOf(names, labelColumn);
            if (label < 0)
                throw new InvalidDataException($"{path}: no column '{labelColumn}' in the header ({string.Join(", ", names)})");
        }
        int dims = names.Length - (label >= 0 ? 1 : 0);
        if (dims == 0)
            throw new InvalidDataException($"{path}: no numeric column besides the label");
        var values = new List<float>();
        var labels = new List<byte>();
        int line = 1, row = 0;
        for (string? text = reader.ReadLine(); text is not null; text = reader.ReadLine())
        {
            line++;
            if (text.Length == 0)
                continue;
            row++;
            var fields = Fields(text);
            if (fields.Length != names.Length)
                throw new InvalidDataException($"{path}: row {row} (line {line}) has {fields.Length} columns; the header has {names.Length}");
            for (int c = 0; c < fields.Length; c++)
            {
                string where = $"{path}: row {row} (line {line}), column '{names[c]}'";
                if (fields[c].Length == 0)
                    throw new InvalidDataException($"{where}: missing value");
                if (c == label)
                {
                    if (!byte.TryParse(fields[c], NumberStyles.Integer, CultureInfo.InvariantCulture, out byte l))
                        throw new InvalidDataException($"{where}: label '{fields[c]}' is not an integer 0-255");
                    labels.Add(l);
                    continue;
                }
                if (!float.TryParse(fields[c], NumberStyles.Float, CultureInfo.InvariantCulture, out float v))
                    throw new InvalidDataException($"{where}: '{fields[c]}' is not a number");
                if (!float.IsFinite(v))
                    throw new InvalidDataException($"{where}: {fields[c]} is not a finite number");
                values.Add(v);
            }
        }
        if (row == 0)
            throw new InvalidDataException($"{path}: a header and no rows");
        var array = values.ToArray();
        var numeric = Enumerable.Range(0, names.Length).Where(c => c != label).ToArray();
        CheckVaries(path, array, dims, c => $"column '{names[numeric[c]]}'");
        return ImageSet.FromVectors(array, dims, label >= 0 ? labels.ToArray() : null);
    }

    // A constant column has no standard deviation to standardise by, and nothing to learn.
    private static void CheckVaries(string path, float[] values, int dims, Func<int, string> column)
    {
        int count = values.Length / dims;
        for (int c = 0; c < dims; c++)
        {
            float first = values[c];
            bool varies = false;
            for (int r = 1; r < count && !varies; r++)
                varies = values[r * dims + c] != first;
            if (!varies)
                throw new InvalidDataException($"{path}: rows 1-{count}, {column(c)}: constant ({Text(first)} in every row); drop it");
        }
    }

    private static string[] Fields(string line)
    {
        var fields = line.TrimEnd('\r').Split(',');
        for (int i = 0; i < fields.Length; i++)
        {
            string f = fields[i].Trim();
            if (f.Length >= 2 && f[0] == '"' && f[^1] == '"')
                f = f[1..^1].Trim();
            fields[i] = f;
        }
        return fields;
    }

    private static string Text(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
