using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Windowing;

namespace CaptionDaemon.Scheduling;

/// <summary>
/// Receives each window's caption from the <see cref="BatchScheduler"/>, on its thread, in the order the windows were
/// queued: the daemon's <see cref="CaptionPolicy"/>, or an offline caller that wants every raw result.
/// </summary>
internal interface ICaptionedWindowHandler
{
    /// <summary>One window's result. The window's buffer goes back to the pool after the call: do not keep it.</summary>
    /// <param name="window">The window.</param>
    /// <param name="result">Its caption.</param>
    /// <param name="model">The manifest's model name of the bundle that captioned it.</param>
    /// <param name="recommendedMinConfidence">That bundle's recommended <c>Captions:MinConfidence</c> (its calibration's), or null.</param>
    /// <param name="modelLabels">That bundle's labels, in the order of <see cref="CaptionResult.LabelProbabilities"/>; null when not known.</param>
    void OnCaptioned(in ReadyWindow window, CaptionResult result, string model, double? recommendedMinConfidence, IReadOnlyList<BundleLabel>? modelLabels = null);
}
