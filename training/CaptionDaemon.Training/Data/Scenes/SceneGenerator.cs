namespace CaptionDaemon.Training.Data.Scenes;

/// <summary>
/// Mixes one scene from in-memory recordings of one split. A clip kind is drawn first (<see cref="SceneKindShares"/>):
/// one everyday event, a mixture, speech, music, a radio or television under an event, a steady background alone, or a
/// quiet room. Everything sits on low-level noise; events get realistic levels (-5..+25 dB over a background), some a
/// synthetic room (<see cref="RoomReverb"/>) and some distance (quieter, low-passed). Everything random comes from the
/// <see cref="Random"/> handed in, so a clip is a pure function of its seed.
/// </summary>
internal sealed class SceneGenerator
{
    private const double DistantProbability = 0.2;
    private const double ReverbProbability = 0.35;

    private readonly int _sampleRate;
    private readonly int _length;
    private readonly double _seconds;
    private readonly SceneKindShares _shares;
    private readonly double _backgroundChance;
    private readonly double _digitalSilenceChance;
    private readonly Dictionary<string, SplitSounds> _splits;

    /// <summary>
    /// A generator over <paramref name="sounds"/>; <paramref name="splitOf"/> gives every recording's split, or is null for
    /// every split to draw from all of them. <paramref name="backgroundChance"/> scales the chance of a steady background
    /// under single events, mixtures, speech and music (1: the defaults of <see cref="MaybeAmbience"/>; 0: never).
    /// <paramref name="digitalSilenceChance"/> is the share of clips with no noise floor (0: all have one).
    /// </summary>
    public SceneGenerator(IReadOnlyList<SourceSound> sounds, IReadOnlyDictionary<string, string>? splitOf, int sampleRate, double seconds, SceneKindShares? shares = null, double backgroundChance = 1.0, double digitalSilenceChance = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seconds, 4.0);
        if (!(backgroundChance >= 0 && double.IsFinite(backgroundChance)))
        {
            throw new ArgumentOutOfRangeException(nameof(backgroundChance), backgroundChance, "The background chance must be a finite number of 0 or more.");
        }

        if (!(digitalSilenceChance >= 0 && digitalSilenceChance <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(digitalSilenceChance), digitalSilenceChance, "The digital-silence chance must be a number from 0 to 1.");
        }

        _backgroundChance = backgroundChance;
        _digitalSilenceChance = digitalSilenceChance;
        _sampleRate = sampleRate;
        _seconds = seconds;
        _shares = shares ?? SceneKindShares.Default;
        _length = checked((int)Math.Round(seconds * sampleRate));
        _splits = splitOf is null
            ? ClothoDataset.Splits.ToDictionary(split => split, _ => new SplitSounds(sounds.ToList()), StringComparer.Ordinal)
            : sounds
                .GroupBy(s => splitOf[s.Id], StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => new SplitSounds(g.ToList()), StringComparer.Ordinal);
    }

    /// <summary>The recordings a split may use as events (everyday, speech and music) and as steady backgrounds.</summary>
    public (int Events, int Backgrounds) Count(string split)
        => _splits.TryGetValue(split, out var s)
            ? (s.Events.Count + s.Speech.Count + s.Music.Count, s.Backgrounds.Count + s.QuietBackgrounds.Count)
            : (0, 0);

    /// <summary>Generates one clip of the split; returns its description and its samples (exactly seconds x rate).</summary>
    public (Scene Scene, float[] Audio) Generate(string split, string file, Random random)
    {
        if (!_splits.TryGetValue(split, out var sounds) || Count(split) == (0, 0))
        {
            throw new InvalidOperationException($"Split '{split}' has no recordings to build scenes from.");
        }

        var kind = sounds.Feasible(_shares.Pick(random));
        var mix = new Mix(new float[_length]);
        // A file's clip may have no noise floor at all: digital silence between its sounds. Drawn only when asked for, so
        // a set made without it is the same clip for clip as before the option existed.
        if (!(_digitalSilenceChance > 0 && random.NextDouble() < _digitalSilenceChance))
        {
            mix.NoiseDb = Uniform(random, -66, -54);
            AddNoise(mix.Audio, mix.NoiseDb.Value, random);
        }

        IReadOnlyList<string> captions;
        switch (kind)
        {
            case SceneKind.Quiet:
                captions = SceneCaptioner.CaptionQuiet(AddQuietBackground(mix, sounds, random), random);
                break;
            case SceneKind.Ambience:
                var ambience = AddAmbience(mix, sounds.Backgrounds.Pick(random, exclude: null), Uniform(random, -40, -20), random);
                captions = SceneCaptioner.CaptionBackgroundOnly(ambience, random);
                break;
            default:
                var background = kind switch
                {
                    SceneKind.MediaBackground => AddMedia(mix, sounds, random),
                    _ => MaybeAmbience(mix, sounds, kind, random),
                };
                var captionEvents = AddEvents(mix, sounds, kind, random, out var overlaps);
                captions = SceneCaptioner.Caption(captionEvents, overlaps, background, random);
                break;
        }

        // Loud events on a loud background can clip; scale the whole clip, which keeps every relative level.
        var peak = mix.Audio.Max(MathF.Abs);
        if (peak > 0.95f)
        {
            var scale = 0.95f / peak;
            for (var i = 0; i < mix.Audio.Length; i++)
            {
                mix.Audio[i] *= scale;
            }
        }

        var quiet = SceneKinds.IsQuiet(mix.Events.Count, mix.Background?.Category);
        var scene = new Scene(
            file, split, SceneKinds.Name(kind), quiet, _seconds, mix.Events, mix.Background, mix.NoiseDb is { } noise ? Round(noise) : null, mix.HumDb is { } hum ? Round(hum) : null, captions, mix.Tone);
        return (scene, mix.Audio);
    }

    /// <summary>
    /// What sounds in half the quiet clips: a hum/fan/room-tone recording (half of them), else a synthetic mains hum or a
    /// steady tone (a whine, a test tone, a held beep: a steady sound that is no event, which a captioner that never heard
    /// one alone calls an organ). The other half have only their noise floor.
    /// </summary>
    private QuietSound AddQuietBackground(Mix mix, SplitSounds sounds, Random random)
    {
        if (random.NextDouble() < 0.5)
        {
            return QuietSound.None;
        }

        if (sounds.QuietBackgrounds.Count > 0 && random.NextDouble() < 0.5)
        {
            var sound = sounds.QuietBackgrounds.Pick(random, exclude: null);
            AddAmbience(mix, sound, Uniform(random, -52, -40), random);
            return sound.Category != "room_tone" ? QuietSound.Hum : QuietSound.None;
        }

        if (random.NextDouble() < 0.5)
        {
            mix.Tone = new SteadyTone(
                Round(100 * Math.Pow(50, random.NextDouble())), random.Next(1, 4), Round(Uniform(random, -50, -18)));
            AddTone(mix.Audio, mix.Tone);
            return QuietSound.Tone;
        }

        mix.HumDb = Uniform(random, -56, -44);
        AddHum(mix.Audio, random.NextDouble() < 0.5 ? 50 : 60, mix.HumDb.Value, random.NextDouble() * 2 * Math.PI);
        return QuietSound.Hum;
    }

    /// <summary>The ambience kinds' chance of a steady background under their events.</summary>
    private CaptionEvent? MaybeAmbience(Mix mix, SplitSounds sounds, SceneKind kind, Random random)
    {
        var probability = kind switch
        {
            SceneKind.Single => 0.6,
            SceneKind.Mixture => 0.75,
            SceneKind.Speech => 0.5,
            _ => 0.4,
        } * _backgroundChance;
        if (sounds.Backgrounds.Count == 0 || random.NextDouble() >= probability)
        {
            return null;
        }

        var background = sounds.Backgrounds.Pick(random, exclude: null);
        // A background whose category is the only one with events would leave nothing to caption over it.
        if ((kind is SceneKind.Single or SceneKind.Mixture) && sounds.Events.CategoriesExcept(background.Category) == 0)
        {
            return null;
        }

        return AddAmbience(mix, background, Uniform(random, -45, -22), random);
    }

    /// <summary>Loops a steady recording over the clip at <paramref name="levelDb"/>.</summary>
    private CaptionEvent AddAmbience(Mix mix, SourceSound background, double levelDb, Random random)
    {
        var gainDb = levelDb - background.ActiveRmsDb;
        var offset = random.Next(background.Samples.Length);
        AddLooped(mix.Audio, background.Samples, offset, (float)DbToGain(gainDb));
        mix.Background = new SceneBackground(
            background.Id, background.Category, background.Entry.Caption, Round((double)offset / _sampleRate), Round(gainDb), Round(levelDb));
        mix.FloorDb = levelDb;
        return new CaptionEvent(background.Phrase, background.GenericPhrase, 1, Distant: false);
    }

    /// <summary>A radio or television: speech of one speaker or music of one instrument, one recording after another, band-limited and quiet.</summary>
    private CaptionEvent AddMedia(Mix mix, SplitSounds sounds, Random random)
    {
        var speech = sounds.Speech.Count > 0 && (sounds.Music.Count == 0 || random.NextDouble() < 0.6);
        var first = (speech ? sounds.Speech : sounds.Music).Pick(random, exclude: null);
        var family = (speech ? sounds.Speech.All : sounds.Music.All)
            .Where(s => speech ? SameSpeaker(s, first) : s.Category == first.Category)
            .ToList();
        var stream = new List<float>(_length);
        var chained = new List<string>();
        var sound = first;
        var position = random.Next(Math.Max(1, first.Samples.Length / 2));
        while (stream.Count < _length)
        {
            chained.Add(sound.Id);
            stream.AddRange(sound.Samples.AsSpan(position).ToArray());
            stream.AddRange(new float[(int)(Uniform(random, speech ? 0.15 : 0, speech ? 0.7 : 0.2) * _sampleRate)]);
            sound = family[random.Next(family.Count)];
            position = 0;
        }

        var signal = stream.GetRange(0, _length).ToArray();
        Fade(signal, cropped: true);
        HighPass(signal, Uniform(random, 150, 300));
        LowPass(signal, Uniform(random, 3000, 5500));
        var levelDb = Uniform(random, -42, -28);
        var gainDb = levelDb - SoundLibrary.ActiveRmsDb(signal, _sampleRate / 100);
        Add(mix.Audio, signal, 0, (float)DbToGain(gainDb));
        var media = speech && random.NextDouble() < 0.5 ? "television" : "radio";
        mix.Background = new SceneBackground(
            first.Id, first.Category, first.Entry.Caption, 0, Round(gainDb), Round(levelDb), media, chained.Skip(1).Distinct(StringComparer.Ordinal).ToList());
        mix.FloorDb = levelDb;

        string[] phrasings = !speech
            ? ["music plays in the background", "a radio plays music in the background", "a radio plays in the background"]
            : media == "television"
                ? ["a television talks in the background", "voices come from a television in the background", "people talk on a television in the background"]
                : ["a radio plays in the background", "a radio host talks in the background", "people talk on the radio in the background"];
        var order = phrasings.OrderBy(_ => random.Next()).ToList();
        return new CaptionEvent(EventPhrase.Parse(order[0]), EventPhrase.Parse(order[1]), 1, Distant: false);
    }

    private static bool SameSpeaker(SourceSound candidate, SourceSound speaker)
        => speaker.Entry.Speaker is { } name ? candidate.Entry.Speaker == name : candidate.Entry.Package == speaker.Entry.Package;

    /// <summary>Chooses, shapes and places the events of the clip and returns them as the captioner sees them.</summary>
    private List<CaptionEvent> AddEvents(Mix mix, SplitSounds sounds, SceneKind kind, Random random, out List<bool> overlaps)
    {
        var exclude = new HashSet<string>(StringComparer.Ordinal);
        if (mix.Background is { Media: null } background)
        {
            exclude.Add(background.Category);
        }

        var chosen = new List<SourceSound>();
        var forceOverlap = false;
        switch (kind)
        {
            case SceneKind.Speech:
                var speaker = sounds.Speech.Pick(random, exclude: null);
                chosen.Add(speaker);
                var others = sounds.Speech.All.Where(s => !SameSpeaker(s, speaker)).ToList();
                if (others.Count > 0 && random.NextDouble() < 0.35)
                {
                    chosen.Add(others[random.Next(others.Count)]);
                    forceOverlap = true;
                }

                break;
            case SceneKind.Music:
                chosen.Add(sounds.Music.Pick(random, exclude: null));
                break;
            default:
                var count = kind switch
                {
                    SceneKind.Mixture => random.NextDouble() < 0.7 ? 2 : 3,
                    SceneKind.MediaBackground => random.NextDouble() < 0.8 ? 1 : 2,
                    _ => 1,
                };
                count = Math.Max(1, Math.Min(count, sounds.Events.CategoriesExcept(exclude)));
                for (var i = 0; i < count; i++)
                {
                    var sound = sounds.Events.Pick(random, exclude);
                    chosen.Add(sound);
                    exclude.Add(sound.Category);
                }

                break;
        }

        var plan = PlanEvents(chosen, forceOverlap, random);
        foreach (var planned in plan)
        {
            var segment = planned.Sound.Samples.AsSpan(planned.StartSample, planned.LengthSamples).ToArray();
            Fade(segment, cropped: planned.LengthSamples < planned.Sound.Samples.Length);
            var distant = random.NextDouble() < DistantProbability;
            double? rt60 = null;
            var wet = 0.0;
            if (distant || random.NextDouble() < ReverbProbability)
            {
                rt60 = Uniform(random, RoomReverb.MinRt60, RoomReverb.MaxRt60);
                wet = distant ? Uniform(random, 0.4, 0.75) : Uniform(random, 0.15, 0.5);
                RoomReverb.Apply(segment, _sampleRate, rt60.Value, wet, random);
            }

            if (distant)
            {
                LowPass(segment, Uniform(random, 700, 1800));
            }

            var levelDb = EventLevel(mix.FloorDb, distant, random);
            var gainDb = levelDb - SoundLibrary.ActiveRmsDb(segment, _sampleRate / 100);
            var gain = (float)DbToGain(gainDb);
            for (var r = 0; r < planned.Repeats; r++)
            {
                var at = (int)Math.Round((planned.Onset + (r * (planned.Seconds + planned.Gap))) * _sampleRate);
                Add(mix.Audio, segment, at, gain);
            }

            mix.Events.Add(new SceneEvent(
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
                distant,
                rt60 is { } t ? Round(t) : null,
                Round(wet)));
        }

        if (kind == SceneKind.Speech && mix.Events.Count == 2)
        {
            // Two voices at once are captioned as one event that names both speakers.
            overlaps = [false];
            return [TwoSpeakers(plan[0].Sound, plan[1].Sound, mix.Events.Any(e => e.Distant), random)];
        }

        overlaps = mix.Events.Select((e, i) => i > 0 && e.Onset < mix.Events[i - 1].End - 0.05).ToList();
        return mix.Events
            .Select((e, i) => new CaptionEvent(plan[i].Sound.Phrase, plan[i].Sound.GenericPhrase, e.Repeats, e.Distant))
            .ToList();
    }

    /// <summary>"a man and a woman talk", "two women talk over each other", "people talk over each other".</summary>
    private static CaptionEvent TwoSpeakers(SourceSound a, SourceSound b, bool distant, Random random)
    {
        var sexes = new[] { a.Entry.Sex, b.Entry.Sex };
        var rest = random.NextDouble() < 0.5 ? "over each other" : string.Empty;
        var subject = sexes switch
        {
            ["male", "male"] => "two men",
            ["female", "female"] => "two women",
            ["male", "female"] or ["female", "male"] => "a man and a woman",
            _ => "two people",
        };
        var phrase = EventPhrase.Create(PhraseKind.Active, subject, "talk", rest, plural: true);
        var generic = EventPhrase.Create(PhraseKind.Active, "people", "talk", "over each other", plural: true);
        return new CaptionEvent(phrase, generic, 1, distant);
    }

    /// <summary>
    /// An event's level: -5..+25 dB over the background (a quiet event may sit under it), or -40..-12 dBFS over the
    /// bare noise floor; distant events lower.
    /// </summary>
    private static double EventLevel(double? floorDb, bool distant, Random random)
    {
        var level = floorDb is { } floor
            ? floor + (distant ? Uniform(random, -5, 10) : Uniform(random, -5, 25))
            : distant ? Uniform(random, -45, -32) : Uniform(random, -40, -12);
        return Math.Min(level, -8);
    }

    /// <summary>Crops, repeats and places the chosen events so they all fit; drops the last after many failed tries.</summary>
    private List<PlannedEvent> PlanEvents(List<SourceSound> chosen, bool forceOverlap, Random random)
    {
        for (var attempt = 0; ; attempt++)
        {
            // After a few failed placements, shorter crops and fewer repeats; after more, one event fewer.
            var shrink = attempt >= 4;
            if (attempt > 0 && attempt % 8 == 0 && chosen.Count > 1)
            {
                chosen.RemoveAt(chosen.Count - 1);
            }

            var plan = chosen.Select(s => Crop(s, shrink, random)).ToList();
            if (Place(plan, forceOverlap, random))
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
        // Speech and music last longer than a bark or a door; short everyday sounds may repeat.
        var (low, high) = sound.IsSpeech ? (2.0, 6.0) : sound.IsMusic ? (3.0, 8.0) : (1.5, 4.0);
        var maxSeconds = shrink ? Uniform(random, 1.0, 2.0) : Uniform(random, low, high);
        var length = Math.Min(total, (int)(maxSeconds * _sampleRate));
        var start = length < total ? random.Next(total - length + 1) : 0;
        var seconds = (double)length / _sampleRate;
        var u = random.NextDouble();
        var repeats = shrink || sound.IsSpeech || sound.IsMusic ? 1
            : seconds <= 1.2 ? (u < 0.5 ? 1 : u < 0.75 ? 2 : u < 0.9 ? 3 : 4)
            : seconds <= 2.5 ? (u < 0.7 ? 1 : 2)
            : 1;
        return new PlannedEvent(sound, start, length, seconds, repeats, repeats > 1 ? Uniform(random, 0.15, 0.8) : 0);
    }

    /// <summary>Sets onsets: each event after the previous (a sequence) or during it (an overlap); false if they do not fit.</summary>
    private bool Place(List<PlannedEvent> plan, bool forceOverlap, Random random)
    {
        var onset = Uniform(random, 0.1, 2.0);
        for (var i = 0; i < plan.Count; i++)
        {
            if (i > 0)
            {
                var previous = plan[i - 1];
                onset = !forceOverlap && random.NextDouble() < 0.5
                    ? previous.End + Uniform(random, 0.2, 1.5)
                    : previous.Onset + (Uniform(random, 0.1, 0.6) * (previous.End - previous.Onset));
            }

            plan[i].Onset = onset;
        }

        return plan.All(p => p.End <= _seconds - 0.05);
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

    /// <summary>A one-pole high-pass: a small loudspeaker has no bass.</summary>
    private void HighPass(float[] signal, double cutoffHz)
    {
        var a = (float)Math.Exp(-2 * Math.PI * cutoffHz / _sampleRate);
        var low = 0f;
        for (var i = 0; i < signal.Length; i++)
        {
            low = ((1 - a) * signal[i]) + (a * low);
            signal[i] -= low;
        }
    }

    /// <summary>Mains hum: the fundamental and two weaker harmonics at <paramref name="levelDb"/> RMS.</summary>
    private void AddHum(float[] audio, double frequency, double levelDb, double phase)
    {
        // RMS of 1, 0.5 and 0.25 amplitude sines together: sqrt((1 + 0.25 + 0.0625) / 2).
        var amplitude = DbToGain(levelDb) / Math.Sqrt(1.3125 / 2);
        for (var i = 0; i < audio.Length; i++)
        {
            var t = 2 * Math.PI * frequency * i / _sampleRate;
            audio[i] += (float)(amplitude * (Math.Sin(t + phase) + (0.5 * Math.Sin((2 * t) + phase)) + (0.25 * Math.Sin(3 * t))));
        }
    }

    /// <summary>A steady tone: partials 1..n of the fundamental (amplitudes 1, 1/2, 1/4), constant over the clip, at its RMS level.</summary>
    private void AddTone(float[] audio, SteadyTone tone)
    {
        var partials = Enumerable.Range(1, tone.Partials).Where(k => k * tone.FrequencyHz < _sampleRate / 2.0).ToList();
        var amplitude = DbToGain(tone.LevelDb) / Math.Sqrt(partials.Sum(k => Math.Pow(0.25, k - 1)) / 2);
        for (var i = 0; i < audio.Length; i++)
        {
            var t = 2 * Math.PI * tone.FrequencyHz * i / _sampleRate;
            audio[i] += (float)(amplitude * partials.Sum(k => Math.Pow(0.5, k - 1) * Math.Sin(k * t)));
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

    /// <summary>What one clip has so far: audio, events, background and levels.</summary>
    private sealed class Mix(float[] audio)
    {
        public float[] Audio { get; } = audio;

        public List<SceneEvent> Events { get; } = [];

        public SceneBackground? Background { get; set; }

        /// <summary>Level of the background events are set against; null over the bare noise floor.</summary>
        public double? FloorDb { get; set; }

        /// <summary>Level of the noise floor; null for digital silence.</summary>
        public double? NoiseDb { get; set; }

        public double? HumDb { get; set; }

        public SteadyTone? Tone { get; set; }
    }

    /// <summary>Recordings of one role grouped by category, for picking a category first and a recording second.</summary>
    private sealed class SoundPool
    {
        private readonly List<(string Category, List<SourceSound> Members)> _categories;

        public SoundPool(IEnumerable<SourceSound> sounds)
        {
            All = sounds.ToList();
            _categories = All.GroupBy(s => s.Category, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => (g.Key, g.ToList()))
                .ToList();
        }

        public List<SourceSound> All { get; }

        public int Count => All.Count;

        public int CategoryCount => _categories.Count;

        public int CategoriesExcept(string? category) => _categories.Count(c => c.Category != category);

        public int CategoriesExcept(IReadOnlySet<string> categories) => _categories.Count(c => !categories.Contains(c.Category));

        /// <summary>A category first (weighted by the square root of its recordings, so big ones do not swamp the rest), then a recording.</summary>
        public SourceSound Pick(Random random, IReadOnlySet<string>? exclude)
        {
            var open = exclude is null ? _categories : _categories.Where(c => !exclude.Contains(c.Category)).ToList();
            if (open.Count == 0)
            {
                throw new InvalidOperationException("No recording of an unused category is left for this scene.");
            }

            var weights = open.Select(c => Math.Sqrt(c.Members.Count)).ToArray();
            var u = random.NextDouble() * weights.Sum();
            var index = 0;
            while (index < weights.Length - 1 && u >= weights[index])
            {
                u -= weights[index++];
            }

            var members = open[index].Members;
            return members[random.Next(members.Count)];
        }
    }

    private sealed class SplitSounds(List<SourceSound> sounds)
    {
        /// <summary>Everyday events (not speech, music or steady backgrounds).</summary>
        public SoundPool Events { get; } = new(sounds.Where(s => !s.IsBackground && !s.IsSpeech && !s.IsMusic));

        public SoundPool Speech { get; } = new(sounds.Where(s => s.IsSpeech && !s.IsBackground));

        public SoundPool Music { get; } = new(sounds.Where(s => s.IsMusic && !s.IsBackground));

        /// <summary>Nameable steady backgrounds (rain, wind, fire...).</summary>
        public SoundPool Backgrounds { get; } = new(sounds.Where(s => s.IsBackground && !s.IsQuietBackground));

        /// <summary>Hum, fan and room tone.</summary>
        public SoundPool QuietBackgrounds { get; } = new(sounds.Where(s => s.IsQuietBackground));

        /// <summary><paramref name="kind"/> if this split has the recordings for it, else the first feasible kind of a fixed order.</summary>
        public SceneKind Feasible(SceneKind kind)
        {
            foreach (var candidate in new[] { kind, SceneKind.Single, SceneKind.Speech, SceneKind.Music, SceneKind.Ambience, SceneKind.Quiet })
            {
                var possible = candidate switch
                {
                    SceneKind.Single => Events.Count > 0,
                    SceneKind.Mixture => Events.CategoryCount > 1,
                    SceneKind.Speech => Speech.Count > 0,
                    SceneKind.Music => Music.Count > 0,
                    SceneKind.MediaBackground => Events.Count > 0 && (Speech.Count > 0 || Music.Count > 0),
                    SceneKind.Ambience => Backgrounds.Count > 0,
                    _ => true,
                };
                if (possible)
                {
                    return candidate;
                }
            }

            return SceneKind.Quiet;
        }
    }
}
