using System.Globalization;

namespace CaptionDaemon.Training.Data.Scenes;

/// <summary>What a clip holds; scenes.jsonl writes it as <see cref="SceneKinds.Name"/>.</summary>
internal enum SceneKind
{
    /// <summary>One everyday sound event, optionally over a steady background: the most common case on a real microphone.</summary>
    Single,

    /// <summary>Two or three events of different categories in sequence or overlapping.</summary>
    Mixture,

    /// <summary>Someone speaks, or two people talk over each other.</summary>
    Speech,

    /// <summary>An instrument plays ("a piano plays").</summary>
    Music,

    /// <summary>A radio or television in the room (speech or music, lower and band-limited) under one or two events.</summary>
    MediaBackground,

    /// <summary>A nameable steady background (rain, wind, a fire) and nothing else; captions name the background.</summary>
    Ambience,

    /// <summary>Noise floor only, perhaps a low hum or fan: captions say that nothing notable happens.</summary>
    Quiet,
}

/// <summary>Names of the clip kinds and the rule that says a clip is quiet, shared by the generator and evaluation.</summary>
internal static class SceneKinds
{
    /// <summary>Background categories that are no sound worth naming: a quiet clip may hold them and still be quiet.</summary>
    public static readonly IReadOnlySet<string> QuietBackgroundCategories = new HashSet<string>(StringComparer.Ordinal) { "hum", "fan", "room_tone" };

    /// <summary>Captions of a quiet clip with only the noise floor. A small fixed set, so a model can learn to say them.</summary>
    public static readonly IReadOnlyList<string> NothingNotable =
    [
        "a quiet room with nothing happening",
        "nothing happens in a quiet room",
        "silence with only faint background noise",
        "a quiet room where nothing can be heard",
        "it is quiet and nothing happens",
        "faint noise in a silent room and nothing else",
    ];

    /// <summary>Captions of a quiet clip with a low hum or fan.</summary>
    public static readonly IReadOnlyList<string> NothingNotableButHum =
    [
        "only a low hum in a quiet room",
        "a low hum in a quiet room and nothing else",
        "a quiet room with a faint hum and nothing happening",
        "nothing happens except a low hum",
        "a faint hum can be heard and nothing else happens",
    ];

    /// <summary>Captions of a quiet clip with a steady tone.</summary>
    public static readonly IReadOnlyList<string> NothingNotableButTone =
    [
        "a steady tone in a quiet room and nothing else",
        "nothing happens except a steady tone",
        "only a faint steady tone can be heard",
        "a quiet room with a steady tone and nothing happening",
        "a steady tone sounds and nothing else happens",
    ];

    private static readonly string[] s_names = ["single", "mixture", "speech", "music", "media_background", "ambience", "quiet"];

    /// <summary>The kind as scenes.jsonl and <c>--kinds</c> spell it ("media_background").</summary>
    public static string Name(SceneKind kind) => s_names[(int)kind];

    /// <summary>The kind of a name; false for an unknown one.</summary>
    public static bool TryParse(string name, out SceneKind kind)
    {
        var index = Array.IndexOf(s_names, name);
        kind = index < 0 ? default : (SceneKind)index;
        return index >= 0;
    }

    /// <summary>
    /// The rule for "nothing notable happens": no event and no background other than a hum, fan or room tone. Eval counts
    /// a caption of such a clip that names a sound event as a false alarm. A clip of rain alone is not quiet: rain is
    /// something people want named.
    /// </summary>
    public static bool IsQuiet(int eventCount, string? backgroundCategory)
        => eventCount == 0 && (backgroundCategory is null || QuietBackgroundCategories.Contains(backgroundCategory));

    /// <summary>Whether a caption is one of the nothing-notable phrasings (case and final period ignored).</summary>
    public static bool IsNothingNotable(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var text = caption.Trim().TrimEnd('.').ToLowerInvariant();
        return NothingNotable.Contains(text, StringComparer.Ordinal) || NothingNotableButHum.Contains(text, StringComparer.Ordinal)
            || NothingNotableButTone.Contains(text, StringComparer.Ordinal);
    }
}

/// <summary>
/// How often each <see cref="SceneKind"/> is drawn. Shares are normalised; a kind whose recordings a split lacks falls
/// back (see <see cref="SceneGenerator"/>), so the shares hold exactly only when every kind can be made.
/// </summary>
internal sealed class SceneKindShares
{
    /// <summary>The default mix: single events most often, as on a real microphone; speech, music, media and quiet clips.</summary>
    public static SceneKindShares Default { get; } = new(new Dictionary<SceneKind, double>
    {
        [SceneKind.Single] = 0.40,
        [SceneKind.Mixture] = 0.20,
        [SceneKind.Speech] = 0.10,
        [SceneKind.Music] = 0.08,
        [SceneKind.MediaBackground] = 0.07,
        [SceneKind.Ambience] = 0.08,
        [SceneKind.Quiet] = 0.07,
    });

    /// <summary>Event clips only (1 event 35%, mixtures 65%), as scenes were before the other kinds: every clip has an event.</summary>
    public static SceneKindShares EventsOnly { get; } = new(new Dictionary<SceneKind, double>
    {
        [SceneKind.Single] = 0.35,
        [SceneKind.Mixture] = 0.65,
    });

    private readonly double[] _cumulative;

    public SceneKindShares(IReadOnlyDictionary<SceneKind, double> shares)
    {
        ArgumentNullException.ThrowIfNull(shares);
        if (shares.Values.Any(v => v < 0 || !double.IsFinite(v)) || shares.Values.Sum() <= 0)
        {
            throw new ArgumentException("Scene kind shares must be finite, non-negative and not all zero.", nameof(shares));
        }

        var total = shares.Values.Sum();
        Shares = Enum.GetValues<SceneKind>().ToDictionary(k => k, k => shares.GetValueOrDefault(k) / total);
        _cumulative = new double[Shares.Count];
        var sum = 0.0;
        foreach (var kind in Enum.GetValues<SceneKind>())
        {
            sum += Shares[kind];
            _cumulative[(int)kind] = sum;
        }
    }

    /// <summary>Every kind's share, summing to 1.</summary>
    public IReadOnlyDictionary<SceneKind, double> Shares { get; }

    /// <summary>Parses <c>single=0.4,mixture=0.2,...</c>; kinds left out get 0, the rest is normalised.</summary>
    /// <exception cref="ArgumentException">An unknown kind, a bad number or all zero; the message names the part.</exception>
    public static SceneKindShares Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var shares = new Dictionary<SceneKind, double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pair = part.Split('=', StringSplitOptions.TrimEntries);
            if (pair.Length != 2 || !SceneKinds.TryParse(pair[0], out var kind)
                || !double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var share) || share < 0)
            {
                throw new ArgumentException(
                    $"--kinds: '{part}' is not kind=share with a kind of {string.Join(", ", Enum.GetValues<SceneKind>().Select(SceneKinds.Name))} and a share >= 0.");
            }

            shares[kind] = share;
        }

        return new SceneKindShares(shares);
    }

    /// <summary>Draws a kind.</summary>
    public SceneKind Pick(Random random)
    {
        var u = random.NextDouble();
        for (var i = 0; i < _cumulative.Length; i++)
        {
            if (u < _cumulative[i])
            {
                return (SceneKind)i;
            }
        }

        return Enum.GetValues<SceneKind>().Last(k => Shares[k] > 0);
    }

    public override string ToString()
        => string.Join(",", Shares.Where(p => p.Value > 0).Select(p => string.Create(CultureInfo.InvariantCulture, $"{SceneKinds.Name(p.Key)}={p.Value:0.###}")));
}
