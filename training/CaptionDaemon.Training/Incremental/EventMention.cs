using CaptionDaemon.Training.Text;

namespace CaptionDaemon.Training.Incremental;

/// <summary>
/// Whether a caption names a sound event: it does when one of its words has the stem of a word of the event's own
/// caption ("a dog barks": dog, bark) or of its category ("car_horn": car, horn), function words and the scene
/// captions' framing words ("sound", "distance", ...) left out. Stems drop a plural or verb ending (barks, barking,
/// barked: bark; chopping: chop), so "a dog is barking" names "a dog barks".
/// </summary>
internal static class EventMention
{
    private static readonly HashSet<string> _ignored = new(StringComparer.Ordinal)
    {
        "a", "an", "the", "is", "are", "be", "being", "been", "in", "on", "at", "by", "of", "to", "into", "over", "under", "with",
        "and", "or", "while", "through", "from", "near", "across", "during", "as", "its", "it", "their", "his", "her",
        "someone", "something", "somebody", "some", "one", "two", "three", "twice", "several", "times", "once",
        "sound", "sounds", "noise", "heard", "can", "far", "away", "distance", "background", "then", "after", "before",
        "loud", "loudly", "quiet", "softly", "small", "large", "big", "up", "down", "out", "off", "again",
    };

    /// <summary>Whether a word is one of those that name no sound: function words and the captions' framing words.</summary>
    public static bool IsFunctionWord(string word) => _ignored.Contains(word);

    /// <summary>The stems that name <paramref name="clipEvent"/>.</summary>
    public static IReadOnlySet<string> Keywords(ClipEvent clipEvent)
    {
        ArgumentNullException.ThrowIfNull(clipEvent);
        return CaptionText.Tokenize(clipEvent.Caption)
            .Concat(CaptionText.Tokenize(clipEvent.Category.Replace('_', ' ')))
            .Where(w => !_ignored.Contains(w) && w.Length > 1)
            .Select(Stem)
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Whether <paramref name="caption"/> names <paramref name="clipEvent"/>.</summary>
    public static bool Names(string caption, ClipEvent clipEvent)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var keywords = Keywords(clipEvent);
        return CaptionText.Tokenize(caption).Any(w => keywords.Contains(Stem(w)));
    }

    /// <summary>A crude English stem: -ing, -ed, -es, -s removed when a stem of three letters or more remains, and a doubled final consonant undone.</summary>
    internal static string Stem(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        var stem = word;
        foreach (var suffix in new[] { "ing", "ed", "es", "s" })
        {
            if (stem.EndsWith(suffix, StringComparison.Ordinal) && stem.Length - suffix.Length >= 3 && !stem.EndsWith("ss", StringComparison.Ordinal))
            {
                stem = stem[..^suffix.Length];
                break;
            }
        }

        if (stem.Length >= 4 && stem[^1] == stem[^2] && !"aeiouls".Contains(stem[^1], StringComparison.Ordinal))
        {
            stem = stem[..^1];
        }

        // "-es" is a plural ending only after s, x, z, ch or sh ("boxes", "buses"); elsewhere the e belongs to the word ("chimes").
        if (word.EndsWith("es", StringComparison.Ordinal) && stem == word[..^2] && !(stem.EndsWith('s') || stem.EndsWith('x') || stem.EndsWith('z') || stem.EndsWith("ch", StringComparison.Ordinal) || stem.EndsWith("sh", StringComparison.Ordinal)))
        {
            stem = word[..^1];
        }

        // A final silent e is dropped from every form, so "chime", "chimes" and "chiming" share a stem.
        if (stem.Length >= 4 && stem[^1] == 'e')
        {
            stem = stem[..^1];
        }

        return stem;
    }
}
