using System.Globalization;
using CaptionDaemon.Training.Models;

namespace CaptionDaemon.Training.Training.Features;

/// <summary>
/// The settings of <see cref="LogMelFrontend"/> that decide what its log-mel is: a cache made with other values holds
/// features the model would never compute, so they are written in the cache's header and compared on open.
/// </summary>
internal sealed record FrontendParameters(int SampleRate, int NFft, int Hop, int MelBins, double FMin, double FMax)
{
    public static FrontendParameters Of(CaptionModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new(config.SampleRate, config.NFft, config.Hop, config.MelBins, config.FMin, config.FMax);
    }

    /// <summary>Frames of log-mel for <paramref name="samples"/> samples (no centre padding): floor((S - NFft) / Hop) + 1.</summary>
    public int FramesOf(int samples) => samples < NFft ? 0 : ((samples - NFft) / Hop) + 1;

    /// <summary>A model configuration with this front end (and a placeholder vocabulary), to build a <see cref="LogMelFrontend"/>.</summary>
    public CaptionModelConfig ToModelConfig() => new()
    {
        VocabSize = 5,
        SampleRate = SampleRate,
        NFft = NFft,
        Hop = Hop,
        MelBins = MelBins,
        FMin = FMin,
        FMax = FMax,
    };

    /// <summary>The fields that differ, as "name cache vs model" phrases; empty when equal.</summary>
    public IReadOnlyList<string> Differences(FrontendParameters model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var differences = new List<string>();
        void Compare<T>(string name, T cached, T wanted)
            where T : IEquatable<T>
        {
            if (!cached.Equals(wanted))
            {
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {cached} in the cache vs {wanted} in the model"));
            }
        }

        Compare("sample_rate", SampleRate, model.SampleRate);
        Compare("n_fft", NFft, model.NFft);
        Compare("hop", Hop, model.Hop);
        Compare("mel_bins", MelBins, model.MelBins);
        Compare("f_min", FMin, model.FMin);
        Compare("f_max", FMax, model.FMax);
        return differences;
    }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture, $"sample_rate {SampleRate}, n_fft {NFft}, hop {Hop}, mel_bins {MelBins}, f_min {FMin}, f_max {FMax}");
}
