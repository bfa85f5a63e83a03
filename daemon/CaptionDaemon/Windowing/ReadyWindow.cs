namespace CaptionDaemon.Windowing;

/// <summary>
/// A window of model-rate mono audio that passed the silence gate and waits to be captioned. A value type so that
/// the queue and the batch hold windows without allocating; <see cref="Samples"/> is a pooled buffer of exactly one
/// window that whoever takes the window last returns to its <see cref="WindowBufferPool"/>.
/// </summary>
/// <param name="SourceId">The source the audio came from.</param>
/// <param name="Samples">The window's samples (length = the model's window), owned by the pool.</param>
/// <param name="Start">UTC time of the first sample, on the source's timeline.</param>
/// <param name="End">UTC time just after the last sample (of real audio, for a zero-padded window).</param>
/// <param name="StartSample">Index of the first sample in the source's model-rate stream (offset into a file).</param>
/// <param name="ReadyTimestamp">When the window was complete, from <see cref="TimeProvider.GetTimestamp"/>.</param>
internal readonly record struct ReadyWindow(
    string SourceId,
    float[] Samples,
    DateTimeOffset Start,
    DateTimeOffset End,
    long StartSample,
    long ReadyTimestamp);
