using CaptionDaemon.Scheduling;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Windowing;

/// <summary>Configuration section <c>Windowing</c>: how each source's audio is cut into windows.</summary>
internal sealed class WindowingOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Windowing";

    /// <summary>
    /// <c>Windowing:HopSeconds</c>: seconds between the ends of successive windows of a source, i.e. how often a
    /// source gets a caption (default 2). The window is the model's (10 s for the shipped model) unless Windowing:WindowSeconds is set, so windows
    /// overlap when the hop is shorter; a hop longer than the window captions only part of the audio and saves CPU.
    /// Inference cost grows with 1 / hop. Between 0.1 and 3600.
    /// </summary>
    [SettingRange(0.1, 3600, ErrorMessage = "Windowing:HopSeconds must be between 0.1 and 3600 seconds.")]
    public double HopSeconds { get; set; } = 2;

    /// <summary>
    /// <c>Windowing:WindowSeconds</c>: seconds of audio per window, at most the model's window (empty, the default:
    /// the model's window, 10 s for the shipped model). A shorter window is padded with silence to the model's input,
    /// so that a caption describes only the last few seconds. Between 0.1 and 3600.
    /// </summary>
    [SettingRange(0.1, 3600, ErrorMessage = "Windowing:WindowSeconds must be between 0.1 and 3600 seconds, or empty for the model's window.")]
    public double? WindowSeconds { get; set; }

    /// <summary>
    /// <c>Windowing:SilenceThresholdDbfs</c>: windows whose RMS level is below this many dBFS are skipped and counted
    /// in <c>captiond.windows.silent</c> (default -70: digital silence, a muted or unplugged input; a quiet room is
    /// still captioned). 0 dBFS is an RMS of full scale (a full-scale sine is -3 dBFS). Set it to null (an empty
    /// value) to caption every window. Between -200 and 0.
    /// </summary>
    [SettingRange(-200.0, 0.0, ErrorMessage = "Windowing:SilenceThresholdDbfs must be between -200 and 0 dBFS, or empty to turn the silence gate off.")]
    public double? SilenceThresholdDbfs { get; set; } = SilenceGate.DefaultThresholdDbfs;
}

/// <summary>Checks <see cref="WindowingOptions"/> at start-up (source-generated from the data annotations).</summary>
[OptionsValidator]
internal sealed partial class WindowingOptionsValidator : IValidateOptions<WindowingOptions>;
