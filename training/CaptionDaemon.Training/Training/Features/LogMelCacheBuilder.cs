using System.Diagnostics;
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
/// Computes a split's log-mel once (<c>captiond-train data features</c>): decodes the clips with ffmpeg on
/// <c>threads</c> processes, rounds them to 16-bit PCM as <see cref="ClipSet"/> keeps them, runs the model's own
/// <see cref="LogMelFrontend.LogMel"/> on each clip followed by NFft zeros, and streams the frames into a
/// <see cref="LogMelCacheWriter"/>, a chunk of clips at a time, so memory stays at a chunk whatever the split's size.
/// </summary>
internal static class LogMelCacheBuilder
{
    /// <exception cref="AudioDecodeException">A clip cannot be decoded; the message names the file.</exception>
    public static FeatureCacheReport Build(
        IReadOnlyList<CaptionedClip> clips, FrontendParameters frontend, string path, int threads, CancellationToken cancellationToken, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentNullException.ThrowIfNull(frontend);
        var clock = Stopwatch.StartNew();
        using var module = new LogMelFrontend(frontend.ToModelConfig());
        module.eval();
        using var writer = new LogMelCacheWriter(path, frontend);
        var chunk = Math.Max(8, threads * 4);
        var reportEvery = Math.Max(chunk, clips.Count / 10 / chunk * chunk);
        for (var first = 0; first < clips.Count; first += chunk)
        {
            var count = Math.Min(chunk, clips.Count - first);
            var pcm = ClipSet.DecodePcm16(clips.Skip(first).Take(count).ToArray(), threads, cancellationToken);
            for (var i = 0; i < count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                writer.Append(clips[first + i].AudioPath, pcm[i].Length, TimeMajorLogMel(module, pcm[i], frontend.NFft));
            }

            if (progress is not null && (first + count) % reportEvery == 0 && first + count < clips.Count)
            {
                progress(first + count, clips.Count);
            }
        }

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
}
