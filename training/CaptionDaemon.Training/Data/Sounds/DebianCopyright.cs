using System.Text.RegularExpressions;

namespace CaptionDaemon.Training.Data.Sounds;

/// <summary>Reads the licence out of a Debian copyright file (machine-readable DEP-5, or the free text of older packages).</summary>
internal static partial class DebianCopyright
{
    /// <summary>
    /// The licence of the package's own files: with <paramref name="fileName"/>, the <c>License:</c> of the first DEP-5
    /// <c>Files:</c> stanza that names that file (a soundfont inside a package of other things: denemo-data's A320U.sf2 is
    /// GPL-2 where the package's first stanza says GPL-3+); else of the first <c>Files:</c> stanza that is not about
    /// <c>debian/*</c>; for free-text files, the licence named in "released under the X license"; else the first
    /// <c>License:</c> line with a value; null when none of these is there.
    /// </summary>
    public static string? License(string text, string? fileName = null)
    {
        var stanzas = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n");
        if (fileName is not null)
        {
            foreach (var stanza in stanzas)
            {
                var named = Field(stanza, "Files")?.Split(' ', '\t').Any(f => string.Equals(Path.GetFileName(f), fileName, StringComparison.OrdinalIgnoreCase));
                if (named == true && Field(stanza, "License") is { Length: > 0 } license)
                {
                    return license;
                }
            }
        }

        foreach (var stanza in stanzas)
        {
            var files = Field(stanza, "Files");
            if (files is not null && !files.StartsWith("debian/", StringComparison.Ordinal) && Field(stanza, "License") is { Length: > 0 } license)
            {
                return license;
            }
        }

        if (ReleasedUnder().Match(text) is { Success: true } released)
        {
            return released.Groups[1].Value;
        }

        return LicenseLine().Match(text) is { Success: true } line ? line.Groups[1].Value.Trim() : null;
    }

    private static string? Field(string stanza, string name)
    {
        foreach (var line in stanza.Split('\n'))
        {
            if (line.StartsWith(name + ":", StringComparison.Ordinal))
            {
                return line[(name.Length + 1)..].Trim();
            }
        }

        return null;
    }

    [GeneratedRegex(@"release[sd]?\s+\S+\s+under\s+the\s+([A-Za-z0-9.+-]+)\s+licen[cs]e", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ReleasedUnder();

    [GeneratedRegex(@"^License:[ \t]*(\S.*)$", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex LicenseLine();
}
