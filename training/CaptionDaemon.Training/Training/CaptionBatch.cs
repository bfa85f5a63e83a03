using CaptionDaemon.Training.Text;

namespace CaptionDaemon.Training.Training;

/// <summary>
/// A teacher-forcing batch: <see cref="Clips"/> audio windows and any number of captions per window. Row r of
/// <see cref="Inputs"/> is <c>&lt;start&gt; w1..wn</c>, of <see cref="Targets"/> <c>w1..wn &lt;end&gt;</c>, both padded
/// with &lt;pad&gt; (ignored by the loss) to the longest caption; <see cref="ClipOfRow"/> says which window it describes.
/// The windows are audio, or, from a log-mel cache, the front end's log-mel of that audio (<see cref="LogMel"/>).
/// </summary>
internal sealed class CaptionBatch
{
    private CaptionBatch(float[] audio, int clips, long[] inputs, long[] targets, long[] clipOfRow, int length, float[]? logMel = null, int melBins = 0)
    {
        Audio = audio;
        LogMel = logMel;
        MelBins = melBins;
        Clips = clips;
        Inputs = inputs;
        Targets = targets;
        ClipOfRow = clipOfRow;
        Length = length;
    }

    /// <summary>Windows, row-major <c>[Clips, WindowSamples]</c>; empty when the batch holds <see cref="LogMel"/>.</summary>
    public float[] Audio { get; }

    /// <summary>Log-mel dB of the windows, row-major <c>[Clips, MelBins, Frames]</c>; null when the batch holds <see cref="Audio"/>.</summary>
    public float[]? LogMel { get; }

    public int MelBins { get; }

    public int Frames => LogMel is null ? 0 : LogMel.Length / Clips / MelBins;

    public int Clips { get; }

    public int WindowSamples => Audio.Length / Clips;

    /// <summary>Token rows, row-major <c>[Rows, Length]</c>.</summary>
    public long[] Inputs { get; }

    public long[] Targets { get; }

    public long[] ClipOfRow { get; }

    public int Rows => ClipOfRow.Length;

    public int Length { get; }

    /// <summary>Windows of the clips <paramref name="clipIndices"/> of <paramref name="set"/> (random crops) with all their captions.</summary>
    public static CaptionBatch FromClips(ClipSet set, ReadOnlySpan<int> clipIndices, int windowSamples, Random random)
    {
        ArgumentNullException.ThrowIfNull(set);
        var captions = new List<(int Clip, int[] Words)>();
        for (var i = 0; i < clipIndices.Length; i++)
        {
            foreach (var words in set.CaptionIds[clipIndices[i]])
            {
                captions.Add((i, words));
            }
        }

        if (set.Frontend is { } frontend)
        {
            var size = frontend.MelBins * frontend.FramesOf(windowSamples);
            var logMel = new float[clipIndices.Length * size];
            for (var i = 0; i < clipIndices.Length; i++)
            {
                set.CopyLogMelWindow(clipIndices[i], windowSamples, logMel.AsSpan(i * size, size), random);
            }

            return CreateFromLogMel(logMel, clipIndices.Length, frontend.MelBins, captions);
        }

        var audio = new float[clipIndices.Length * windowSamples];
        for (var i = 0; i < clipIndices.Length; i++)
        {
            set.CopyWindow(clipIndices[i], audio.AsSpan(i * windowSamples, windowSamples), random);
        }

        return Create(audio, clipIndices.Length, captions);
    }

    /// <summary>A batch of <paramref name="clips"/> log-mel windows <c>[clips, melBins, frames]</c> and captions of those windows.</summary>
    public static CaptionBatch CreateFromLogMel(float[] logMel, int clips, int melBins, IReadOnlyList<(int Clip, int[] Words)> captions)
    {
        ArgumentNullException.ThrowIfNull(logMel);
        if (clips < 1 || melBins < 1 || logMel.Length % (clips * melBins) != 0)
        {
            throw new ArgumentException($"{logMel.Length} values do not split into {clips} windows of {melBins} mel bins.", nameof(logMel));
        }

        var tokens = Create([], clips, captions);
        return new CaptionBatch([], clips, tokens.Inputs, tokens.Targets, tokens.ClipOfRow, tokens.Length, logMel, melBins);
    }

    /// <summary>A batch of <paramref name="clips"/> windows in <paramref name="audio"/> and captions (word ids) of those windows.</summary>
    public static CaptionBatch Create(float[] audio, int clips, IReadOnlyList<(int Clip, int[] Words)> captions)
    {
        ArgumentNullException.ThrowIfNull(audio);
        ArgumentNullException.ThrowIfNull(captions);
        if (clips < 1 || audio.Length % clips != 0)
        {
            throw new ArgumentException($"{audio.Length} samples do not split into {clips} windows.", nameof(audio));
        }

        if (captions.Count == 0)
        {
            throw new ArgumentException("A training batch needs at least one caption.", nameof(captions));
        }

        var length = captions.Max(c => c.Words.Length) + 1;
        var inputs = new long[captions.Count * length];
        var targets = new long[captions.Count * length];
        var clipOfRow = new long[captions.Count];
        for (var r = 0; r < captions.Count; r++)
        {
            var (clip, words) = captions[r];
            clipOfRow[r] = clip;
            inputs[r * length] = Vocabulary.Start;
            for (var j = 0; j < words.Length; j++)
            {
                inputs[(r * length) + j + 1] = words[j];
                targets[(r * length) + j] = words[j];
            }

            targets[(r * length) + words.Length] = Vocabulary.End;
        }

        return new CaptionBatch(audio, clips, inputs, targets, clipOfRow, length);
    }
}
