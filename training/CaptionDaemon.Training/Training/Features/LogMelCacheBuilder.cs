using System.Diagnostics;
using System.Threading.Channels;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Models;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Training.Features;

/// <summary>What building one split's cache came to.</summary>
internal sealed record FeatureCacheReport(string Path, int Clips, long Bytes, double Seconds)
{
    public double ClipsPerSecond => Clips / Math.Max(Seconds, 1e-9);
}

/// <summary>
/// Computes a split's log-mel once (<c>captiond-train data features</c>): a reader decodes the clips (mono 16-bit WAV
/// directly, anything else with ffmpeg on <c>threads</c> processes) and rounds them to 16-bit PCM as <see cref="ClipSet"/>
/// keeps them, while the calling task runs the model's own <see cref="LogMelFrontend.LogMel"/> on batches of clips of
/// equal length, each followed by NFft zeros, and streams the frames into a <see cref="LogMelCacheWriter"/>. A bounded
/// queue between the two keeps memory at a few batches whatever the split's size.
/// </summary>
internal static class LogMelCacheBuilder
{
    /// <summary>
    /// Clips per forward of the front end. The front end is a strided convolution: a batch of 16 ten-second clips is one
    /// larger matrix product instead of 16 small ones, and its values equal those of one clip at a time (a test holds it).
    /// </summary>
    public const int DefaultBatch = 16;

    // Decoded batches waiting for the front end: the reader stays at most this far ahead (it waits when the queue is full).
    private const int QueuedBatches = 2;

    /// <exception cref="AudioDecodeException">A clip cannot be decoded; the message names the file.</exception>
    public static async Task<FeatureCacheReport> BuildAsync(
        IReadOnlyList<CaptionedClip> clips,
        FrontendParameters frontend,
        string path,
        int threads,
        CancellationToken cancellationToken,
        Action<int, int>? progress = null,
        int batch = DefaultBatch)
    {
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentNullException.ThrowIfNull(frontend);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var clock = Stopwatch.StartNew();
        using var module = new LogMelFrontend(frontend.ToModelConfig());
        module.eval();
        using var writer = new LogMelCacheWriter(path, frontend);
        var queue = Channel.CreateBounded<DecodedBatch>(new BoundedChannelOptions(QueuedBatches)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = Task.Run(() => ReadAsync(clips, batch, threads, queue.Writer, stop.Token), stop.Token);
        var reportEvery = Math.Max(batch, clips.Count / 10 / batch * batch);
        try
        {
            await foreach (var decoded in queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                // Torch work stays between awaits: dispose scopes and no_grad belong to the thread that opens them.
                AppendBatch(module, writer, clips, decoded, frontend.NFft);
                var done = decoded.First + decoded.Pcm.Length;
                if (progress is not null && done % reportEvery == 0 && done < clips.Count)
                {
                    progress(done, clips.Count);
                }
            }
        }
        finally
        {
            // A failed front end must not leave the reader waiting on a full queue.
            if (!reading.IsCompleted)
            {
                await stop.CancelAsync().ConfigureAwait(false);
            }
        }

        await reading.ConfigureAwait(false);
        var bytes = writer.Complete();
        return new FeatureCacheReport(path, clips.Count, bytes, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// <see cref="LogMelFrontend.LogMel"/> of <paramref name="pcm"/> followed by <paramref name="nFft"/> zeros, time-major
    /// <c>[frames, MelBins]</c>: frames 0..floor(S / hop), which are every frame of the clip that a zero-padded training
    /// window can differ in from pure padding.
    /// </summary>
    internal static float[] TimeMajorLogMel(LogMelFrontend module, short[] pcm, int nFft)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(pcm);
        var padded = new float[pcm.Length + nFft];
        ClipSet.ToFloat(pcm, padded);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var logMel = module.LogMel(tensor(padded, [1, padded.Length]));   // [1, M, T]
        return logMel[0].transpose(0, 1).contiguous().data<float>().ToArray();
    }

    /// <summary>
    /// <see cref="TimeMajorLogMel"/> of several clips of <paramref name="samples"/> samples each in one forward:
    /// <c>[clips, frames, MelBins]</c> flattened.
    /// </summary>
    internal static float[] TimeMajorLogMels(LogMelFrontend module, ReadOnlySpan<short[]> pcm, int samples, int nFft)
    {
        ArgumentNullException.ThrowIfNull(module);
        var width = samples + nFft;
        var padded = new float[pcm.Length * width];
        for (var i = 0; i < pcm.Length; i++)
        {
            ClipSet.ToFloat(pcm[i], padded.AsSpan(i * width, width));
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var logMel = module.LogMel(tensor(padded, [pcm.Length, width]));   // [B, M, T]
        return logMel.transpose(1, 2).contiguous().data<float>().ToArray();
    }

    /// <summary>Runs the front end on runs of consecutive clips of equal length and appends their frames in order.</summary>
    private static void AppendBatch(LogMelFrontend module, LogMelCacheWriter writer, IReadOnlyList<CaptionedClip> clips, DecodedBatch decoded, int nFft)
    {
        var pcm = decoded.Pcm;
        for (var start = 0; start < pcm.Length;)
        {
            var end = start + 1;
            while (end < pcm.Length && pcm[end].Length == pcm[start].Length)
            {
                end++;
            }

            var values = TimeMajorLogMels(module, pcm.AsSpan(start, end - start), pcm[start].Length, nFft);
            var perClip = values.Length / (end - start);
            for (var i = start; i < end; i++)
            {
                writer.Append(clips[decoded.First + i].AudioPath, pcm[i].Length, values.AsSpan((i - start) * perClip, perClip));
            }

            start = end;
        }
    }

    /// <summary>Decodes the clips a batch at a time into the queue, then completes it (with the failure, if one).</summary>
    private static async Task ReadAsync(IReadOnlyList<CaptionedClip> clips, int batch, int threads, ChannelWriter<DecodedBatch> queue, CancellationToken cancellationToken)
    {
        Exception? failure = null;
        try
        {
            for (var first = 0; first < clips.Count; first += batch)
            {
                var count = Math.Min(batch, clips.Count - first);
                var pcm = ClipSet.DecodePcm16(clips.Skip(first).Take(count).ToArray(), threads, cancellationToken);
                await queue.WriteAsync(new DecodedBatch(first, pcm), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // Not swallowed: rethrown, and handed to the front end's side through the queue so it stops reading.
            failure = ex;
            throw;
        }
        finally
        {
            queue.TryComplete(failure);
        }
    }

    private sealed record DecodedBatch(int First, short[][] Pcm);
}
