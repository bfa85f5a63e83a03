using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Text;

namespace CaptionDaemon.Training.Training;

/// <summary>
/// One split held in memory for training or evaluation: every clip decoded once with <see cref="AudioDecoder"/> and its
/// captions encoded once, so that an epoch costs no decoding. Audio is kept as 16-bit PCM: half the memory of float32
/// (Clotho's development split is about 3.4 GB as float32) at the resolution the source recordings have anyway.
/// </summary>
internal sealed class ClipSet
{
    private readonly short[][] _audio;

    private ClipSet(IReadOnlyList<CaptionedClip> clips, short[][] audio, int[][][] captionIds)
    {
        Clips = clips;
        _audio = audio;
        CaptionIds = captionIds;
    }

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

        var captionIds = clips
            .Select(clip => clip.Captions.Select(caption => vocabulary.Encode(caption).Take(maxWords).ToArray()).ToArray())
            .ToArray();
        return new ClipSet(clips, audio, captionIds);
    }

    /// <summary>
    /// Writes the window of clip <paramref name="index"/> into <paramref name="destination"/> (its length is the window):
    /// a longer clip is cropped at a random start when <paramref name="random"/> is given (training) and at its start
    /// otherwise (evaluation); a shorter one is zero-padded at the end.
    /// </summary>
    public void CopyWindow(int index, Span<float> destination, Random? random)
    {
        var samples = _audio[index];
        var start = samples.Length > destination.Length && random is not null
            ? random.Next(samples.Length - destination.Length + 1)
            : 0;
        var count = Math.Min(destination.Length, samples.Length - start);
        const float scale = 1f / 32768f;
        for (var i = 0; i < count; i++)
        {
            destination[i] = samples[start + i] * scale;
        }

        destination[count..].Clear();
    }

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
