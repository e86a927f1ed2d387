using System.Text.Json;

namespace IlgpuVae.Explorer;

/// <summary>A request the server refuses with 400 and this one-line message.</summary>
internal sealed class BadRequestException(string message) : Exception(message);

/// <summary>
/// Reads and validates the JSON bodies and query values of the explorer's API: shapes, lengths, ranges, and
/// finiteness, each fault a <see cref="BadRequestException"/> with a short message. Nothing read here names a file.
/// </summary>
internal static class ExplorerRequests
{
    /// <summary>The most codes one decode request may carry.</summary>
    public const int MaxCodes = 64;

    /// <summary>The largest magnitude a latent coordinate may have: the prior is N(0, I), so 100 is far outside it.</summary>
    public const float MaxCoordinate = 100f;

    /// <summary>Parses a body as one JSON object.</summary>
    public static JsonElement Object(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException)
        {
            throw new BadRequestException("the body is not valid JSON");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new BadRequestException("the body must be a JSON object");
            return document.RootElement.Clone();
        }
    }

    /// <summary>"codes": 1 to <see cref="MaxCodes"/> rows of <paramref name="latent"/> numbers, flattened.</summary>
    public static float[] Codes(JsonElement body, int latent)
    {
        var rows = Array(body, "codes", 1, MaxCodes);
        var codes = new float[rows.Count * latent];
        for (int r = 0; r < rows.Count; r++)
        {
            if (rows[r].ValueKind != JsonValueKind.Array || rows[r].GetArrayLength() != latent)
                throw new BadRequestException($"codes[{r}] must be an array of {latent} numbers");
            int c = 0;
            foreach (var value in rows[r].EnumerateArray())
                codes[r * latent + c++] = Number(value, $"codes[{r}]", -MaxCoordinate, MaxCoordinate);
        }
        return codes;
    }

    /// <summary>"labels" for a conditional model: <paramref name="count"/> digits in 0..classes-1; absent otherwise.</summary>
    public static int[] Labels(JsonElement body, int count, int classes)
    {
        if (classes == 0)
        {
            if (body.TryGetProperty("labels", out _))
                throw new BadRequestException("labels are only for a conditional model");
            return [];
        }
        var items = Array(body, "labels", count, count);
        return [.. items.Select((e, i) => Integer(e, $"labels[{i}]", 0, classes - 1))];
    }

    /// <summary>"pixels": exactly <paramref name="size"/> numbers in [0, 1].</summary>
    public static float[] Pixels(JsonElement body, int size)
    {
        var items = Array(body, "pixels", size, size);
        return [.. items.Select((e, i) => Number(e, $"pixels[{i}]", 0f, 1f))];
    }

    /// <summary>"label" for a conditional model (required), absent for a plain one.</summary>
    public static int? Label(JsonElement body, int classes)
    {
        bool given = body.TryGetProperty("label", out var value);
        if (classes == 0)
            return given ? throw new BadRequestException("label is only for a conditional model") : null;
        if (!given)
            throw new BadRequestException("a conditional model needs a label");
        return Integer(value, "label", 0, classes - 1);
    }

    /// <summary>A query integer in [min, max].</summary>
    public static int QueryInteger(string? text, string name, int min, int max)
    {
        if (text is null || text.Length > 10 || !int.TryParse(text, System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out int value))
            throw new BadRequestException($"{name} must be an integer in {min}-{max}");
        return value >= min && value <= max ? value : throw new BadRequestException($"{name} must be in {min}-{max}, got {value}");
    }

    private static List<JsonElement> Array(JsonElement body, string name, int min, int max)
    {
        if (!body.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new BadRequestException($"{name} must be an array");
        int length = array.GetArrayLength();
        if (length < min || length > max)
            throw new BadRequestException(min == max ? $"{name} must hold {min} items, got {length}" : $"{name} must hold {min}-{max} items, got {length}");
        return [.. array.EnumerateArray()];
    }

    private static float Number(JsonElement value, string name, float min, float max)
    {
        // JSON has no NaN or infinity; a literal too large for a double fails TryGetDouble.
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number) || !double.IsFinite(number))
            throw new BadRequestException($"{name} must hold finite numbers");
        if (number < min || number > max)
            throw new BadRequestException($"{name} must hold numbers in [{min}, {max}], got {number}");
        return (float)number;
    }

    private static int Integer(JsonElement value, string name, int min, int max)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int number))
            throw new BadRequestException($"{name} must be an integer");
        return number >= min && number <= max ? number : throw new BadRequestException($"{name} must be in {min}-{max}, got {number}");
    }
}
