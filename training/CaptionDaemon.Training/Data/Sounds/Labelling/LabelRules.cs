using System.Text;
using System.Text.RegularExpressions;

namespace CaptionDaemon.Training.Data.Sounds.Labelling;

/// <summary>The label a rule gives one file of a package.</summary>
/// <param name="Category">Coarse sound class (dog, rain, speech...).</param>
/// <param name="Caption">A short caption ("a dog barks", "a woman speaks").</param>
/// <param name="Group"><c>ENV</c>, <c>MUS</c>, <c>UI</c> or <c>SPEECH</c>.</param>
/// <param name="Speaker">For speech: a speaker id stable within the catalog; otherwise null.</param>
/// <param name="Sex">For speech: <c>male</c>, <c>female</c> or null.</param>
/// <param name="Language">For speech: ISO 639-1 code or null.</param>
/// <param name="Rule">Which rule gave the label (<c>rules.tsv line N</c>, <c>keyword 'x'</c>), for review.</param>
internal sealed record FileLabel(string Category, string Caption, string Group, string? Speaker, string? Sex, string? Language, string Rule);

/// <summary>What a rule does with the files its pattern matches.</summary>
internal enum RuleAction
{
    /// <summary>The category and caption of the rule.</summary>
    Label,

    /// <summary>The first keyword of the keyword table found in the file name (then in its folders, deepest first); no keyword, no label.</summary>
    Keywords,

    /// <summary>Speech: category <c>speech</c>, caption from the speaker's sex.</summary>
    Speech,

    /// <summary>Left out (music, synthetic, UI, unclear).</summary>
    Skip,
}

/// <summary>One row of sound-rules.tsv.</summary>
internal sealed record LabelRule(int Line, string Package, Regex Pattern, RuleAction Action, string? Category, string? Caption, IReadOnlyDictionary<string, string> Attributes);

/// <summary>One row of sound-keywords.tsv: consecutive path words that name a category.</summary>
/// <remarks>A weak keyword ("hit", "step", "wood") labels a file only when no other keyword occurs anywhere in its path.</remarks>
internal sealed record LabelKeyword(int Line, string[] Words, string Category, string Caption, string Group, bool Weak)
{
    public bool Skips => Category == "-";
}

/// <summary>
/// Labels the files of the sound packages from their package, folder and file names, by two tables kept as data:
/// sound-rules.tsv (per package, in order, first match wins: a path pattern and what to do with the files it matches)
/// and sound-keywords.tsv (words of a path that name a category, most specific first). No package has code of its own.
/// </summary>
internal sealed partial class LabelRules
{
    public const string RulesFileName = "sound-rules.tsv";
    public const string KeywordsFileName = "sound-keywords.tsv";

    private static readonly string[] s_ruleColumns = ["package", "pattern", "action", "category", "caption", "attributes"];
    private static readonly string[] s_keywordColumns = ["words", "category", "caption", "group", "weak"];

    private readonly Dictionary<string, List<LabelRule>> _rules;

    private LabelRules(List<LabelRule> rules, IReadOnlyList<LabelKeyword> keywords)
    {
        _rules = rules.GroupBy(r => r.Package, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        Keywords = keywords;
    }

    public IReadOnlyList<LabelKeyword> Keywords { get; }

    /// <summary>The packages the rules name.</summary>
    public IEnumerable<string> Packages => _rules.Keys;

    public static string BundledDirectory => Path.Combine(AppContext.BaseDirectory, "Data", "Sounds");

    /// <summary>Loads both tables from a folder.</summary>
    /// <exception cref="DatasetFormatException">A table is missing or a row is malformed; the message names file and line.</exception>
    public static LabelRules Load(string directory)
        => new(ParseRules(Path.Combine(directory, RulesFileName)), ParseKeywords(Path.Combine(directory, KeywordsFileName)));

    /// <summary>Labels <paramref name="path"/> (inside the package; <c>archive.zip:member</c> for archive members), or null when no rule keeps it.</summary>
    public FileLabel? Apply(string package, string path)
    {
        if (!_rules.TryGetValue(package, out var rules))
        {
            return null;
        }

        foreach (var rule in rules)
        {
            var match = rule.Pattern.Match(path);
            if (!match.Success)
            {
                continue;
            }

            var where = $"{RulesFileName} line {rule.Line}";
            string Attribute(string key) => rule.Attributes.TryGetValue(key, out var value) ? Expand(value, match) : string.Empty;
            string? Optional(string key) => Attribute(key) is { Length: > 0 } v ? v : null;
            switch (rule.Action)
            {
                case RuleAction.Skip:
                    return null;
                case RuleAction.Label:
                    return new FileLabel(Expand(rule.Category!, match), Expand(rule.Caption!, match), Optional("group") ?? "ENV", null, null, null, where);
                case RuleAction.Speech:
                    var sex = Optional("sex")?.ToLowerInvariant() switch
                    {
                        "m" or "male" or "man" => "male",
                        "f" or "female" or "woman" => "female",
                        _ => null,
                    };
                    var caption = rule.Caption is { } c ? Expand(c, match) : sex switch
                    {
                        "male" => "a man speaks",
                        "female" => "a woman speaks",
                        _ => "a person speaks",
                    };
                    var speaker = Optional("speaker") is { } s ? $"{package}:{s}" : package;
                    return new FileLabel(rule.Category ?? "speech", caption, "SPEECH", speaker, sex, Optional("lang")?.ToLowerInvariant(), where);
                case RuleAction.Keywords:
                    var scope = Optional("scope") is { } groupName && match.Groups[groupName].Success ? match.Groups[groupName].Value : path;
                    var keyword = FindKeyword(scope);
                    if (keyword is null)
                    {
                        // The rule's own category, when it has one, labels what no keyword names.
                        if (rule.Category is { } fallback)
                        {
                            return new FileLabel(fallback, rule.Caption!, Optional("group") ?? "ENV", null, null, null, where + " (no keyword)");
                        }

                        continue;
                    }

                    return keyword.Skips
                        ? null
                        : new FileLabel(keyword.Category, keyword.Caption, keyword.Group, null, null, null, $"keyword '{string.Join(' ', keyword.Words)}' ({KeywordsFileName} line {keyword.Line})");
                default:
                    throw new InvalidOperationException($"Unknown rule action {rule.Action}.");
            }
        }

        return null;
    }

    /// <summary>
    /// The first keyword (table order) in the file name's words, else in its folders' words, deepest folder first;
    /// weak keywords only when no other keyword occurs.
    /// </summary>
    public LabelKeyword? FindKeyword(string path)
    {
        // A member of an archive is named by its path inside the archive; the archive's own name ("public.zip") says nothing.
        var colon = path.IndexOf(':', StringComparison.Ordinal);
        var parts = path[(colon + 1)..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        var names = parts.Select((part, i) => Words(i == parts.Length - 1 ? Path.GetFileNameWithoutExtension(part) : part)).Reverse().ToList();
        foreach (var weak in (bool[])[false, true])
        {
            foreach (var words in names)
            {
                foreach (var keyword in Keywords)
                {
                    if (keyword.Weak == weak && Contains(words, keyword.Words))
                    {
                        return keyword;
                    }
                }
            }
        }

        return null;
    }

    /// <summary>The lower-case words of a file or folder name: split at non-letters and at lower-to-upper case changes.</summary>
    public static List<string> Words(string name)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var boundary = !char.IsLetter(c) || (char.IsUpper(c) && i > 0 && char.IsLower(name[i - 1]));
            if (boundary && current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }

            if (char.IsLetter(c))
            {
                current.Append(char.ToLowerInvariant(c));
            }
        }

        if (current.Length > 0)
        {
            words.Add(current.ToString());
        }

        return words;
    }

    /// <summary>Whether <paramref name="pattern"/> occurs as consecutive words; a pattern word ending in '*' matches any word it begins.</summary>
    private static bool Contains(List<string> words, string[] pattern)
    {
        for (var start = 0; start + pattern.Length <= words.Count; start++)
        {
            var all = true;
            for (var k = 0; k < pattern.Length && all; k++)
            {
                var p = pattern[k];
                all = p.EndsWith('*') ? words[start + k].StartsWith(p[..^1], StringComparison.Ordinal) : words[start + k] == p;
            }

            if (all)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Replaces <c>${name}</c> by the named group of the rule's match.</summary>
    private static string Expand(string template, Match match)
        => template.Contains("${", StringComparison.Ordinal)
            ? Placeholder().Replace(template, m => match.Groups[m.Groups[1].Value].Value)
            : template;

    [GeneratedRegex(@"\$\{(\w+)\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();

    private static List<LabelRule> ParseRules(string path)
    {
        var rules = new List<LabelRule>();
        foreach (var (line, f) in ReadTable(path, s_ruleColumns))
        {
            var action = f[2].ToLowerInvariant() switch
            {
                "label" => RuleAction.Label,
                "keywords" => RuleAction.Keywords,
                "speech" => RuleAction.Speech,
                "skip" => RuleAction.Skip,
                _ => throw new DatasetFormatException($"{path} line {line}: action '{f[2]}' is not label, keywords, speech or skip."),
            };
            Regex pattern;
            try
            {
                pattern = new Regex(f[1], RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
            }
            catch (ArgumentException ex)
            {
                throw new DatasetFormatException($"{path} line {line}: pattern '{f[1]}' is not a regular expression ({ex.Message}).", ex);
            }

            var category = Empty(f[3]);
            var caption = Empty(f[4]);
            if (action == RuleAction.Label && (category is null || caption is null))
            {
                throw new DatasetFormatException($"{path} line {line}: a label rule needs a category and a caption.");
            }

            if (action == RuleAction.Keywords && (category is null) != (caption is null))
            {
                throw new DatasetFormatException($"{path} line {line}: a keywords rule's fallback needs both a category and a caption, or neither.");
            }

            var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in (Empty(f[5]) ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new DatasetFormatException($"{path} line {line}: attribute '{pair}' is not key=value.");
                }

                attributes[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
            }

            rules.Add(new LabelRule(line, f[0], pattern, action, category, caption, attributes));
        }

        return rules;
    }

    private static List<LabelKeyword> ParseKeywords(string path)
    {
        var keywords = new List<LabelKeyword>();
        foreach (var (line, f) in ReadTable(path, s_keywordColumns))
        {
            var words = f[0].ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f[1] != "-" && (Empty(f[2]) is null || Empty(f[3]) is null))
            {
                throw new DatasetFormatException($"{path} line {line}: keyword '{f[0]}' needs a caption and a group (or category '-' to leave its files out).");
            }

            keywords.Add(new LabelKeyword(line, words, f[1], f[2], f[3], f[4] == "yes"));
        }

        return keywords;
    }

    private static string? Empty(string field) => field is "" or "-" ? null : field;

    /// <summary>Rows of a tab-separated table with the given header, padded to its width; '#' lines and blank lines are comments.</summary>
    internal static IEnumerable<(int Line, string[] Fields)> ReadTable(string path, string[] columns)
    {
        if (!File.Exists(path))
        {
            throw new DatasetFormatException($"Label table '{path}' does not exist.");
        }

        var number = 0;
        var headerSeen = false;
        foreach (var raw in File.ReadLines(path, Encoding.UTF8))
        {
            number++;
            if (raw.Trim().Length == 0 || raw.TrimStart().StartsWith('#'))
            {
                continue;
            }

            var fields = raw.Split('\t').Select(f => f.Trim()).ToArray();
            if (!headerSeen)
            {
                if (!fields.SequenceEqual(columns, StringComparer.OrdinalIgnoreCase))
                {
                    throw new DatasetFormatException($"{path} line {number}: the header must be '{string.Join("\\t", columns)}'.");
                }

                headerSeen = true;
                continue;
            }

            if (fields.Length < columns.Length)
            {
                fields = [.. fields, .. Enumerable.Repeat(string.Empty, columns.Length - fields.Length)];
            }

            if (fields.Length > columns.Length || fields[0].Length == 0 || (fields.Length > 1 && fields[1].Length == 0))
            {
                throw new DatasetFormatException($"{path} line {number}: expected up to {columns.Length} tab-separated fields with the first two filled.");
            }

            yield return (number, fields);
        }
    }
}
