namespace CaptionDaemon.Training.Data.Scenes;

/// <summary>
/// Mixes one scene from in-memory recordings of one split: low-level noise, optionally a looped steady background,
/// and 1-3 events with varied level, onset, repeats and distance; then captions it. Everything random comes from the
/// <see cref="Random"/> handed in, so a clip is a pure function of its seed.
/// </summary>
internal sealed class SceneGenerator
{
    private const double BackgroundProbability = 0.75;
    private const double DistantProbability = 0.2;

    private readonly int _sampleRate;
    private readonly int _length;
    private readonly double _seconds;
    private readonly Dictionary<string, SplitSounds> _splits;

    /// <summary>A generator over <paramref name="sounds"/>; <paramref name="splitOf"/> gives every recording's split, or is null for every split to draw from all of them.</summary>
    public SceneGenerator(IReadOnlyList<SourceSound> sounds, IReadOnlyDictionary<string, string>? splitOf, int sampleRate, double seconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seconds, 4.0);
        _sampleRate = sampleRate;
        _seconds = seconds;
        _length = checked((int)Math.Round(seconds * sampleRate));
        _splits = splitOf is null
            ? ClothoDataset.Splits.ToDictionary(split => split, _ => new SplitSounds(sounds.ToList()), StringComparer.Ordinal)
            : sounds
                .GroupBy(s => splitOf[s.Id], StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => new SplitSounds(g.ToList()), StringComparer.Ordinal);
    }

    /// <summary>The recordings a split may use as events and as backgrounds.</summary>
    public (int Events, int Backgrounds) Count(string split)
        => _splits.TryGetValue(split, out var s) ? (s.Events.Count, s.Backgrounds.Count) : (0, 0);

    /// <summary>Generates one clip of the split; returns its description and its samples (exactly seconds x rate).</summary>
    public (Scene Scene, float[] Audio) Generate(string split, string file, Random random)
    {
        if (!_splits.TryGetValue(split, out var sounds) || sounds.Events.Count == 0)
        {
            throw new InvalidOperationException($"Split '{split}' has no event recordings to build scenes from.");
        }

        var audio = new float[_length];
        var noiseDb = Uniform(random, -66, -54);
        AddNoise(audio, noiseDb, random);

        SourceSound? background = null;
        SceneBackground? backgroundInfo = null;
        var backgroundDb = double.NegativeInfinity;
        if (sounds.Backgrounds.Count > 0 && random.NextDouble() < BackgroundProbability)
        {
            background = PickByCategory(sounds.Backgrounds, random, exclude: null);
        }

        // A background whose category is the only one with events would leave nothing to caption over it.
        if (background is not null && sounds.EventCategories(background.Category) == 0)
        {
            background = null;
        }

        if (background is not null)
        {
            backgroundDb = Uniform(random, -38, -26);
            var gainDb = backgroundDb - background.ActiveRmsDb;
            var offset = random.Next(background.Samples.Length);
            AddLooped(audio, background.Samples, offset, (float)DbToGain(gainDb));
            backgroundInfo = new SceneBackground(
                background.Id, background.Category, background.Entry.Caption, Round((double)offset / _sampleRate), Round(gainDb), Round(backgroundDb));
        }

        var eventCount = Math.Min(PickEventCount(random), sounds.EventCategories(background?.Category));
        var events = PlanEvents(sounds, eventCount, background?.Category, random);
        var placed = new List<SceneEvent>();
        foreach (var planned in events)
        {
            var segment = planned.Sound.Samples.AsSpan(planned.StartSample, planned.LengthSamples).ToArray();
            Fade(segment, cropped: planned.LengthSamples < planned.Sound.Samples.Length);
            var distant = random.NextDouble() < DistantProbability;
            double levelDb;
            if (distant)
            {
                LowPass(segment, Uniform(random, 700, 1800));
                levelDb = Math.Max(Uniform(random, -38, -31), backgroundDb + 3);
            }
            else
            {
                levelDb = Math.Max(Uniform(random, -24, -12), backgroundDb + 8);
            }

            var gainDb = levelDb - SoundLibrary.ActiveRmsDb(segment, _sampleRate / 100);
            var gain = (float)DbToGain(gainDb);
            for (var r = 0; r < planned.Repeats; r++)
            {
                var at = (int)Math.Round((planned.Onset + (r * (planned.Seconds + planned.Gap))) * _sampleRate);
                Add(audio, segment, at, gain);
            }

            placed.Add(new SceneEvent(
                planned.Sound.Id,
                planned.Sound.Category,
                planned.Sound.Entry.Caption,
                Round(planned.Onset),
                Round(planned.Seconds),
                Round((double)planned.StartSample / _sampleRate),
                planned.Repeats,
                Round(planned.Gap),
                Round(gainDb),
                Round(levelDb),
                distant));
        }

        // Loud events on a loud background can clip; scale the whole clip, which keeps every relative level.
        var peak = audio.Max(MathF.Abs);
        if (peak > 0.95f)
        {
            var scale = 0.95f / peak;
            for (var i = 0; i < audio.Length; i++)
            {
                audio[i] *= scale;
            }
        }

        var overlaps = placed.Select((e, i) => i > 0 && e.Onset < placed[i - 1].End - 0.05).ToList();
        var captionEvents = placed
            .Select((e, i) => new CaptionEvent(events[i].Sound.Phrase, events[i].Sound.GenericPhrase, e.Repeats, e.Distant))
            .ToList();
        var captionBackground = background is null ? null : new CaptionEvent(background.Phrase, background.GenericPhrase, 1, Distant: false);
        var captions = SceneCaptioner.Caption(captionEvents, overlaps, captionBackground, random);
        return (new Scene(file, split, _seconds, placed, backgroundInfo, Round(noiseDb), captions), audio);
    }

    private static int PickEventCount(Random random)
    {
        var u = random.NextDouble();
        return u < 0.35 ? 1 : u < 0.8 ? 2 : 3;
    }

    /// <summary>Chooses events of different categories, crops and repeats them, and places them so they all fit.</summary>
    private List<PlannedEvent> PlanEvents(SplitSounds sounds, int count, string? backgroundCategory, Random random)
    {
        var chosen = new List<SourceSound>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        if (backgroundCategory is not null)
        {
            used.Add(backgroundCategory);
        }

        for (var i = 0; i < count; i++)
        {
            var sound = PickByCategory(sounds.Events, random, used);
            chosen.Add(sound);
            used.Add(sound.Category);
        }

        for (var attempt = 0; ; attempt++)
        {
            // After a few failed placements, shorter crops and fewer repeats; after more, one event fewer.
            var shrink = attempt >= 4;
            if (attempt > 0 && attempt % 8 == 0 && chosen.Count > 1)
            {
                chosen.RemoveAt(chosen.Count - 1);
            }

            var plan = chosen.Select(s => Crop(s, shrink, random)).ToList();
            if (Place(plan, random))
            {
                return plan;
            }

            if (attempt > 200)
            {
                throw new InvalidOperationException($"Could not fit {chosen.Count} event(s) into {_seconds} s.");
            }
        }
    }

    private PlannedEvent Crop(SourceSound sound, bool shrink, Random random)
    {
        var total = sound.Samples.Length;
        var maxSeconds = shrink ? Uniform(random, 1.0, 2.0) : Uniform(random, 1.5, 4.0);
        var length = Math.Min(total, (int)(maxSeconds * _sampleRate));
        var start = length < total ? random.Next(total - length + 1) : 0;
        var seconds = (double)length / _sampleRate;
        var u = random.NextDouble();
        var repeats = shrink ? 1
            : seconds <= 1.2 ? (u < 0.5 ? 1 : u < 0.75 ? 2 : u < 0.9 ? 3 : 4)
            : seconds <= 2.5 ? (u < 0.7 ? 1 : 2)
            : 1;
        return new PlannedEvent(sound, start, length, seconds, repeats, repeats > 1 ? Uniform(random, 0.15, 0.8) : 0);
    }

    /// <summary>Sets onsets: each event after the previous (a sequence) or during it (an overlap); false if they do not fit.</summary>
    private bool Place(List<PlannedEvent> plan, Random random)
    {
        var onset = Uniform(random, 0.1, 2.0);
        for (var i = 0; i < plan.Count; i++)
        {
            if (i > 0)
            {
                var previous = plan[i - 1];
                onset = random.NextDouble() < 0.5
                    ? previous.End + Uniform(random, 0.2, 1.5)
                    : previous.Onset + (Uniform(random, 0.1, 0.6) * (previous.End - previous.Onset));
            }

            plan[i].Onset = onset;
        }

        return plan.All(p => p.End <= _seconds - 0.05);
    }

    /// <summary>A category first (weighted by the square root of its recordings, so big ones do not swamp the rest), then a recording.</summary>
    private static SourceSound PickByCategory(IReadOnlyList<SourceSound> sounds, Random random, HashSet<string>? exclude)
    {
        var categories = sounds
            .Where(s => exclude is null || !exclude.Contains(s.Category))
            .GroupBy(s => s.Category, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        if (categories.Count == 0)
        {
            throw new InvalidOperationException("No recording of an unused category is left for this scene.");
        }

        var weights = categories.Select(g => Math.Sqrt(g.Count())).ToArray();
        var u = random.NextDouble() * weights.Sum();
        var index = 0;
        while (index < weights.Length - 1 && u >= weights[index])
        {
            u -= weights[index++];
        }

        var members = categories[index].ToList();
        return members[random.Next(members.Count)];
    }

    /// <summary>Quiet broadband noise (white noise through a gentle low-pass), so no clip is digitally silent.</summary>
    private static void AddNoise(float[] audio, double levelDb, Random random)
    {
        var noise = new float[audio.Length];
        var state = 0.0;
        for (var i = 0; i < noise.Length; i++)
        {
            state = (0.7 * state) + (0.3 * ((random.NextDouble() * 2) - 1));
            noise[i] = (float)state;
        }

        var rms = Math.Sqrt(noise.Average(x => (double)x * x));
        var gain = (float)(DbToGain(levelDb) / Math.Max(rms, 1e-9));
        for (var i = 0; i < audio.Length; i++)
        {
            audio[i] += noise[i] * gain;
        }
    }

    /// <summary>Adds a recording looped from an offset over the whole clip, with short crossfades at the seams.</summary>
    private void AddLooped(float[] audio, float[] source, int offset, float gain)
    {
        var fade = Math.Min(_sampleRate / 4, source.Length / 4);
        var position = offset;
        for (var i = 0; i < audio.Length; i++)
        {
            if (position >= source.Length)
            {
                position = fade;
            }

            var sample = source[position];
            // Near the end of the recording, fade into its beginning so that the loop point does not click.
            var toEnd = source.Length - position;
            if (toEnd <= fade && fade > 0)
            {
                var w = (float)toEnd / fade;
                sample = (sample * w) + (source[fade - toEnd] * (1 - w));
            }

            audio[i] += sample * gain;
            position++;
        }
    }

    private static void Add(float[] audio, float[] segment, int at, float gain)
    {
        var count = Math.Min(segment.Length, audio.Length - at);
        for (var i = 0; i < count; i++)
        {
            audio[at + i] += segment[i] * gain;
        }
    }

    /// <summary>Fades the ends of a segment: 5 ms against clicks, longer when it was cut out of a longer recording.</summary>
    private void Fade(float[] segment, bool cropped)
    {
        var fadeIn = Math.Min(segment.Length / 4, _sampleRate * (cropped ? 20 : 5) / 1000);
        var fadeOut = Math.Min(segment.Length / 4, _sampleRate * (cropped ? 150 : 5) / 1000);
        for (var i = 0; i < fadeIn; i++)
        {
            segment[i] *= (float)i / fadeIn;
        }

        for (var i = 0; i < fadeOut; i++)
        {
            segment[segment.Length - 1 - i] *= (float)i / fadeOut;
        }
    }

    /// <summary>A two-pass one-pole low-pass: what distance does to a sound besides making it quieter.</summary>
    private void LowPass(float[] segment, double cutoffHz)
    {
        var a = (float)Math.Exp(-2 * Math.PI * cutoffHz / _sampleRate);
        for (var pass = 0; pass < 2; pass++)
        {
            var y = 0f;
            for (var i = 0; i < segment.Length; i++)
            {
                y = ((1 - a) * segment[i]) + (a * y);
                segment[i] = y;
            }
        }
    }

    private static double Uniform(Random random, double low, double high) => low + (random.NextDouble() * (high - low));

    private static double DbToGain(double db) => Math.Pow(10, db / 20);

    private static double Round(double value) => Math.Round(value, 3);

    private sealed class PlannedEvent(SourceSound sound, int startSample, int lengthSamples, double seconds, int repeats, double gap)
    {
        public SourceSound Sound { get; } = sound;

        public int StartSample { get; } = startSample;

        public int LengthSamples { get; } = lengthSamples;

        public double Seconds { get; } = seconds;

        public int Repeats { get; } = repeats;

        public double Gap { get; } = gap;

        public double Onset { get; set; }

        public double End => Onset + (Repeats * Seconds) + ((Repeats - 1) * Gap);
    }

    private sealed class SplitSounds(List<SourceSound> sounds)
    {
        public IReadOnlyList<SourceSound> Events { get; } = sounds.Where(s => !s.IsBackground).ToList();

        public IReadOnlyList<SourceSound> Backgrounds { get; } = sounds.Where(s => s.IsBackground).ToList();

        /// <summary>How many different event categories a scene with this background category can draw from.</summary>
        public int EventCategories(string? backgroundCategory)
            => Events.Select(s => s.Category).Where(c => c != backgroundCategory).Distinct(StringComparer.Ordinal).Count();
    }
}
