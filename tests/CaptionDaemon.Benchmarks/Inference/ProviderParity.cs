using System.Globalization;
using CaptionDaemon.Inference;

namespace CaptionDaemon.Benchmarks.Inference;

/// <summary>
/// Whether a bundle says the same on another execution provider as on the CPU: the same clips captioned in one batch on
/// each (beam 3, as the daemon decodes), captions compared word for word and label probabilities number by number.
/// </summary>
internal sealed record ProviderParity(
    string Provider, int Clips, int SameCaptions, double MaxLabelProbabilityDifference, double MaxConfidenceDifference, bool Holds)
{
    /// <summary>Kernels on another device sum in another order; a probability may move in its fourth decimal, no more.</summary>
    public const double LabelTolerance = 1e-3;

    /// <summary>Beam search may flip between two nearly equal hypotheses on one clip in twenty, not more.</summary>
    public const double MinSameCaptionShare = 0.95;

    public static ProviderParity Measure(string bundleDir, string audioDir, ExecutionProviderPreference preference, int threads)
    {
        using var cpu = CaptionBundle.Load(bundleDir, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = threads });
        using var other = CaptionBundle.Load(bundleDir, new CaptionerOptions { ExecutionProvider = preference, IntraOpThreads = threads });
        var clips = InferenceScenario.LoadClips(audioDir, cpu.Manifest.SampleRate, cpu.WindowSamples);
        var input = new float[clips.Count * cpu.WindowSamples];
        for (var i = 0; i < clips.Count; i++)
        {
            clips[i].CopyTo(input.AsSpan(i * cpu.WindowSamples));
        }

        using var onCpu = cpu.CreateCaptioner();
        using var onOther = other.CreateCaptioner();
        var expected = onCpu.Caption(input, clips.Count, DecodeOptions.Default);
        var actual = onOther.Caption(input, clips.Count, DecodeOptions.Default);

        var provider = other.ExecutionProvider.ToString().ToLowerInvariant();
        var same = 0;
        double maxLabel = 0, maxConfidence = 0;
        for (var i = 0; i < clips.Count; i++)
        {
            if (string.Equals(expected[i].Text, actual[i].Text, StringComparison.Ordinal))
            {
                same++;
            }
            else
            {
                Console.WriteLine($"parity: clip {i}: cpu \"{expected[i].Text}\" / {provider} \"{actual[i].Text}\"");
            }

            maxConfidence = Math.Max(maxConfidence, Math.Abs(expected[i].Confidence - actual[i].Confidence));
            for (var l = 0; l < expected[i].LabelProbabilities.Count; l++)
            {
                maxLabel = Math.Max(maxLabel, Math.Abs(expected[i].LabelProbabilities[l] - actual[i].LabelProbabilities[l]));
            }
        }

        var holds = maxLabel <= LabelTolerance && same >= MinSameCaptionShare * clips.Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"parity cpu vs {provider}: {same}/{clips.Count} captions identical, label probabilities differ by at most {maxLabel:G3}, confidence by at most {maxConfidence:G3}: {(holds ? "holds" : "FAILS")}"));
        return new ProviderParity(provider, clips.Count, same, maxLabel, maxConfidence, holds);
    }
}
