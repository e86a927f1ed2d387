using IlgpuVae.Tests.Data;
using Xunit;

namespace IlgpuVae.Tests.Packaging;

/// <summary>
/// README's C# blocks are the text of snippet classes in this folder (ProgressSnippet, OwnImagesSnippet, ...): each
/// block is the snippet file's regions between "// README begin" and "// README end", each region moved left by its
/// begin marker's indentation and the regions separated by one blank line (so a region of using directives at the top
/// of the file and one inside a method make one block). The snippet classes compile with the tests, so every block
/// compiles; the tests that can also run them do.
/// </summary>
internal static class ReadmeSnippets
{
    private const string Begin = "// README begin", End = "// README end";

    /// <summary>Asserts that the C# block of README's section <paramref name="heading"/> that contains
    /// <paramref name="marker"/> is the text of <paramref name="snippetFile"/>'s regions.</summary>
    public static void AssertBlockIsSnippet(string heading, string marker, string snippetFile)
    {
        string root = TestData.RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        int section = readme.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.True(section >= 0, $"README has no '{heading}' section");
        int sectionEnd = readme.IndexOf("\n## ", section + 1, StringComparison.Ordinal);
        string text = readme[section..(sectionEnd < 0 ? readme.Length : sectionEnd)];
        int at = text.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"README's '{heading}' has no block with '{marker}'");
        int start = text.LastIndexOf("```csharp\n", at, StringComparison.Ordinal);
        Assert.True(start >= 0, $"'{marker}' in README's '{heading}' is in no C# block");
        start += "```csharp\n".Length;
        string block = text[start..text.IndexOf("```", start, StringComparison.Ordinal)];

        Assert.Equal(Snippet(snippetFile).TrimEnd(), block.TrimEnd());
    }

    /// <summary>The README text of a snippet file in tests/IlgpuVae.Tests/Packaging.</summary>
    public static string Snippet(string snippetFile)
    {
        string path = Path.Combine(TestData.RepositoryRoot(), "tests", "IlgpuVae.Tests", "Packaging", snippetFile);
        string[] lines = File.ReadAllText(path).ReplaceLineEndings("\n").Split('\n');
        var regions = new List<string>();
        for (int i = 0; i < lines.Length; i++)
        {
            int indent = lines[i].IndexOf(Begin, StringComparison.Ordinal);
            if (indent < 0 || lines[i].Trim() != Begin)
                continue;
            var region = new System.Text.StringBuilder();
            int j = i + 1;
            for (; j < lines.Length && lines[j].Trim() != End; j++)
                region.Append(lines[j].Length >= indent ? lines[j][indent..] : "").Append('\n');
            Assert.True(j < lines.Length, $"{snippetFile}: '{Begin}' at line {i + 1} has no '{End}'");
            regions.Add(region.ToString());
            i = j;
        }
        Assert.NotEmpty(regions);
        return string.Join("\n", regions);
    }
}
