namespace CaptionDaemon.Plugins.Audio.Ffmpeg;

/// <summary>What the <c>ffmpeg</c> source does when ffmpeg exits.</summary>
internal enum RestartPolicy
{
    /// <summary>Restart with backoff whatever the exit code (live inputs: a stream that ends may come back).</summary>
    Always,

    /// <summary>Restart only after a non-zero exit; a clean end ends the source (files).</summary>
    OnFailure,

    /// <summary>Never restart: a clean end ends the source, a failure disables it with ffmpeg's message.</summary>
    Never,
}
