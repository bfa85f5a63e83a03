using Microsoft.Extensions.Options;

namespace CaptionDaemon.Scheduling;

/// <summary>Configuration section <c>Captions</c>: which captions are published.</summary>
internal sealed class CaptionPolicyOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Captions";

    /// <summary>
    /// <c>Captions:MinConfidence</c>: captions with a lower confidence (0 to 1; the bundle's calibrated confidence, or the
    /// geometric mean of the words' probabilities for an uncalibrated bundle) are not published and are counted in
    /// <c>captiond.captions.suppressed</c> (reason <c>low_confidence</c>). Unset (the default): the bundle's recommended
    /// value (its manifest's <c>confidence.min_confidence</c>, chosen by <c>captiond-train calibrate</c>), or 0 (publish
    /// all) when it recommends none. Between 0 and 1.
    /// </summary>
    [SettingRange(0.0, 1.0, ErrorMessage = "Captions:MinConfidence must be between 0 and 1.")]
    public double? MinConfidence { get; set; }

    /// <summary>
    /// <c>Captions:SuppressRepeats</c>: when true (default), a caption with the same text as the source's last
    /// published caption is not published (reason <c>repeat</c>) until <see cref="HeartbeatSeconds"/> have passed.
    /// </summary>
    public bool SuppressRepeats { get; set; } = true;

    /// <summary>
    /// <c>Captions:HeartbeatSeconds</c>: a repeated caption is published again once this many seconds have passed since
    /// the source's last published caption (default 30), so that subscribers see the sound is still there. 0: never
    /// republish a repeat. Between 0 and 86400.
    /// </summary>
    [SettingRange(0.0, 86400.0, ErrorMessage = "Captions:HeartbeatSeconds must be between 0 (never republish) and 86400 seconds.")]
    public double HeartbeatSeconds { get; set; } = 30;
}

/// <summary>Checks <see cref="CaptionPolicyOptions"/> at start-up (source-generated from the data annotations).</summary>
[OptionsValidator]
internal sealed partial class CaptionPolicyOptionsValidator : IValidateOptions<CaptionPolicyOptions>;
