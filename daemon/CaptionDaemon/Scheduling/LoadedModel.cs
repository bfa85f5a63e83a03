using CaptionDaemon.Inference;

namespace CaptionDaemon.Scheduling;

/// <summary>A bundle and the one captioner the scheduler runs on it. Disposed by <see cref="ModelRuntime"/> when replaced.</summary>
internal sealed class LoadedModel : IDisposable
{
    public LoadedModel(CaptionBundle bundle, DateTimeOffset loadedAt, TimeSpan loadDuration)
    {
        Bundle = bundle;
        Captioner = bundle.CreateCaptioner();
        LoadedAt = loadedAt;
        LoadDuration = loadDuration;
    }

    /// <summary>The bundle.</summary>
    public CaptionBundle Bundle { get; }

    /// <summary>The captioner (used by one thread at a time: the scheduler's).</summary>
    public Captioner Captioner { get; }

    /// <summary>The manifest's model name; captions carry it.</summary>
    public string Name => Bundle.Manifest.Name;

    /// <summary>The <c>Captions:MinConfidence</c> the bundle's calibration recommends, or null (uncalibrated, or none chosen).</summary>
    public double? RecommendedMinConfidence => Bundle.Manifest.Confidence?.MinConfidence;

    /// <summary>The execution provider in use, in lower case as metrics and logs show it (<c>cpu</c>, <c>cuda</c>).</summary>
    public string Provider => Bundle.ExecutionProvider == ExecutionProvider.Cuda ? "cuda" : "cpu";

    /// <summary>When loading finished (UTC).</summary>
    public DateTimeOffset LoadedAt { get; }

    /// <summary>How long loading and validating took.</summary>
    public TimeSpan LoadDuration { get; }

    public void Dispose()
    {
        Captioner.Dispose();
        Bundle.Dispose();
    }
}
