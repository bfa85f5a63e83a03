namespace CaptionDaemon.Training.Data.Scenes;

/// <summary>How a caption is built grammatically.</summary>
internal enum PhraseKind
{
    /// <summary>Subject and a finite verb: "a dog barks", "birds sing in a forest".</summary>
    Active,

    /// <summary>Subject, is/are and a participle: "dice are rolled", "a ball is kicked".</summary>
    Passive,

    /// <summary>A noun phrase only: "an explosion", "footsteps on gravel", "radio static".</summary>
    Noun,
}

/// <summary>
/// A short sound caption ("a dog barks") split into subject, verb and the rest, so that scene captions can use it in
/// several grammatical forms: "a dog barks twice", "a dog is barking", "a dog barking in the distance", "a dog can be
/// heard barking". Parsing is a small heuristic for the catalog's captions (determiner + noun words + a verb in -s,
/// plural subject + base verb, passive, or noun phrase), with a few rewrites where a caption is ungrammatical or a bare
/// gerund.
/// </summary>
internal sealed class EventPhrase
{
    private static readonly HashSet<string> s_phraseBreakers = new(StringComparer.Ordinal)
    {
        "with", "and", "on", "in", "at", "by", "through", "into", "from", "over", "under", "near", "while", "during", "across",
    };

    private static readonly HashSet<string> s_irregularPlurals = new(StringComparer.Ordinal)
    {
        "people", "children", "sheep", "geese", "mice", "dice", "cattle", "men", "women",
    };

    // Plural nouns that end a caption without a verb ("night insects"), which the -s rule would take for a verb.
    private static readonly HashSet<string> s_pluralNouns = new(StringComparer.Ordinal)
    {
        "insects", "crickets", "birds", "footsteps", "horns", "animals", "waves", "bells", "cicadas", "pages", "seagulls",
        "wings", "tires", "horses", "fireworks", "scissors", "voices", "cars", "drums", "frogs",
    };

    // Words ending in -s that are nouns in the subject position of the catalog's captions, not verbs.
    private static readonly HashSet<string> s_sNouns = new(StringComparer.Ordinal)
    {
        "bus", "glass", "grass", "gas", "tennis", "dice", "bass", "cactus", "walrus", "compass", "chess",
    };

    // Captions of the catalog that read badly as they are, or are bare gerunds that make poor subjects.
    private static readonly Dictionary<string, string> s_rewrites = new(StringComparer.Ordinal)
    {
        ["a maracas plays"] = "maracas rattle",
        ["a bagpipes plays"] = "bagpipes play",
        ["a door knock/slam"] = "a door slams",
        ["hammering"] = "someone hammers",
        ["chopping wood"] = "someone chops wood",
        ["a drip"] = "water drips",
        ["flowing water"] = "water flows",
        ["walking on a wooden bridge"] = "someone walks on a wooden bridge",
        ["people cheer while bells ring"] = "a crowd cheers with bells ringing",
        ["a whistle"] = "a whistle blows",
        // The scene adds its own counts; a count inside the caption would read "honks twice twice".
        ["a car horn honks twice"] = "a car horn honks",
    };

    private EventPhrase(PhraseKind kind, string subject, string verb, string rest, bool plural)
    {
        Kind = kind;
        Subject = subject;
        Verb = verb;
        Rest = rest;
        Plural = plural;
    }

    public PhraseKind Kind { get; }

    /// <summary>The subject ("a dog"); for <see cref="PhraseKind.Noun"/> the whole noun phrase.</summary>
    public string Subject { get; }

    /// <summary>The verb as in the caption ("barks", "sing"), or the participle for passives; empty for noun phrases.</summary>
    public string Verb { get; }

    /// <summary>Words after the verb ("in a forest", "wood").</summary>
    public string Rest { get; }

    public bool Plural { get; }

    /// <summary>Parses a caption of the sound catalog.</summary>
    public static EventPhrase Parse(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var text = string.Join(' ', caption.Trim().ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries));
        text = s_rewrites.GetValueOrDefault(text, text);
        text = FixArticle(text);
        var words = text.Split(' ');

        // Passive: "<subject> is|are|being <participle> ..."; the copula must follow a subject word.
        for (var i = 1; i < words.Length - 1; i++)
        {
            if (words[i] is "is" or "are" && !words[..i].Any(s_phraseBreakers.Contains))
            {
                // "someone is crying" is a progressive, not a passive: keep its -ing form as the verb.
                if (words[i + 1].EndsWith("ing", StringComparison.Ordinal))
                {
                    return new EventPhrase(PhraseKind.Active, Join(words.Take(i)), ThirdPerson(words[i + 1][..^3]), Join(words.Skip(i + 2)), words[i] == "are");
                }

                return new EventPhrase(PhraseKind.Passive, Join(words.Take(i)), words[i + 1], Join(words.Skip(i + 2)), words[i] == "are");
            }
        }

        // Plural subject + base verb: "birds sing", "forest birds sing", "newspaper pages rustle".
        var hasDeterminer = words[0] is "a" or "an" or "the";
        var pronoun = words[0] is "someone" or "something" or "somebody";
        if (!hasDeterminer && !pronoun)
        {
            for (var i = 0; i < Math.Min(words.Length - 1, 3); i++)
            {
                if (s_phraseBreakers.Contains(words[i]))
                {
                    break;
                }

                if (IsPluralNoun(words[i]))
                {
                    var next = words[i + 1];
                    if (!s_phraseBreakers.Contains(next) && !next.EndsWith('s'))
                    {
                        return new EventPhrase(PhraseKind.Active, Join(words.Take(i + 1)), next, Join(words.Skip(i + 2)), plural: true);
                    }

                    break;
                }
            }
        }

        // Singular subject + verb in -s: "a dog barks", "someone bites an apple", "cold wind howls".
        var firstVerb = hasDeterminer ? 2 : 1;
        for (var i = firstVerb; i < words.Length; i++)
        {
            if (s_phraseBreakers.Contains(words[i]))
            {
                break;
            }

            if (words[i].Length > 2 && words[i].EndsWith('s') && !words[i].EndsWith("ss", StringComparison.Ordinal)
                && !s_sNouns.Contains(words[i]) && !s_pluralNouns.Contains(words[i]))
            {
                return new EventPhrase(PhraseKind.Active, Join(words.Take(i)), words[i], Join(words.Skip(i + 1)), plural: false);
            }
        }

        return new EventPhrase(PhraseKind.Noun, text, string.Empty, string.Empty, NounPhraseIsPlural(words, hasDeterminer));
    }

    /// <summary>A phrase built from its parts, for captions the generator composes itself ("a man and a woman" "talk").</summary>
    public static EventPhrase Create(PhraseKind kind, string subject, string verb, string rest, bool plural)
        => new(kind, FixArticle(subject), verb, rest, plural);

    /// <summary>The same event with another subject (a generic one: "a hawk screeches" -> "a bird screeches").</summary>
    public EventPhrase WithSubject(string subject, bool plural)
    {
        if (Kind == PhraseKind.Noun || plural != Plural)
        {
            return this;
        }

        return new EventPhrase(Kind, FixArticle(subject), Verb, Rest, plural);
    }

    /// <summary>A finite clause: "a dog barks twice", "dice are rolled", "an explosion is heard".</summary>
    public string Clause(string? adverb = null) => Kind switch
    {
        PhraseKind.Active => Join(Subject, Verb, Rest, adverb),
        PhraseKind.Passive => Join(Subject, Copula, Verb, Rest, adverb),
        _ => Join(Subject, Copula, "heard", adverb),
    };

    /// <summary>A progressive clause: "a dog is barking", "dice are being rolled", "an explosion can be heard".</summary>
    public string Progressive(string? adverb = null) => Kind switch
    {
        PhraseKind.Active => Join(Subject, Copula, Ing(Verb, Plural), Rest, adverb),
        PhraseKind.Passive => Join(Subject, Copula, "being", Verb, Rest, adverb),
        _ => Join(Subject, "can be heard", adverb),
    };

    /// <summary>A noun phrase for "followed by ...", "the sound of ...": "a dog barking", "dice being rolled", "an explosion".</summary>
    public string Gerund(string? adverb = null) => Kind switch
    {
        PhraseKind.Active => Join(Subject, Ing(Verb, Plural), Rest, adverb),
        PhraseKind.Passive => Join(Subject, "being", Verb, Rest, adverb),
        _ => Join(Subject, adverb),
    };

    /// <summary>"a dog can be heard barking"; passives and noun phrases: "... can be heard".</summary>
    public string HeardDoing(string? adverb = null) => Kind switch
    {
        PhraseKind.Active => Join(Subject, "can be heard", Ing(Verb, Plural), Rest, adverb),
        PhraseKind.Passive => Join(Subject, "can be heard being", Verb, Rest, adverb),
        _ => Join(Subject, "can be heard", adverb),
    };

    public override string ToString() => Clause();

    private string Copula => Plural ? "are" : "is";

    /// <summary>The -ing form of a verb given in the third person singular (or base form for plural subjects).</summary>
    internal static string Ing(string verb, bool isBaseForm)
    {
        var b = isBaseForm ? verb : BaseForm(verb);
        if (b.EndsWith("ie", StringComparison.Ordinal))
        {
            return b[..^2] + "ying";
        }

        if (b.EndsWith('e') && !b.EndsWith("ee", StringComparison.Ordinal) && !b.EndsWith("ye", StringComparison.Ordinal) && b.Length > 2)
        {
            return b[..^1] + "ing";
        }

        // One syllable ending consonant-vowel-consonant doubles the consonant: chop -> chopping, hum -> humming.
        if (b.Length >= 3 && IsConsonantVowelConsonantSyllable(b))
        {
            return b + b[^1] + "ing";
        }

        return b + "ing";
    }

    /// <summary>barks -> bark, crashes -> crash, flies -> fly, moos -> moo.</summary>
    internal static string BaseForm(string verb)
    {
        if (verb.EndsWith("ies", StringComparison.Ordinal) && verb.Length > 4)
        {
            return verb[..^3] + "y";
        }

        foreach (var ending in new[] { "sses", "shes", "ches", "xes", "zzes", "zes" })
        {
            if (verb.EndsWith(ending, StringComparison.Ordinal))
            {
                return verb[..^2];
            }
        }

        return verb.EndsWith('s') ? verb[..^1] : verb;
    }

    private static string ThirdPerson(string baseForm)
    {
        if (baseForm.EndsWith('y') && baseForm.Length > 1 && !"aeiou".Contains(baseForm[^2], StringComparison.Ordinal))
        {
            return baseForm[..^1] + "ies";
        }

        return baseForm.EndsWith('s') || baseForm.EndsWith("sh", StringComparison.Ordinal) || baseForm.EndsWith("ch", StringComparison.Ordinal)
            ? baseForm + "es"
            : baseForm + "s";
    }

    private static bool IsConsonantVowelConsonantSyllable(string word)
    {
        const string Vowels = "aeiou";
        var last = word[^1];
        if (Vowels.Contains(last, StringComparison.Ordinal) || last is 'w' or 'x' or 'y')
        {
            return false;
        }

        if (!Vowels.Contains(word[^2], StringComparison.Ordinal))
        {
            return false;
        }

        // Only one vowel in the whole word (one syllable), so "open" or "gallop" do not double.
        return word[..^2].All(c => !Vowels.Contains(c, StringComparison.Ordinal));
    }

    private static bool IsPluralNoun(string word)
        => s_irregularPlurals.Contains(word) || s_pluralNouns.Contains(word) || (word.Length > 3 && word.EndsWith('s') && !word.EndsWith("ss", StringComparison.Ordinal) && !s_sNouns.Contains(word));

    private static bool NounPhraseIsPlural(string[] words, bool hasDeterminer)
    {
        if (words.Contains("and"))
        {
            return true;
        }

        if (hasDeterminer)
        {
            return false;
        }

        var head = words.TakeWhile(w => !s_phraseBreakers.Contains(w)).LastOrDefault() ?? words[0];
        return IsPluralNoun(head);
    }

    /// <summary>"a" before a vowel sound becomes "an" ("a accordion" in the catalog) and the other way round.</summary>
    private static string FixArticle(string text)
    {
        var words = text.Split(' ');
        for (var i = 0; i < words.Length - 1; i++)
        {
            var next = words[i + 1];
            var vowelSound = next.Length > 0 && "aeio".Contains(next[0], StringComparison.Ordinal)
                || (next.StartsWith('u') && !next.StartsWith("uni", StringComparison.Ordinal) && !next.StartsWith("use", StringComparison.Ordinal) && !next.StartsWith("uku", StringComparison.Ordinal));
            if (words[i] == "a" && vowelSound)
            {
                words[i] = "an";
            }
            else if (words[i] == "an" && !vowelSound)
            {
                words[i] = "a";
            }
        }

        return string.Join(' ', words);
    }

    private static string Join(params string?[] parts)
        => string.Join(' ', parts.Where(p => !string.IsNullOrWhiteSpace(p)));

    private static string Join(IEnumerable<string> words) => string.Join(' ', words);
}
