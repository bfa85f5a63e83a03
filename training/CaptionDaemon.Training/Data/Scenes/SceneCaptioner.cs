namespace CaptionDaemon.Training.Data.Scenes;

/// <summary>An event as a caption sees it: its phrases, how often it occurs and whether it sounds far away.</summary>
internal sealed record CaptionEvent(EventPhrase Phrase, EventPhrase? GenericPhrase, int Repeats, bool Distant);

/// <summary>
/// Writes five captions for a scene in varied natural phrasing, from the events' phrases ("a dog barks"): finite, -ing
/// and "can be heard" forms, counts for repeats ("twice", "three times"), "in the distance" for quiet low-passed events,
/// "followed by"/"then"/"before" for sequences, "while"/"as"/"and" for overlaps, "over the sound of"/"in the background"
/// for the background. Every caption names every event (and the background in most), so the captions agree on the
/// content and differ in wording, as the five human captions of a Clotho clip do.
/// </summary>
internal static class SceneCaptioner
{
    public const int CaptionsPerClip = 5;

    /// <summary>Longest caption in words; the decoder's table holds 31 tokens plus end.</summary>
    public const int MaxWords = 24;

    /// <summary>Five distinct captions. <paramref name="overlapsPrevious"/>[i] says whether event i overlaps event i-1.</summary>
    public static IReadOnlyList<string> Caption(
        IReadOnlyList<CaptionEvent> events, IReadOnlyList<bool> overlapsPrevious, CaptionEvent? background, Random random)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(random);
        if (events.Count == 0)
        {
            throw new ArgumentException("A scene needs at least one event.", nameof(events));
        }

        var captions = new List<string>(CaptionsPerClip);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // Later rounds drop details (adverbs of the background, then the background) when long captions do not fit.
        for (var round = 0; round < 40 && captions.Count < CaptionsPerClip; round++)
        {
            var withBackground = background is not null && round < 30 && (round % 5 != 4 || captions.Count < 4);
            var mentions = events.Select(e => Mention.Pick(e, random)).ToList();
            var backgroundMention = withBackground ? Mention.Pick(background!, random) : null;
            var text = Compose(mentions, overlapsPrevious, backgroundMention, random);
            text = Tidy(text);
            if (text.Split(' ').Length <= MaxWords && seen.Add(text))
            {
                captions.Add(text);
            }
        }

        // Only scenes whose every wording is too long get here: plain forms without background, then repeats.
        var plain = new[]
        {
            string.Join(" and ", events.Select(e => e.Phrase.Clause())),
            string.Join(" and ", events.Select(e => e.Phrase.Progressive())),
            string.Join(" and ", events.Select(e => e.Phrase.Gerund())),
            string.Join(", then ", events.Select(e => e.Phrase.Clause())),
        };
        foreach (var text in plain.Select(Tidy).Where(seen.Add))
        {
            if (captions.Count < CaptionsPerClip)
            {
                captions.Add(text);
            }
        }

        while (captions.Count < CaptionsPerClip)
        {
            captions.Add(captions[captions.Count % Math.Max(1, captions.Count)]);
        }

        return captions;
    }

    /// <summary>
    /// Five captions of a clip with only a nameable steady background ("steady rain falls and nothing else happens"):
    /// the background is named in every caption, and most say that nothing else happens.
    /// </summary>
    public static IReadOnlyList<string> CaptionBackgroundOnly(CaptionEvent background, Random random)
    {
        ArgumentNullException.ThrowIfNull(background);
        ArgumentNullException.ThrowIfNull(random);
        var captions = new List<string>(CaptionsPerClip);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var round = 0; round < 60 && captions.Count < CaptionsPerClip; round++)
        {
            var b = Mention.Pick(background, random);
            var text = Tidy(Pick(
                random,
                () => $"{b.Clause()} and nothing else happens",
                () => $"only {b.Gerund()} can be heard",
                () => $"{b.Progressive()} with nothing else happening",
                () => $"the steady sound of {b.Gerund()}",
                () => $"{b.Clause()} steadily and nothing else can be heard",
                () => $"nothing happens except {b.Gerund()}",
                () => b.Clause()));
            if (seen.Add(text))
            {
                captions.Add(text);
            }
        }

        while (captions.Count < CaptionsPerClip)
        {
            captions.Add(captions[captions.Count % captions.Count]);
        }

        return captions;
    }

    /// <summary>Five of the fixed nothing-notable phrasings (<see cref="SceneKinds"/>): the hum ones when a hum or fan sounds, the tone ones for a steady tone.</summary>
    public static IReadOnlyList<string> CaptionQuiet(QuietSound sound, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var phrasings = sound switch
        {
            QuietSound.Hum => SceneKinds.NothingNotableButHum,
            QuietSound.Tone => SceneKinds.NothingNotableButTone,
            _ => SceneKinds.NothingNotable,
        };
        return phrasings.OrderBy(_ => random.Next()).Take(CaptionsPerClip).Select(Tidy).ToList();
    }

    private static string Compose(List<Mention> events, IReadOnlyList<bool> overlaps, Mention? background, Random random)
    {
        if (events.Count == 1)
        {
            var e = events[0];
            if (background is null)
            {
                return Pick(random, e.Clause, e.Progressive, e.Gerund, () => "the sound of " + e.Gerund(), e.Heard, e.Clause);
            }

            var b = background;
            return Pick(
                random,
                () => $"{e.Clause()} while {b.Clause()}",
                () => $"{b.Clause()} as {e.Clause()}",
                () => $"{e.Progressive()} over the sound of {b.Gerund()}",
                () => $"{e.Clause()} with {b.Gerund()} in the background",
                () => $"{e.Heard()} while {b.Clause()}",
                () => $"{b.Gerund()} in the background as {e.Clause()}",
                () => $"{e.Gerund()} and {b.Gerund()}",
                () => $"the sound of {e.Gerund()} over {b.Gerund()}");
        }

        // A core is either a clause ("a dog barks while a door closes") or a noun phrase ("a dog barking and a door
        // closing"); only a clause can follow "as" or take "while <background clause>".
        (string Text, bool Clause) core;
        if (events.Count == 2)
        {
            var (a, c) = (events[0], events[1]);
            core = overlaps[1]
                ? Pick(
                    random,
                    () => ($"{a.Clause()} while {c.Clause()}", true),
                    () => ($"{a.Progressive()} as {c.Clause()}", true),
                    () => ($"{a.Clause()} and {c.Clause()} at the same time", true),
                    () => ($"{a.Gerund()} and {c.Gerund()}", false),
                    () => ($"{c.Clause()} while {a.Clause()}", true),
                    () => ($"{a.Clause()} as {c.Clause()}", true))
                : Pick(
                    random,
                    () => ($"{a.Clause()}, followed by {c.Gerund()}", true),
                    () => ($"{a.Clause()} and then {c.Clause()}", true),
                    () => ($"{a.Clause()} before {c.Clause()}", true),
                    () => ($"{c.Clause()} after {a.Clause()}", true),
                    () => ($"{a.Gerund()} followed by {c.Gerund()}", false),
                    () => ($"first {a.Clause()}, then {c.Clause()}", true));
        }
        else
        {
            var (a, c, d) = (events[0], events[1], events[2]);
            var second = overlaps[1] ? $"while {c.Clause()}" : $"then {c.Clause()}";
            var third = overlaps[2] ? $"as {d.Clause()}" : $"and then {d.Clause()}";
            core = Pick(
                random,
                () => ($"{a.Gerund()}, {c.Gerund()} and {d.Gerund()}", false),
                () => ($"{a.Clause()}, {second}, {third}", true),
                () => ($"{a.Gerund()}, {c.Gerund()} and {d.Gerund()} can be heard", true),
                () => overlaps[1] ? ($"{a.Clause()} and {c.Clause()}, {third}", true) : ($"{a.Clause()}, followed by {c.Gerund()} and {d.Gerund()}", true),
                () => ($"there is {a.Gerund()}, {c.Gerund()} and {d.Gerund()}", true));
        }

        if (background is null)
        {
            return core.Text;
        }

        var text = core.Text;
        var options = new List<Func<string>>
        {
            () => $"{text} with {background.Gerund()} in the background",
            () => $"{text} over the sound of {background.Gerund()}",
        };
        if (core.Clause)
        {
            options.Add(() => $"{background.Gerund()} in the background as {text}");
            if (!text.Contains("while", StringComparison.Ordinal))
            {
                options.Add(() => $"{text} while {background.Clause()}");
            }
        }

        return options[random.Next(options.Count)]();
    }

    private static T Pick<T>(Random random, params Func<T>[] options) => options[random.Next(options.Length)]();

    private static string Tidy(string text)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // A media background phrase ends in "in the background" already ("a radio plays in the background").
        var sentence = string.Join(' ', words).Replace("in the background in the background", "in the background", StringComparison.Ordinal);
        return sentence.Length == 0 ? sentence : char.ToUpperInvariant(sentence[0]) + sentence[1..];
    }

    /// <summary>One wording of one event in one caption: the specific or the generic phrase, with its adverbs.</summary>
    private sealed class Mention
    {
        private readonly EventPhrase _phrase;
        private readonly string? _count;
        private readonly string? _progressiveCount;
        private readonly string? _distance;

        private Mention(EventPhrase phrase, string? count, string? progressiveCount, string? distance)
        {
            _phrase = phrase;
            _count = count;
            _progressiveCount = progressiveCount;
            _distance = distance;
        }

        public static Mention Pick(CaptionEvent e, Random random)
        {
            var phrase = e.GenericPhrase is not null && random.NextDouble() < 0.4 ? e.GenericPhrase : e.Phrase;
            string? count = e.Repeats switch
            {
                <= 1 => null,
                2 => "twice",
                3 => random.NextDouble() < 0.6 ? "three times" : "repeatedly",
                _ => random.NextDouble() < 0.5 ? "repeatedly" : "several times",
            };
            var progressiveCount = e.Repeats >= 3 ? "repeatedly" : null;
            var distance = e.Distant ? (random.NextDouble() < 0.75 ? "in the distance" : "far away") : null;
            return new Mention(phrase, count, progressiveCount, distance);
        }

        public string Clause() => _phrase.Clause(Adverbs(_count));

        public string Progressive() => _phrase.Progressive(Adverbs(_progressiveCount));

        // A bare noun phrase cannot take a count ("an explosion twice"); it keeps only the distance.
        public string Gerund() => _phrase.Gerund(Adverbs(_phrase.Kind == PhraseKind.Noun ? null : _count));

        public string Heard() => _phrase.HeardDoing(Adverbs(_count));

        private string? Adverbs(string? count) => count is null ? _distance : _distance is null ? count : count + " " + _distance;
    }
}
