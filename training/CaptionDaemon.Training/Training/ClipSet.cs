using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Text;
using CaptionDaemon.Training.Training.Features;

namespace CaptionDaemon.Training.Training;

/// <summary>
/// One split for training or evaluation, its captions encoded once, and its audio either decoded once with
/// <see cref="AudioDecoder"/> (<see cref="Load"/>) or read from the split's log-mel cache (<see cref="FromFeatures"/>),
/// so that an epoch costs no decoding. Decoded audio is kept as 16-bit PCM: half the memory of float32 (Clotho's
/// development split is about 3.4 GB as float32) at the resolution the source recordings have anyway. A cached set is
/// memory-mapped and costs no memory of its own; its batches skip the front end's STFT (<see cref="HasFeatures"/>).
/// </summary>
internal sealed class ClipSet
{
    private readonly short[][]? _audio;
    private readonly LogMelCacheFile? _features;
    private readonly int[]? _entries;

    private ClipSet(IReadOnlyList<CaptionedClip> clips, short[][]? audio, LogMelCacheFile? features, int[]? entries, int[][][] captionIds)
    {
        Clips = clips;
        _audio = audio;
        _features = features;
        _entries = entries;
        CaptionIds = captionIds;
    }

    /// <summary>Whether windows come as log-mel (<see cref="CopyLogMelWindow"/>) rather than audio (<see cref="CopyWindow"/>).</summary>
    public bool HasFeatures => _features is not null;

    /// <summary>The front end of the cache; null for decoded audio.</summary>
    public FrontendParameters? Frontend => _features?.Frontend;

    public IReadOnlyList<CaptionedClip> Clips { get; }

    /// <summary>Word ids of every caption of every clip (no &lt;start&gt;/&lt;end&gt;), truncated to the model's length.</summary>
    public IReadOnlyList<int[][]> CaptionIds { get; }

    public int Count => Clips.Count;

    /// <summary>Decodes <paramref name="clips"/> on <paramref name="threads"/> ffmpeg processes at a time and encodes their captions.</summary>
    /// <remarks>
    /// Captions are cut to <paramref name="maxWords"/> words so that the words and &lt;end&gt; fit the positional table.
    /// <paramref name="progress"/> receives (decoded, total) after every tenth of the clips, from the decoding threads:
    /// Clotho's development split takes minutes.
    /// </remarks>
    /// <exception cref="AudioDecodeException">A clip cannot be decoded; the message names the file.</exception>
    public static ClipSet Load(
        IReadOnlyList<CaptionedClip> clips, Vocabulary vocabulary, int maxWords, int threads, CancellationToken cancellationToken, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentNullException.ThrowIfNull(vocabulary);
        var audio = DecodePcm16(clips, threads, cancellationToken, progress);
        return new ClipSet(clips, audio, null, null, EncodeCaptions(clips, vocabulary, maxWords));
    }

    /// <summary>
    /// <paramref name="clips"/> with their log-mel read from <paramref name="cache"/>, which the caller keeps open (and
    /// disposes) for as long as the set is used.
    /// </summary>
    /// <exception cref="FeatureCacheException">The cache was made by another front end or lacks or predates a clip.</exception>
    public static ClipSet FromFeatures(
        IReadOnlyList<CaptionedClip> clips, LogMelCacheFile cache, FrontendParameters frontend, Vocabulary vocabulary, int maxWords, string rebuildHint)
    {
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(vocabulary);
        var entries = cache.Match(clips, frontend, rebuildHint);
        return new ClipSet(clips, null, cache, entries, EncodeCaptions(clips, vocabulary, maxWords));
    }

    /// <summary>Decodes <paramref name="clips"/> on <paramref name="threads"/> ffmpeg processes at a time to 16-bit PCM at the model's rate.</summary>
    /// <exception cref="AudioDecodeException">A clip cannot be decoded; the message names the file.</exception>
    internal static short[][] DecodePcm16(IReadOnlyList<CaptionedClip> clips, int threads, CancellationToken cancellationToken, Action<int, int>? progress = null)
    {
        var audio = new short[clips.Count][];
        var decoded = 0;
        var reportEvery = Math.Max(1, clips.Count / 10);
        try
        {
            Parallel.For(
                0,
                clips.Count,
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads), CancellationToken = cancellationToken },
                i =>
                {
                    audio[i] = ToPcm16(AudioDecoder.Decode(clips[i].AudioPath, AudioDecoder.DefaultSampleRate, cancellationToken));
                    var done = Interlocked.Increment(ref decoded);
                    if (done % reportEvery == 0 && done < clips.Count)
                    {
                        progress?.Invoke(done, clips.Count);
                    }
                });
        }
        catch (AggregateException ex)
        {
            // Parallel.For wraps what a decoder threw; callers expect the AudioDecodeException naming the file.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
        }

        return audio;
    }

    /// <summary>
    /// Writes the window of clip <paramref name="index"/> into <paramref name="destination"/> (its length is the window):
    /// a longer clip is cropped at a random start when <paramref name="random"/> is given (training) and at its start
    /// otherwise (evaluation); a shorter one is zero-padded at the end.
    /// </summary>
    /// <exception cref="InvalidOperationException">The set holds log-mel, not audio.</exception>
    public void CopyWindow(int index, Span<float> destination, Random? random)
    {
        var samples = _audio?[index] ?? throw new InvalidOperationException("This clip set was read from a log-mel cache and holds no audio.");
        var start = samples.Length > destination.Length && random is not null
            ? random.Next(samples.Length - destination.Length + 1)
            : 0;
        var count = Math.Min(destination.Length, samples.Length - start);
        ToFloat(samples.AsSpan(start, count), destination);
        destination[count..].Clear();
    }

    /// <summary>
    /// The log-mel dB of the window of <paramref name="windowSamples"/> samples that <see cref="CopyWindow"/> would give,
    /// as the front end computes it from that window, into <paramref name="destination"/> <c>[MelBins, frames]</c>
    /// (frames = <see cref="FrontendParameters.FramesOf"/> the window): a random crop starts at a whole hop (the only
    /// difference), frames past a short clip's end are silence (<see cref="LogMelFrontend.FloorDecibels"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The set holds audio, not log-mel.</exception>
    public void CopyLogMelWindow(int index, int windowSamples, Span<float> destination, Random? random)
    {
        var (cache, entries) = (_features, _entries) is ({ } c, { } e) ? (c, e) : throw new InvalidOperationException("This clip set holds decoded audio, not log-mel.");
        var entry = cache.Entries[entries[index]];
        var frames = cache.Frontend.FramesOf(windowSamples);
        var start = entry.Samples > windowSamples && random is not null
            ? random.Next(((entry.Samples - windowSamples) / cache.Frontend.Hop) + 1)
            : 0;
        var count = Math.Min(frames, entry.Frames - start);
        cache.ReadFrames(entries[index], start, count, destination, frames);
        for (var m = 0; m < cache.Frontend.MelBins; m++)
        {
            destination.Slice((m * frames) + count, frames - count).Fill(LogMelFrontend.FloorDecibels);
        }
    }

    /// <summary>16-bit PCM to float in [-1, 1), as the model is fed.</summary>
    internal static void ToFloat(ReadOnlySpan<short> pcm, Span<float> destination)
    {
        const float scale = 1f / 32768f;
        for (var i = 0; i < pcm.Length; i++)
        {
            destination[i] = pcm[i] * scale;
        }
    }

    private static int[][][] EncodeCaptions(IReadOnlyList<CaptionedClip> clips, Vocabulary vocabulary, int maxWords) => clips
        .Select(clip => clip.Captions.Select(caption => vocabulary.Encode(caption).Take(maxWords).ToArray()).ToArray())
        .ToArray();

    private static short[] ToPcm16(float[] samples)
    {
        var pcm = new short[samples.Length];
        for (var i = 0; i < samples.Length; i++)
        {
            pcm[i] = (short)Math.Clamp(MathF.Round(samples[i] * 32768f), short.MinValue, short.MaxValue);
        }

        return pcm;
    }
}
