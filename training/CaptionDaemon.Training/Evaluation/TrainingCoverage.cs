using System.Text.Json.Nodes;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Sounds;

namespace CaptionDaemon.Training.Evaluation;

/// <summary>A sound of a category (a scene event, an isolated recording) and whether its caption names it.</summary>
internal sealed record NamedSound(string Category, bool Named);

/// <summary>
/// How many train recordings each category has in a sounds folder (the <c>index.jsonl</c> of <c>data fetch</c>), so that
/// <c>eval --sounds</c> can say where recall is lost: in categories the model had enough recordings of, or in categories
/// it barely or never heard in training. Sounds fall into fixed bands of train recordings (0, 1-5, 6-20, 21-60, 61 or
/// more): a band's share of the sounds is also the most a perfect hearer of that band alone could add to the recall.
/// </summary>
internal sealed class TrainingCoverage
{
    /// <summary>The bands, by the train recordings of the event's category: a name and the highest count it holds.</summary>
    internal static readonly IReadOnlyList<(string Name, int Max)> Bands = [("0", 0), ("1-5", 5), ("6-20", 20), ("21-60", 60), ("61+", int.MaxValue)];

    private readonly Dictionary<string, int> _trainRecordings;

    internal TrainingCoverage(IReadOnlyDictionary<string, int> trainRecordings)
        => _trainRecordings = new Dictionary<string, int>(trainRecordings, StringComparer.Ordinal);

    /// <summary>Counts the train split's recordings per category of a sounds folder.</summary>
    /// <exception cref="DatasetFormatException">The folder has no index, or its index has no train recordings.</exception>
    public static TrainingCoverage Load(string soundsDirectory, CancellationToken cancellationToken = default)
    {
        var counts = SoundIndex.Load(soundsDirectory, cancellationToken)
            .Where(e => e.Split == "train")
            .GroupBy(e => e.Category, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        if (counts.Count == 0)
        {
            throw new DatasetFormatException($"{Path.Combine(soundsDirectory, SoundIndex.FileName)} lists no train recordings: give the sounds folder the model trained on.");
        }

        return new TrainingCoverage(counts);
    }

    /// <summary>Train recordings of a category (0 when it has none).</summary>
    public int TrainRecordings(string category) => _trainRecordings.GetValueOrDefault(category);

    /// <summary>The band of a category.</summary>
    public string Band(string category)
    {
        var count = TrainRecordings(category);
        return Bands.First(b => count <= b.Max).Name;
    }

    /// <summary>
    /// Per band (all bands, in order, empty ones too): <c>train_recordings</c> (the band), the band's sounds (key
    /// <paramref name="noun"/>: "events", "recordings"), their <c>share_of_</c><paramref name="noun"/> and the share named
    /// (key <paramref name="recallKey"/>; null for a band without sounds).
    /// </summary>
    public JsonArray Breakdown(IReadOnlyList<NamedSound> sounds, string noun, string recallKey)
    {
        var byBand = sounds.ToLookup(e => Band(e.Category), StringComparer.Ordinal);
        var rows = new JsonArray();
        foreach (var (name, _) in Bands)
        {
            var band = byBand[name].ToList();
            rows.Add(new JsonObject
            {
                ["train_recordings"] = name,
                [noun] = band.Count,
                ["share_of_" + noun] = sounds.Count == 0 ? 0 : Math.Round((double)band.Count / sounds.Count, 4),
                [recallKey] = band.Count == 0 ? null : Math.Round((double)band.Count(e => e.Named) / band.Count, 4),
            });
        }

        return rows;
    }
}
