using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Sounds;

namespace CaptionDaemon.Training.Tagging;

/// <summary>One isolated recording of a sounds folder with the index of its label, and the package it came from.</summary>
internal sealed record TaggedRecording(string Id, string Path, string Category, int Label, string? Package = null);

/// <summary>
/// The isolated recordings of one split of a sounds folder, labelled by their catalog category (speech is the
/// category <c>speech</c>, instruments are their own categories), plus the label <see cref="Nothing"/> that no recording
/// carries: quiet windows made by the trainer teach it. Audio is read from the 16 kHz WAVs per batch, so
/// 27,000 recordings need no memory beyond a batch.
/// </summary>
internal sealed class TaggingSet
{
    /// <summary>The label of quiet and background-only windows ("nothing notable").</summary>
    public const string Nothing = "nothing";

    /// <summary>
    /// Default exponent of the class-balanced sampling: a recording is drawn with weight (recordings of its category)^-e,
    /// so a category of n recordings gets n^(1-e) of the draws: 0 draws recordings uniformly, 1 every category equally.
    /// </summary>
    public const double DefaultBalanceExponent = 0.5;

    private readonly double[] _cumulativeWeights;

    private TaggingSet(IReadOnlyList<TaggedRecording> recordings, IReadOnlyList<string> labels, double balanceExponent, bool balancePackages)
    {
        Recordings = recordings;
        Labels = labels;
        var counts = recordings.GroupBy(r => r.Label).ToDictionary(g => g.Key, g => g.Count());
        var perPackage = recordings.GroupBy(r => (r.Label, r.Package)).ToDictionary(g => g.Key, g => g.Count());
        var packages = perPackage.Keys.GroupBy(k => k.Label).ToDictionary(g => g.Key, g => g.Count());
        _cumulativeWeights = new double[recordings.Count];
        var sum = 0.0;
        for (var i = 0; i < recordings.Count; i++)
        {
            var r = recordings[i];
            // A category's share of the draws is n^(1-e) either way: n^-e for each of its n recordings, or split evenly
            // among its packages first.
            sum += balancePackages
                ? Math.Pow(counts[r.Label], 1 - balanceExponent) / (packages[r.Label] * perPackage[(r.Label, r.Package)])
                : Math.Pow(counts[r.Label], -balanceExponent);
            _cumulativeWeights[i] = sum;
        }
    }

    public IReadOnlyList<TaggedRecording> Recordings { get; }

    public IReadOnlyList<string> Labels { get; }

    public int Count => Recordings.Count;

    /// <summary>The labels a run learns: the categories of the train split, sorted, then <see cref="Nothing"/>.</summary>
    public static IReadOnlyList<string> LabelsOf(IEnumerable<SoundIndexEntry> trainEntries) =>
        [.. trainEntries.Select(e => e.Category).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal), Nothing];

    /// <summary>
    /// The recordings of <paramref name="split"/> whose category is one of <paramref name="labels"/> (a category seen
    /// only outside the train split has no label to learn); one per content hash, since packages ship copies. Draws
    /// (<see cref="SampleBalanced"/>) give a category of n recordings n^(1-<paramref name="balanceExponent"/>) of the
    /// weight, spread evenly over its recordings, or with <paramref name="balancePackages"/> evenly over its packages
    /// first (a category's 49 recordings from one game and 3 from another then weigh alike).
    /// </summary>
    public static TaggingSet Of(
        string soundsDirectory, IReadOnlyList<SoundIndexEntry> entries, string split, IReadOnlyList<string> labels, double balanceExponent = DefaultBalanceExponent, bool balancePackages = false)
    {
        var index = labels.Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var recordings = entries
            .Where(e => string.Equals(e.Split ?? "train", split, StringComparison.Ordinal) && index.ContainsKey(e.Category))
            .Where(e => e.ContentHash is null || seen.Add(e.ContentHash))
            .Select(e => new TaggedRecording(e.Id, System.IO.Path.Combine(soundsDirectory, e.File), e.Category, index[e.Category], e.Package))
            .ToArray();
        return new TaggingSet(recordings, labels, balanceExponent, balancePackages);
    }

    /// <summary><paramref name="count"/> recordings drawn with replacement by the class-balanced weights.</summary>
    public int[] SampleBalanced(int count, Random random)
    {
        var total = _cumulativeWeights[^1];
        var drawn = new int[count];
        for (var i = 0; i < count; i++)
        {
            var position = Array.BinarySearch(_cumulativeWeights, random.NextDouble() * total);
            drawn[i] = Math.Min(position < 0 ? ~position : position, _cumulativeWeights.Length - 1);
        }

        return drawn;
    }

    /// <summary>The recording's samples at <paramref name="sampleRate"/>.</summary>
    /// <exception cref="AudioDecodeException">The file is not the 16-bit mono WAV that <c>data fetch</c> writes.</exception>
    public static float[] Read(TaggedRecording recording, int sampleRate) =>
        WavFile.TryReadMono16(recording.Path, sampleRate)
        ?? throw new AudioDecodeException($"{recording.Path}: not a 16-bit mono {sampleRate} Hz WAV as 'data fetch' writes; fetch the sounds folder again.");

    /// <summary>
    /// Copies a window of <paramref name="samples"/> into <paramref name="window"/> (cleared first): a longer recording is
    /// cropped, a shorter one placed, at a random offset, or centred when <paramref name="random"/> is null (evaluation).
    /// </summary>
    public static void CopyWindow(float[] samples, Span<float> window, Random? random)
    {
        window.Clear();
        if (samples.Length >= window.Length)
        {
            var slack = samples.Length - window.Length;
            var start = random?.Next(slack + 1) ?? slack / 2;
            samples.AsSpan(start, window.Length).CopyTo(window);
        }
        else
        {
            var slack = window.Length - samples.Length;
            var offset = random?.Next(slack + 1) ?? slack / 2;
            samples.CopyTo(window[offset..]);
        }
    }
}
