using System.Collections.Concurrent;
using System.Globalization;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using CaptionDaemon.Training.Data.Sounds;

namespace CaptionDaemon.Training.Data.Scenes;

/// <summary>A recording decoded into memory, trimmed to where it sounds, with what the scene generator needs to know.</summary>
internal sealed class SourceSound
{
    public required SoundIndexEntry Entry { get; init; }

    /// <summary>Mono samples at the scene rate, leading and trailing silence removed.</summary>
    public required float[] Samples { get; init; }

    /// <summary>RMS level (dBFS) of the loud part (frames within 20 dB of the loudest), the reference for mixing gains.</summary>
    public required double ActiveRmsDb { get; init; }

    /// <summary>A steady ambience (rain, wind, a running engine...) that can fill a whole clip as a background.</summary>
    public required bool IsBackground { get; init; }

    public required EventPhrase Phrase { get; init; }

    /// <summary>The same event with the category's generic subject ("a hawk screeches" -> "a bird screeches"), if one applies.</summary>
    public required EventPhrase? GenericPhrase { get; init; }

    public string Id => Entry.Id;

    public string Category => Entry.Category;

    /// <summary>Someone speaking (index group SPEECH): used by speech and radio/television clips, not as an everyday event.</summary>
    public bool IsSpeech => Entry.Group == "SPEECH";

    /// <summary>An instrument playing (index group MUS): used by music and radio clips, not as an everyday event.</summary>
    public bool IsMusic => Entry.Group == "MUS";

    /// <summary>A hum, fan or room tone: what a quiet clip may hold.</summary>
    public bool IsQuietBackground => IsBackground && SceneKinds.QuietBackgroundCategories.Contains(Entry.Category);

    public double Seconds(int sampleRate) => (double)Samples.Length / sampleRate;
}

/// <summary>The recordings of a sounds folder (written by <c>data fetch</c>) held in memory for scene generation.</summary>
internal sealed class SoundLibrary
{
    /// <summary>Categories whose steady recordings may serve as a clip's background.</summary>
    public static readonly IReadOnlySet<string> BackgroundCategories = new HashSet<string>(StringComparer.Ordinal)
    {
        "rain", "wind", "water", "fire", "insect", "traffic", "engine", "machine", "static", "crowd", "city", "steam",
        "harbor", "farm", "children", "construction", "ship", "hum", "fan", "room_tone",
    };

    // Generic subjects per category (singular, plural), used in some captions so that a small vocabulary sees the same
    // word for every recording of a category.
    private static readonly Dictionary<string, (string Singular, string Plural)> s_genericSubjects = new(StringComparer.Ordinal)
    {
        ["bird"] = ("a bird", "birds"),
        ["cow"] = ("a cow", "cows"),
        ["dog"] = ("a dog", "dogs"),
        ["monkey"] = ("a monkey", "monkeys"),
        ["insect"] = ("an insect", "insects"),
        ["sheep"] = ("a sheep", "sheep"),
        ["wolf"] = ("a wolf", "wolves"),
        ["deer"] = ("a deer", "deer"),
        ["pig"] = ("a pig", "pigs"),
        ["horse"] = ("a horse", "horses"),
        ["gunshot"] = ("a gun", "guns"),
        ["airplane"] = ("an airplane", "airplanes"),
        ["train"] = ("a train", "trains"),
        ["door"] = ("a door", "doors"),
        ["chicken"] = ("a chicken", "chickens"),
        ["engine"] = ("an engine", "engines"),
        ["siren"] = ("a siren", "sirens"),
        ["crowd"] = ("a crowd", "crowds"),
        ["telephone"] = ("a phone", "phones"),
        ["clock"] = ("a clock", "clocks"),
        ["camera"] = ("a camera", "cameras"),
        ["fire"] = ("a fire", "fires"),
        ["wind"] = ("wind", "winds"),
        ["rain"] = ("rain", "rains"),
        ["thunder"] = ("thunder", "thunder"),
        ["traffic"] = ("traffic", "cars"),
        ["drum"] = ("a drum", "drums"),
        ["helicopter"] = ("a helicopter", "helicopters"),
        ["machine"] = ("a machine", "machines"),
        ["owl"] = ("an owl", "owls"),
        ["duck"] = ("a duck", "ducks"),
        ["cat"] = ("a cat", "cats"),
    };

    private SoundLibrary(IReadOnlyList<SourceSound> sounds, IReadOnlyList<string> skipped)
    {
        Sounds = sounds;
        Skipped = skipped;
    }

    /// <summary>The usable recordings, ordered by id.</summary>
    public IReadOnlyList<SourceSound> Sounds { get; }

    /// <summary>Why recordings were left out (too short, silent, duplicate of another).</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>Decodes every recording of the index once (in parallel) and analyses it.</summary>
    public static SoundLibrary Load(string soundsDirectory, int sampleRate, CancellationToken cancellationToken)
    {
        var entries = SoundIndex.Load(soundsDirectory, cancellationToken);
        if (entries.Count == 0)
        {
            throw new DatasetFormatException($"The sound index in '{soundsDirectory}' lists no recordings.");
        }

        var loaded = new ConcurrentBag<(SourceSound? Sound, string? Skip, ulong Hash)>();
        var options = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Math.Min(4, Environment.ProcessorCount) };
        Parallel.ForEach(entries, options, entry =>
        {
            var path = Path.Combine(soundsDirectory, entry.File);
            var samples = WavFile.TryReadMono16(path, sampleRate, cancellationToken) ?? AudioDecoder.Decode(path, sampleRate, cancellationToken);
            loaded.Add(Analyze(entry, samples, sampleRate));
        });

        var sounds = new List<SourceSound>();
        var skipped = new List<string>();
        var byHash = new Dictionary<ulong, string>();
        foreach (var (sound, skip, hash) in loaded.OrderBy(l => l.Sound?.Id ?? l.Skip, StringComparer.Ordinal))
        {
            if (sound is null)
            {
                skipped.Add(skip!);
            }
            else if (byHash.TryGetValue(hash, out var original))
            {
                // Several packages ship the same file; one copy in two splits would leak test audio into training.
                skipped.Add($"{sound.Id}: same audio as {original}");
            }
            else
            {
                byHash.Add(hash, sound.Id);
                sounds.Add(sound);
            }
        }

        return new SoundLibrary(sounds, skipped);
    }

    /// <summary>Trims silence, measures level and steadiness, and builds the caption phrases of one recording.</summary>
    internal static (SourceSound? Sound, string? Skip, ulong Hash) Analyze(SoundIndexEntry entry, float[] samples, int sampleRate)
    {
        var frame = sampleRate / 100; // 10 ms
        var frameDb = FrameLevels(samples, frame);
        var loudest = frameDb.Length == 0 ? double.NegativeInfinity : frameDb.Max();
        if (loudest < -60)
        {
            return (null, string.Create(CultureInfo.InvariantCulture, $"{entry.Id}: silent (loudest 10 ms at {loudest:0} dBFS)"), 0);
        }

        // Trim to the frames within 45 dB of the loudest, keeping one frame of margin on each side.
        var threshold = Math.Max(loudest - 45, -70);
        var first = Array.FindIndex(frameDb, d => d >= threshold);
        var last = Array.FindLastIndex(frameDb, d => d >= threshold);
        var start = Math.Max(0, (first - 1) * frame);
        var end = Math.Min(samples.Length, (last + 2) * frame);
        var trimmed = samples[start..end];
        if (trimmed.Length < sampleRate / 10)
        {
            return (null, string.Create(CultureInfo.InvariantCulture, $"{entry.Id}: too short ({(double)trimmed.Length / sampleRate:0.000} s of sound)"), 0);
        }

        var trimmedDb = frameDb[first..(last + 1)];
        var activeRms = ActiveRmsDb(trimmed, frame);
        var seconds = (double)trimmed.Length / sampleRate;
        var isBackground = BackgroundCategories.Contains(entry.Category) && seconds >= 2.5 && Spread(trimmedDb, frame, sampleRate) < 14;
        var phrase = EventPhrase.Parse(entry.Caption);
        EventPhrase? generic = null;
        if (s_genericSubjects.TryGetValue(entry.Category, out var subjects))
        {
            var candidate = phrase.WithSubject(phrase.Plural ? subjects.Plural : subjects.Singular, phrase.Plural);
            generic = candidate.Subject == phrase.Subject ? null : candidate;
        }
        else if (phrase.Kind == PhraseKind.Noun && phrase.Subject.StartsWith("footsteps ", StringComparison.Ordinal))
        {
            // "footsteps on gravel" also reads as "someone walks on gravel".
            generic = EventPhrase.Parse("someone walks " + phrase.Subject["footsteps ".Length..]);
        }

        var hash = BinaryPrimitives.ReadUInt64LittleEndian(SHA256.HashData(MemoryMarshal.AsBytes(samples.AsSpan())));
        var sound = new SourceSound
        {
            Entry = entry,
            Samples = trimmed,
            ActiveRmsDb = activeRms,
            IsBackground = isBackground,
            Phrase = phrase,
            GenericPhrase = generic,
        };
        return (sound, null, hash);
    }

    /// <summary>RMS level (dBFS) of the frames within 20 dB of the loudest one.</summary>
    internal static double ActiveRmsDb(ReadOnlySpan<float> samples, int frame)
    {
        var levels = FrameLevels(samples, frame);
        if (levels.Length == 0)
        {
            return -120;
        }

        var loudest = levels.Max();
        var power = levels.Where(d => d >= loudest - 20).Select(d => Math.Pow(10, d / 10)).Average();
        return 10 * Math.Log10(power);
    }

    /// <summary>Level (dBFS) of consecutive frames; a last partial frame counts if it is at least half a frame.</summary>
    internal static double[] FrameLevels(ReadOnlySpan<float> samples, int frame)
    {
        var count = samples.Length / frame + (samples.Length % frame >= frame / 2 ? 1 : 0);
        var levels = new double[count];
        for (var f = 0; f < count; f++)
        {
            var slice = samples.Slice(f * frame, Math.Min(frame, samples.Length - (f * frame)));
            double sum = 0;
            foreach (var s in slice)
            {
                sum += s * s;
            }

            levels[f] = 10 * Math.Log10((sum / slice.Length) + 1e-12);
        }

        return levels;
    }

    /// <summary>Spread (dB) between the 90th and 10th percentile of 50 ms levels: small for steady sounds.</summary>
    private static double Spread(double[] levels10Ms, int frame, int sampleRate)
    {
        // Average five 10 ms frames in power to 50 ms, so that the grain of crackle or rain does not count as change.
        var per = Math.Max(1, sampleRate / 20 / frame);
        var coarse = new List<double>();
        for (var i = 0; i + per <= levels10Ms.Length; i += per)
        {
            coarse.Add(10 * Math.Log10(levels10Ms.Skip(i).Take(per).Select(d => Math.Pow(10, d / 10)).Average()));
        }

        if (coarse.Count < 10)
        {
            return double.PositiveInfinity;
        }

        var loudest = coarse.Max();
        var active = coarse.Where(d => d >= loudest - 30).Order().ToList();
        return active[(int)(active.Count * 0.9)] - active[(int)(active.Count * 0.1)];
    }
}
