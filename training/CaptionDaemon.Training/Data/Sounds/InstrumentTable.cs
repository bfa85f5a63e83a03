using System.Globalization;
using System.Text;

namespace CaptionDaemon.Training.Data.Sounds;

/// <summary>The kind of phrase written for an instrument (the style column of instruments.tsv).</summary>
internal enum PhraseStyle
{
    Melody,
    Chords,
    Strum,
    Arpeggio,
    Sustained,
    Bassline,
    Drums,
    Hits,
    Percussion,
}

/// <summary>One instrument of the table: a General MIDI program (or a drum kit) rendered as one sound category.</summary>
/// <param name="Category">The sound class, unique in the table (piano, acoustic_guitar, drums...).</param>
/// <param name="Program">GM program number 0-127 as in the MIDI byte; for a drum kit, the kit number.</param>
/// <param name="IsDrumKit">Played on MIDI channel 10, where notes select drums rather than pitches.</param>
/// <param name="Style">The phrases written for it.</param>
/// <param name="LowNote">Lowest MIDI note played (for a kit: the first drum-map note).</param>
/// <param name="HighNote">Highest MIDI note played.</param>
/// <param name="Caption">The caption of every phrase ("a piano plays").</param>
internal sealed record Instrument(
    string Category, int Program, bool IsDrumKit, PhraseStyle Style, int LowNote, int HighNote, string Caption)
{
    /// <summary>Where the phrase lives in the soundfont, for the index's path column ("program 0", "kit 0").</summary>
    public string PresetName => (IsDrumKit ? "kit " : "program ") + Program.ToString(CultureInfo.InvariantCulture);

    /// <summary>The table row as text; part of the render stamp, so that editing a row re-renders that instrument.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Category} {PresetName} {Style} {LowNote}-{HighNote} '{Caption}'");
}

/// <summary>
/// The instruments of <c>data music</c> (instruments.tsv: category, program, style, low, high, caption; '#' lines are
/// comments). Ships next to the executable like the sound catalog; data music copies it into the sounds folder.
/// </summary>
internal static class InstrumentTable
{
    public const string FileName = "instruments.tsv";

    private static readonly string[] s_columns = ["category", "program", "style", "low", "high", "caption"];

    /// <summary>The table that ships with captiond-train (copied to the output folder by the build).</summary>
    public static string BundledPath => Path.Combine(AppContext.BaseDirectory, "Data", "Sounds", FileName);

    /// <summary>Reads an instrument table.</summary>
    /// <exception cref="DatasetFormatException">The file is missing or a row is malformed; the message names file and line.</exception>
    public static IReadOnlyList<Instrument> Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new DatasetFormatException($"Instrument table '{path}' does not exist.");
        }

        using var reader = new StreamReader(path, Encoding.UTF8);
        return Parse(reader, path);
    }

    /// <summary>Parses table text (tab-separated, header first after any '#' comment lines).</summary>
    public static IReadOnlyList<Instrument> Parse(TextReader reader, string source)
    {
        var instruments = new List<Instrument>();
        var categories = new HashSet<string>(StringComparer.Ordinal);
        var headerSeen = false;
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (line.Trim().Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var fields = line.Split('\t').Select(f => f.Trim()).ToArray();
            if (!headerSeen)
            {
                if (!fields.SequenceEqual(s_columns, StringComparer.Ordinal))
                {
                    throw new DatasetFormatException($"{source} line {number}: the header must be '{string.Join("\\t", s_columns)}'.");
                }

                headerSeen = true;
                continue;
            }

            if (fields.Length != s_columns.Length)
            {
                throw new DatasetFormatException($"{source} line {number}: {fields.Length} fields instead of {s_columns.Length}.");
            }

            var instrument = ParseRow(fields, source, number);
            if (!categories.Add(instrument.Category))
            {
                throw new DatasetFormatException($"{source} line {number}: category '{instrument.Category}' is listed twice.");
            }

            instruments.Add(instrument);
        }

        return instruments.Count == 0
            ? throw new DatasetFormatException($"{source} lists no instruments.")
            : instruments;
    }

    private static Instrument ParseRow(string[] fields, string source, int number)
    {
        var where = $"{source} line {number}";
        var category = fields[0];
        if (category.Length == 0 || category.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')))
        {
            throw new DatasetFormatException($"{where}: category '{category}' must be lower-case letters, digits and '_' (it names files).");
        }

        var kit = fields[1].StartsWith("kit:", StringComparison.Ordinal);
        var program = Number(kit ? fields[1]["kit:".Length..] : fields[1], 0, 127, "program", where);
        if (!Enum.TryParse<PhraseStyle>(fields[2], ignoreCase: true, out var style) || !Enum.IsDefined(style) || int.TryParse(fields[2], out _))
        {
            throw new DatasetFormatException(
                $"{where}: style '{fields[2]}' is not one of {string.Join(", ", Enum.GetNames<PhraseStyle>().Select(n => n.ToLowerInvariant()))}.");
        }

        if (kit != (style is PhraseStyle.Drums or PhraseStyle.Percussion))
        {
            throw new DatasetFormatException($"{where}: styles drums and percussion go with a kit:N program, and only they do.");
        }

        var low = Number(fields[3], 0, 127, "low", where);
        var high = Number(fields[4], low, 127, "high", where);
        if (fields[5].Length == 0)
        {
            throw new DatasetFormatException($"{where}: the caption is empty.");
        }

        return new Instrument(category, program, kit, style, low, high, fields[5]);
    }

    private static int Number(string text, int min, int max, string column, string where)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new DatasetFormatException($"{where}: {column} '{text}' is not a whole number from {min} to {max}.");
}
