using System.Text;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Text;

namespace CaptionDaemon.Training.Evaluation;

/// <summary>A sound category of the synonym table (a row of categories.tsv).</summary>
/// <param name="Name">The category as the catalogs spell it ("dog", "car_horn").</param>
/// <param name="Display">A name for people ("Car horn").</param>
/// <param name="Synonyms">
/// Synonyms that name the category in a caption, each as its parts (a phrase of lower-case words, or several for a
/// <c>+</c> synonym), all of which must occur.
/// </param>
/// <param name="Background">Steady ambience (rain, wind, traffic, hum, room tone) rather than a sound event.</param>
internal sealed record SoundCategory(string Name, string Display, IReadOnlyList<string[][]> Synonyms, bool Background);

/// <summary>
/// Whether a caption names a sound category, from the synonym table <c>categories.tsv</c> (category, display,
/// synonyms, background): a caption names a category when one of its synonyms occurs in it as whole words
/// (case-insensitive; "cat" does not hit "scatter"; "car horn" needs both words in a row). A synonym joined with
/// <c>+</c> needs each of its parts anywhere in the caption ("glass+breaking" names glass_break in "glass can be heard
/// breaking"). Word forms are listed in the table (bark, barks, barking) rather than stemmed, so what counts is visible
/// in one file. A category missing from the table is named by its own name, underscores read as spaces ("grand_piano":
/// "grand piano").
/// </summary>
internal sealed class CategoryNames
{
    public const string FileName = "categories.tsv";

    private static readonly string[] s_columns = ["category", "display", "synonyms", "background"];

    private readonly Dictionary<string, SoundCategory> _categories;

    private CategoryNames(string source, Dictionary<string, SoundCategory> categories)
    {
        Source = source;
        _categories = categories;
    }

    /// <summary>The file the table was read from.</summary>
    public string Source { get; }

    /// <summary>The table's categories, sorted by name.</summary>
    public IReadOnlyList<SoundCategory> Categories => _categories.Values.OrderBy(c => c.Name, StringComparer.Ordinal).ToList();

    /// <summary>The table that ships with captiond-train (copied next to the executable by the build).</summary>
    public static string BundledPath => Path.Combine(AppContext.BaseDirectory, "Data", "Sounds", FileName);

    /// <summary>Reads <see cref="BundledPath"/>.</summary>
    public static CategoryNames LoadBundled() => Load(BundledPath);

    /// <summary>Reads a synonym table.</summary>
    /// <exception cref="DatasetFormatException">The file is missing or a row is malformed; the message names file and line.</exception>
    public static CategoryNames Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new DatasetFormatException($"Category table '{path}' does not exist.");
        }

        using var reader = new StreamReader(path, Encoding.UTF8);
        return Parse(reader, path);
    }

    /// <summary>Parses synonym table text (tab-separated, header first).</summary>
    /// <exception cref="DatasetFormatException">A row is malformed; the message names <paramref name="source"/> and the line.</exception>
    public static CategoryNames Parse(TextReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var header = reader.ReadLine()?.Split('\t');
        if (header is null || !header.Select(h => h.Trim()).SequenceEqual(s_columns, StringComparer.OrdinalIgnoreCase))
        {
            throw new DatasetFormatException($"Category table '{source}' must start with the header '{string.Join("\\t", s_columns)}'.");
        }

        var categories = new Dictionary<string, SoundCategory>(StringComparer.OrdinalIgnoreCase);
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
            if (fields.Length != s_columns.Length || fields.Any(f => f.Length == 0))
            {
                throw new DatasetFormatException(
                    $"{source} line {lineNumber}: expected {s_columns.Length} non-empty tab-separated fields (category, display, synonyms, background).");
            }

            var background = fields[3].ToLowerInvariant() switch
            {
                "yes" => true,
                "no" => false,
                _ => throw new DatasetFormatException($"{source} line {lineNumber}: background must be 'yes' or 'no', not '{fields[3]}'."),
            };
            var synonyms = new List<string[][]>();
            foreach (var synonym in fields[2].Split(','))
            {
                var parts = synonym.Split('+').Select(CaptionText.Tokenize).ToArray();
                if (parts.Any(p => p.Length == 0))
                {
                    throw new DatasetFormatException($"{source} line {lineNumber}: an empty synonym or part in '{fields[2]}'.");
                }

                synonyms.Add(parts);
            }

            if (!categories.TryAdd(fields[0], new SoundCategory(fields[0], fields[1], synonyms, background)))
            {
                throw new DatasetFormatException($"{source} line {lineNumber}: category '{fields[0]}' is listed twice.");
            }
        }

        return new CategoryNames(source, categories);
    }

    /// <summary>The table's row for <paramref name="category"/>, or null when it has none.</summary>
    public SoundCategory? Find(string category) => _categories.GetValueOrDefault(category);

    /// <summary>Whether <paramref name="caption"/> names <paramref name="category"/> (see the class summary).</summary>
    public bool Names(string caption, string category)
    {
        ArgumentNullException.ThrowIfNull(caption);
        ArgumentException.ThrowIfNullOrWhiteSpace(category);
        var words = CaptionText.Tokenize(caption);
        return _categories.TryGetValue(category, out var row)
            ? row.Synonyms.Any(s => Matches(words, s))
            : Contains(words, CaptionText.Tokenize(category.Replace('_', ' ')));
    }

    /// <summary>The table's categories that <paramref name="caption"/> names, sorted by name.</summary>
    public IReadOnlyList<SoundCategory> NamedIn(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var words = CaptionText.Tokenize(caption);
        return _categories.Values.Where(c => c.Synonyms.Any(s => Matches(words, s))).OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
    }

    private static bool Matches(string[] words, string[][] synonym) => synonym.All(part => Contains(words, part));

    /// <summary>Whether <paramref name="phrase"/> occurs in <paramref name="words"/> as consecutive whole words.</summary>
    private static bool Contains(string[] words, string[] phrase)
    {
        if (phrase.Length == 0)
        {
            return false;
        }

        for (var start = 0; start + phrase.Length <= words.Length; start++)
        {
            if (words.AsSpan(start, phrase.Length).SequenceEqual(phrase))
            {
                return true;
            }
        }

        return false;
    }
}
