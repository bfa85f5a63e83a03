using System.Diagnostics;
using CaptionDaemon.Inference;
using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Training.Evaluation;

/// <summary>
/// What models are timed on when their speeds are compared (the KD reproduction, <c>eval --teacher</c>): one window of
/// real test audio and a caption length, the same for every model.
/// </summary>
internal sealed record TimingClip(float[] Window, int Words)
{
    /// <summary>The first evaluation clip, and the mean word count of the evaluation references (rounded).</summary>
    public static TimingClip From(string data, CancellationToken cancellationToken)
    {
        var clips = ClothoDataset.Load(data, ClothoDataset.Evaluation, cancellationToken);
        var clip = clips.FirstOrDefault()
            ?? throw new DatasetFormatException($"{data}: the evaluation split has no clips to time the models on.");
        var words = clips.SelectMany(c => c.Captions).Average(c => c.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        return new TimingClip(AudioDecoder.Decode(clip.AudioPath, AudioDecoder.DefaultSampleRate, cancellationToken), Math.Max(1, (int)Math.Round(words)));
    }

    /// <summary>
    /// Median milliseconds to caption one window (batch 1, beam 3, 1 thread) after two warm-up runs. Every model decodes
    /// exactly <see cref="Words"/> words, so the time measures the model, not how long its caption happens to be:
    /// an under-trained student that repeats a word to the length limit would otherwise look slower than it is.
    /// </summary>
    public static double MillisecondsPerClip(string bundleDirectory, TimingClip clip, int repeats, CancellationToken cancellationToken)
    {
        using var bundle = CaptionBundle.Load(bundleDirectory, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1, InterOpThreads = 1 });
        using var captioner = bundle.CreateCaptioner();
        var samples = new float[bundle.WindowSamples];
        clip.Window.AsSpan(0, Math.Min(clip.Window.Length, samples.Length)).CopyTo(samples);
        var words = Math.Min(clip.Words, bundle.Manifest.MaxCaptionTokens);
        var decode = DecodeOptions.Default with { MinWords = words, MaxTokens = words };
        var times = new double[repeats];
        for (var i = -2; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            captioner.Caption(samples, 1, decode, cancellationToken);
            if (i >= 0)
            {
                times[i] = clock.Elapsed.TotalMilliseconds;
            }
        }

        Array.Sort(times);
        return repeats % 2 == 1 ? times[repeats / 2] : (times[(repeats / 2) - 1] + times[repeats / 2]) / 2;
    }
}
