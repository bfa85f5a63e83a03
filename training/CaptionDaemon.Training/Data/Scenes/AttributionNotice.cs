using System.Text;
using System.Text.RegularExpressions;
using CaptionDaemon.Training.Data.Sounds;

namespace CaptionDaemon.Training.Data.Scenes;

/// <summary>
/// The NOTICE of a scene set: every recording used, grouped by Debian package, with the catalog's licence and the
/// relevant part of the package's copyright file. For machine-readable (DEP-5) copyright files that is the header and
/// the <c>Files:</c> paragraphs that cover the recordings (the last match wins, as DEP-5 says); other copyright files
/// are quoted whole. A model trained on the set ships this file in its bundle.
/// </summary>
internal static class AttributionNotice
{
    public static string Build(string soundsDirectory, IEnumerable<SoundIndexEntry> used, string title, CancellationToken cancellationToken = default)
    {
        var builder = new StringBuilder();
        builder.AppendLine(title);
        builder.AppendLine();
        builder.AppendLine("The audio of this data set is mixed from the recordings below, which ship in Debian 12 packages.");
        builder.AppendLine("Each keeps its licence; attribution and licence terms follow per package. Weak labels: captions were");
        builder.AppendLine("derived from file names.");
        foreach (var package in used.GroupBy(e => e.Package, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var first = package.First();
            builder.AppendLine();
            builder.AppendLine(new string('=', 100));
            builder.AppendLine($"Debian package: {package.Key}{(first.PackageVersion is null ? string.Empty : " " + first.PackageVersion)}");
            builder.AppendLine($"Licence (catalog): {string.Join("; ", package.Select(e => e.License).Distinct(StringComparer.Ordinal))}");
            builder.AppendLine("Recordings used:");
            foreach (var entry in package.OrderBy(e => e.SourcePath, StringComparer.Ordinal))
            {
                builder.AppendLine($"  {entry.SourcePath}  ({entry.Category}: {entry.Caption})");
            }

            var copyrightPath = Path.Combine(soundsDirectory, first.CopyrightFile);
            builder.AppendLine($"From the package's copyright file (/usr/share/doc/{package.Key}/copyright):");
            builder.AppendLine(new string('-', 100));
            builder.AppendLine(File.Exists(copyrightPath)
                ? Excerpt(File.ReadAllText(copyrightPath), package.Select(e => e.SourcePath)).TrimEnd()
                : $"(missing: {copyrightPath})");
        }

        return builder.ToString();
    }

    /// <summary>The DEP-5 header and the Files paragraphs that cover the paths, or the whole text if it is not DEP-5.</summary>
    internal static string Excerpt(string copyright, IEnumerable<string> paths)
    {
        var paragraphs = Regex.Split(copyright.Replace("\r\n", "\n", StringComparison.Ordinal), @"\n[ \t]*\n")
            .Where(p => p.Trim().Length > 0)
            .ToList();
        if (paragraphs.Count == 0 || !paragraphs[0].StartsWith("Format:", StringComparison.OrdinalIgnoreCase))
        {
            return copyright;
        }

        var files = paragraphs
            .Select((text, index) => (Text: text, Index: index, Globs: Field(text, "Files")))
            .Where(p => p.Globs is not null)
            .ToList();
        var chosen = new SortedSet<int> { 0 };
        foreach (var path in paths)
        {
            var candidates = Candidates(path).ToList();
            var match = files.LastOrDefault(p => p.Globs!.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
                .Any(glob => candidates.Any(c => Matches(glob, c))));
            if (match.Text is not null)
            {
                chosen.Add(match.Index);
            }
        }

        return string.Join("\n\n", chosen.Select(i => paragraphs[i].Trim('\n')));
    }

    /// <summary>A field of a DEP-5 paragraph with its continuation lines, or null.</summary>
    private static string? Field(string paragraph, string name)
    {
        var lines = paragraph.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            {
                var value = new StringBuilder(lines[i][(name.Length + 1)..]);
                for (var j = i + 1; j < lines.Length && (lines[j].StartsWith(' ') || lines[j].StartsWith('\t')); j++)
                {
                    value.Append(' ').Append(lines[j].Trim());
                }

                return value.ToString().Trim();
            }
        }

        return null;
    }

    /// <summary>
    /// Copyright files name upstream source paths, not installed ones: try every suffix of the installed path (and of
    /// the archive member), so "sounds/bark.wav" matches "usr/share/games/x/sounds/bark.wav".
    /// </summary>
    private static IEnumerable<string> Candidates(string sourcePath)
    {
        foreach (var path in sourcePath.Split(':'))
        {
            var parts = path.Split('/');
            for (var i = 0; i < parts.Length; i++)
            {
                yield return string.Join('/', parts[i..]);
            }
        }
    }

    /// <summary>DEP-5 globs: '*' matches any run of characters including '/', '?' one character.</summary>
    private static bool Matches(string glob, string path)
    {
        var pattern = "^" + Regex.Escape(glob).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$";
        return Regex.IsMatch(path, pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }
}
