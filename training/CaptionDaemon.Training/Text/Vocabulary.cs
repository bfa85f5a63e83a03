using System.Text.Json;

namespace CaptionDaemon.Training.Text;

/// <summary>
/// The word vocabulary of a captioning model (docs/captioning-core.md, "Text"): <c>&lt;pad&gt;=0 &lt;start&gt;=1
/// &lt;end&gt;=2 &lt;unk&gt;=3</c>, then the words of the training captions by descending frequency (ties in ordinal
/// order), so that the same captions always give the same ids. Stored as <c>vocab.json</c> = <c>{"tokens": [...]}</c>.
/// </summary>
internal sealed class Vocabulary
{
    public const int Pad = 0;
    public const int Start = 1;
    public const int End = 2;
    public const int Unknown = 3;

    public const string FileName = "vocab.json";

    private static readonly string[] _specials = ["<pad>", "<start>", "<end>", "<unk>"];

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    private Vocabulary(string[] tokens, string source)
    {
        for (var i = 0; i < _specials.Length; i++)
        {
            if (tokens.Length <= i || tokens[i] != _specials[i])
            {
                throw new InvalidDataException($"{source}: token {i} must be {_specials[i]} (found {(tokens.Length <= i ? "nothing" : "'" + tokens[i] + "'")}).");
            }
        }

        _tokens = tokens;
        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (var i = 0; i < tokens.Length; i++)
        {
            if (!_ids.TryAdd(tokens[i], i))
            {
                throw new InvalidDataException($"{source}: token '{tokens[i]}' appears twice (ids {_ids[tokens[i]]} and {i}).");
            }
        }
    }

    /// <summary>All tokens, index = id.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    public int Count => _tokens.Length;

    /// <summary>Words of <paramref name="captions"/> (normalised by <see cref="CaptionText.Tokenize"/>) that occur at least <paramref name="minCount"/> times.</summary>
    public static Vocabulary Build(IEnumerable<string> captions, int minCount)
    {
        ArgumentNullException.ThrowIfNull(captions);
        ArgumentOutOfRangeException.ThrowIfLessThan(minCount, 1);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var caption in captions)
        {
            foreach (var word in CaptionText.Tokenize(caption))
            {
                counts[word] = counts.GetValueOrDefault(word) + 1;
            }
        }

        var words = counts
            .Where(pair => pair.Value >= minCount && Array.IndexOf(_specials, pair.Key) < 0)
            .OrderByDescending(pair => pair.Value)
            .ThenBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => pair.Key);
        return new Vocabulary([.. _specials, .. words], "the built vocabulary");
    }

    /// <summary>A vocabulary from its tokens (index = id); the four special tokens must come first.</summary>
    public static Vocabulary FromTokens(IEnumerable<string> tokens) => new([.. tokens], "the given tokens");

    /// <summary>Word ids of <paramref name="caption"/> (no &lt;start&gt; or &lt;end&gt;); unknown words become &lt;unk&gt;.</summary>
    public int[] Encode(string caption) =>
        CaptionText.Tokenize(caption).Select(word => _ids.GetValueOrDefault(word, Unknown)).ToArray();

    /// <summary>
    /// Text of token ids: the tokens up to (not including) the first &lt;end&gt;, joined by single spaces, &lt;unk&gt;
    /// kept as is. &lt;pad&gt; and &lt;start&gt; are not words and are left out.
    /// </summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var words = new List<string>();
        foreach (var id in ids)
        {
            if (id == End)
            {
                break;
            }

            if (id is Pad or Start)
            {
                continue;
            }

            if ((uint)id >= (uint)_tokens.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary of {_tokens.Length} tokens.");
            }

            words.Add(_tokens[id]);
        }

        return string.Join(' ', words);
    }

    /// <summary>Writes <c>vocab.json</c> into <paramref name="directory"/>.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, FileName), JsonSerializer.SerializeToUtf8Bytes(new { tokens = _tokens }));
    }

    /// <summary>Reads a <c>vocab.json</c> file.</summary>
    /// <exception cref="InvalidDataException">The file is not a vocabulary of this format; the message names it.</exception>
    public static Vocabulary Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Vocabulary file {path} does not exist.", path);
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            if (!document.RootElement.TryGetProperty("tokens", out var tokens) || tokens.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"{path}: expected {{\"tokens\": [...]}}.");
            }

            var list = tokens.EnumerateArray()
                .Select(t => t.ValueKind == JsonValueKind.String ? t.GetString()! : throw new InvalidDataException($"{path}: every token must be a string, found {t.ValueKind}."))
                .ToArray();
            return new Vocabulary(list, path);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({ex.Message}).", ex);
        }
    }
}
