using System.Globalization;
using System.Text;

namespace CaptionDaemon.Training.Data.Sounds;

/// <summary>One recording listed in the catalog (a row of debian-sounds.tsv).</summary>
/// <param name="Id">Stable id <c>&lt;package&gt;/&lt;path below the package's common sound folder, without extension&gt;</c>.</param>
/// <param name="Package">The Debian package that ships it.</param>
/// <param name="SourcePath">Path inside the package, or <c>archive.pk3:member</c> for a member of a zip archive in the package.</param>
/// <param name="Category">Coarse sound class (dog, rain, door...).</param>
/// <param name="Caption">A short caption derived from the file name (a weak label).</param>
/// <param name="Group"><c>ENV</c> (everyday sound), <c>MUS</c> (instrument) or <c>UI</c>.</param>
/// <param name="License">The licence as the catalog states it.</param>
/// <param name="Split">The split of the recording's package (train, val, test).</param>
/// <param name="Speaker">For speech: the speaker's id, or null.</param>
/// <param name="Sex">For speech: male, female, or null.</param>
/// <param name="Language">For speech: ISO 639-1 code, or null.</param>
internal sealed record SoundRecording(
    string Id, string Package, string SourcePath, string Category, string Caption, string Group, string License,
    string Split = "train", string? Speaker = null, string? Sex = null, string? Language = null)
{
    /// <summary>The file name of the zip archive holding the recording, or null for a plain file of the package.</summary>
    public string? ArchiveName => SplitArchive().Archive;

    /// <summary>The member inside <see cref="ArchiveName"/>, or the path inside the package.</summary>
    public string MemberPath => SplitArchive().Member;

    /// <summary>Where the converted 16 kHz WAV lives below the sounds folder.</summary>
    public string RelativeWavPath => Path.Combine("audio", Id.Replace('/', Path.DirectorySeparatorChar) + ".wav");

    private (string? Archive, string Member) SplitArchive()
    {
        var colon = SourcePath.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? (null, SourcePath) : (SourcePath[..colon], SourcePath[(colon + 1)..]);
    }
}

/// <summary>
/// The catalog of real recordings inside Debian packages (debian-sounds.tsv: package, path, category, caption, group,
/// license, and optionally split, speaker, sex, language). <c>data catalog build</c> writes it from the packages and the
/// label rules; it ships next to the executable and <c>data fetch</c> copies it into the sounds folder it writes.
/// </summary>
internal sealed class SoundCatalog
{
    public const string FileName = "debian-sounds.tsv";

    private static readonly string[] s_columns = ["package", "path", "category", "caption", "group", "license"];
    private static readonly string[] s_optionalColumns = ["split", "speaker", "sex", "language"];

    private SoundCatalog(string source, IReadOnlyList<SoundRecording> recordings)
    {
        Source = source;
        Recordings = recordings;
    }

    /// <summary>The file the catalog was read from.</summary>
    public string Source { get; }

    public IReadOnlyList<SoundRecording> Recordings { get; }

    /// <summary>The packages in catalog order.</summary>
    public IReadOnlyList<string> Packages => Recordings.Select(r => r.Package).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The catalog that ships with captiond-train (copied to the output folder by the build).</summary>
    public static string BundledPath => Path.Combine(AppContext.BaseDirectory, "Data", "Sounds", FileName);

    /// <summary>Reads a catalog file.</summary>
    /// <exception cref="DatasetFormatException">The file is missing or a row is malformed; the message names file and line.</exception>
    public static SoundCatalog Load(string path, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!File.Exists(path))
        {
            throw new DatasetFormatException($"Sound catalog '{path}' does not exist.");
        }

        using var reader = new StreamReader(path, Encoding.UTF8);
        return Parse(reader, path);
    }

    /// <summary>Parses catalog text (tab-separated, header first).</summary>
    public static SoundCatalog Parse(TextReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var header = reader.ReadLine()?.Split('\t').Select(h => h.Trim()).ToArray();
        var width = header?.Length ?? 0;
        if (header is null
            || width < s_columns.Length
            || !header.SequenceEqual(s_columns.Concat(s_optionalColumns).Take(width), StringComparer.OrdinalIgnoreCase))
        {
            throw new DatasetFormatException(
                $"Sound catalog '{source}' must start with the header '{string.Join("\\t", s_columns)}', optionally followed by '{string.Join("\\t", s_optionalColumns)}'.");
        }

        var rows = new List<(int Line, string[] Fields)>();
        var lineNumber = 1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Trim().Length == 0)
            {
                continue;
            }

            var fields = line.Split('\t').Select(f => f.Trim()).ToArray();
            if (fields.Length != width || fields.Take(s_columns.Length).Any(f => f.Length == 0))
            {
                throw new DatasetFormatException(
                    $"{source} line {lineNumber}: expected {width} tab-separated fields with the first {s_columns.Length} non-empty, found {fields.Length} ({fields.Count(f => f.Length > 0)} non-empty).");
            }

            if (width > s_columns.Length && fields[s_columns.Length] is not ("train" or "val" or "test"))
            {
                throw new DatasetFormatException($"{source} line {lineNumber}: split '{fields[s_columns.Length]}' is not train, val or test.");
            }

            rows.Add((lineNumber, fields));
        }

        var prefixes = rows
            .GroupBy(r => r.Fields[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => CommonDirectory(g.Select(r => FilePart(r.Fields[1]))), StringComparer.Ordinal);
        var recordings = new List<SoundRecording>(rows.Count);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (number, f) in rows)
        {
            var id = MakeId(f[0], FilePart(f[1]), prefixes[f[0]]);
            if (!ids.TryAdd(id, number))
            {
                throw new DatasetFormatException(
                    $"{source} line {number}: recording id '{id}' is the same as the one of line {ids[id]}; paths must differ.");
            }

            string? Optional(int column) => f.Length > column && f[column].Length > 0 ? f[column] : null;
            recordings.Add(new SoundRecording(id, f[0], f[1], f[2], f[3], f[4], f[5], Optional(6) ?? "train", Optional(7), Optional(8), Optional(9)));
        }

        return new SoundCatalog(source, recordings);
    }

    /// <summary>The path that identifies the recording inside its package (the member path for archive members).</summary>
    private static string FilePart(string sourcePath)
    {
        var colon = sourcePath.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? sourcePath : sourcePath[(colon + 1)..];
    }

    /// <summary>The longest directory prefix shared by all paths, so ids keep only the part that tells recordings apart.</summary>
    private static string CommonDirectory(IEnumerable<string> paths)
    {
        string[]? common = null;
        foreach (var path in paths)
        {
            var directories = path.Split('/')[..^1];
            if (common is null)
            {
                common = directories;
                continue;
            }

            var n = 0;
            while (n < common.Length && n < directories.Length && common[n] == directories[n])
            {
                n++;
            }

            common = common[..n];
        }

        return common is null || common.Length == 0 ? string.Empty : string.Join('/', common) + "/";
    }

    private static string MakeId(string package, string path, string prefix)
    {
        var rest = path[prefix.Length..];
        var extension = Path.GetExtension(rest);
        rest = rest[..^extension.Length];
        var safe = new StringBuilder(rest.Length);
        foreach (var c in rest)
        {
            // Letters outside ASCII (Cyrillic letter names, zhuyin) keep their identity as hex, so ids stay distinct and portable.
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.')
            {
                safe.Append(char.ToLowerInvariant(c));
            }
            else if (char.IsLetterOrDigit(c))
            {
                safe.Append(CultureInfo.InvariantCulture, $"u{(int)char.ToLowerInvariant(c):x4}");
            }
            else
            {
                safe.Append('_');
            }
        }

        return package + "/" + safe.Replace("/", "_");
    }
}
