namespace CaptionDaemon.Plugins.Audio.Ffmpeg;

/// <summary>One <c>ffmpeg</c> source's validated settings.</summary>
internal sealed record FfmpegOptions(
    string FfmpegPath,
    string Input,
    string? InputFormat,
    IReadOnlyList<string> InputOptions,
    bool Realtime,
    RestartPolicy Restart,
    TimeSpan MaxBackoff,
    TimeSpan StallTimeout)
{
    /// <summary>A run that delivered audio this long was a real connection: the next failure starts the backoff afresh.</summary>
    public TimeSpan BackoffResetAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The model's rate: ffmpeg resamples and mixes down, so the host has nothing left to do.</summary>
    public const int SampleRate = 16_000;

    /// <summary>The command line, as separate arguments (no shell, so nothing in the input is ever interpreted).</summary>
    public IReadOnlyList<string> Arguments()
    {
        var args = new List<string> { "-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning" };
        if (Realtime)
            args.Add("-re");
        args.AddRange(InputOptions);
        if (InputFormat is not null)
            args.AddRange(["-f", InputFormat]);
        args.AddRange(["-i", Input, "-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1"]);
        return args;
    }
}
