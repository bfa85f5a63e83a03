using Microsoft.Extensions.Options;

namespace CaptionDaemon.Scheduling;

/// <summary>Configuration section <c>Scheduler</c>: how ready windows are batched into inference runs.</summary>
internal sealed class SchedulerOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Scheduler";

    /// <summary>
    /// <c>Scheduler:MaxBatch</c>: windows captioned together in one run at most (default 32). Larger batches cost less
    /// per window (the CPU's cost per window falls by about a third from 1 to 32) but take longer per run. Between 1
    /// and 256.
    /// </summary>
    [SettingRange(1, 256, ErrorMessage = "Scheduler:MaxBatch must be between 1 and 256.")]
    public int MaxBatch { get; set; } = 32;

    /// <summary>
    /// <c>Scheduler:MaxWaitMilliseconds</c>: after a window is ready, how long the scheduler waits for more windows to
    /// fill a batch before it runs what it has (default 100). Adds at most this much latency. Between 0 and 10000.
    /// </summary>
    [SettingRange(0, 10000, ErrorMessage = "Scheduler:MaxWaitMilliseconds must be between 0 and 10000.")]
    public int MaxWaitMilliseconds { get; set; } = 100;

    /// <summary>
    /// <c>Scheduler:QueueCapacity</c>: ready windows waiting for inference at most; when full, the oldest is dropped
    /// and counted (<c>captiond.windows.dropped</c>, reason <c>queue_full</c>). Empty (default): twice
    /// <see cref="MaxBatch"/> (64 by default), so one full batch can wait while another runs, and a backlog never
    /// holds more than about two runs' worth of stale audio. Between 1 and 4096.
    /// </summary>
    [SettingRange(1, 4096, ErrorMessage = "Scheduler:QueueCapacity must be between 1 and 4096, or empty for twice Scheduler:MaxBatch.")]
    public int? QueueCapacity { get; set; }

    /// <summary>
    /// <c>Scheduler:Beam</c>: beam width of the caption search (default 3); 1 is greedy decoding, faster and slightly
    /// worse. Between 1 and 16.
    /// </summary>
    [SettingRange(1, 16, ErrorMessage = "Scheduler:Beam must be between 1 and 16.")]
    public int Beam { get; set; } = 3;

    /// <summary>
    /// <c>Scheduler:MaxBurstSeconds</c>: how far ahead of real time a live source may deliver audio (default 4 s, two hops): a
    /// sender catching up after a pause is taken whole, but a source that floods or runs faster than real time is not read
    /// while it is further ahead (a file waits; UDP loses what arrives meanwhile in its own receive buffer), counted in
    /// <c>captiond.source.throttled</c> (seconds held, tag source). Between 1 and 3600.
    /// </summary>
    [SettingRange(1d, 3600d, ErrorMessage = "Scheduler:MaxBurstSeconds must be between 1 and 3600.")]
    public double MaxBurstSeconds { get; set; } = 4;

    /// <summary>The queue capacity in effect.</summary>
    public int EffectiveQueueCapacity => QueueCapacity ?? (2 * MaxBatch);
}

/// <summary>Checks <see cref="SchedulerOptions"/> at start-up (source-generated from the data annotations).</summary>
[OptionsValidator]
internal sealed partial class SchedulerOptionsValidator : IValidateOptions<SchedulerOptions>;
