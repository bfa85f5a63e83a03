namespace CaptionDaemon.Training.Calibration;

/// <summary>
/// The <c>min_confidence</c> a calibration recommends, and what it keeps and drops on the validation windows.
/// </summary>
/// <param name="MinConfidence">The recommended minimum confidence, in [0, 1].</param>
/// <param name="QuietFalseAlarms">Share of the quiet windows whose caption is a false alarm at or above it.</param>
/// <param name="NamedKept">Recordings whose caption names their category and is at or above it.</param>
/// <param name="Named">Recordings whose caption names their category.</param>
internal sealed record MinConfidenceChoice(double MinConfidence, double QuietFalseAlarms, int NamedKept, int Named)
{
    /// <summary>The most quiet windows with a false alarm that the recommendation lets through: 5%, the target.</summary>
    public const double MaxQuietFalseAlarms = 0.05;

    /// <summary>
    /// The smallest minimum confidence at which at most <see cref="MaxQuietFalseAlarms"/> of the quiet windows publish a
    /// false alarm. Raising the minimum only ever drops captions, so the smallest such value also loses the fewest named
    /// recordings. It is 0 when the false alarms are few enough already; otherwise it lies just above the confidence of
    /// the highest false alarm that must go (midway to the next higher confidence of any validation window, so every
    /// window above that false alarm is kept), or 1 when that false alarm has confidence 1.
    /// </summary>
    /// <param name="recordings">Per labelled recording: its confidence and whether its caption names its category.</param>
    /// <param name="quiet">Per quiet window: its confidence and whether its caption names a sound event (a false alarm at any minimum).</param>
    public static MinConfidenceChoice Choose(IReadOnlyList<(double Confidence, bool Named)> recordings, IReadOnlyList<(double Confidence, bool FalseAlarm)> quiet)
    {
        ArgumentNullException.ThrowIfNull(recordings);
        ArgumentNullException.ThrowIfNull(quiet);
        if (quiet.Count == 0)
        {
            throw new ArgumentException("Choosing a minimum confidence needs quiet windows.", nameof(quiet));
        }

        var allowed = (int)Math.Floor((MaxQuietFalseAlarms * quiet.Count) + 1e-9);
        var alarms = quiet.Where(q => q.FalseAlarm).Select(q => q.Confidence).OrderDescending().ToArray();
        var min = 0.0;
        if (alarms.Length > allowed)
        {
            var highestToDrop = alarms[allowed];
            var above = recordings.Select(r => r.Confidence).Concat(quiet.Select(q => q.Confidence)).Where(c => c > highestToDrop).DefaultIfEmpty(1.0).Min();
            min = highestToDrop >= 1 ? 1 : (highestToDrop + above) / 2;
        }

        return At(min, recordings, quiet);
    }

    /// <summary>
    /// The largest minimum confidence that leaves at most <paramref name="maxUncaptioned"/> of the recordings uncaptioned,
    /// from their confidences as <c>eval --recordings --json</c> reports them (<see cref="Evaluation.HearingReport.ReadConfidences"/>,
    /// rounded to <see cref="Evaluation.HearingReport.ReportedDecimals"/> places). It lies half a unit of the last reported
    /// place below the confidence that must stay, so the rounding never drops a recording it should keep.
    /// </summary>
    /// <param name="confidences">Per recording (e.g. of the test split): its reported confidence.</param>
    /// <param name="maxUncaptioned">The largest share of the recordings allowed under the minimum, in [0, 1).</param>
    public static double ForUncaptionedShare(IReadOnlyList<double> confidences, double maxUncaptioned)
    {
        ArgumentNullException.ThrowIfNull(confidences);
        if (confidences.Count == 0)
        {
            throw new ArgumentException("Choosing a minimum confidence needs recordings.", nameof(confidences));
        }

        if (!(maxUncaptioned >= 0 && maxUncaptioned < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(maxUncaptioned), maxUncaptioned, "The uncaptioned share must be at least 0 and under 1.");
        }

        var sorted = confidences.Order().ToArray();
        var allowed = (int)Math.Floor((maxUncaptioned * sorted.Length) + 1e-9);
        return Math.Clamp(Math.Round(sorted[allowed] - ReportedHalfUnit, Evaluation.HearingReport.ReportedDecimals + 1), 0, 1);
    }

    /// <summary>Half a unit of the last decimal place <c>eval</c> reports confidences with.</summary>
    private static readonly double ReportedHalfUnit = 0.5 * Math.Pow(10, -Evaluation.HearingReport.ReportedDecimals);

    /// <summary>
    /// A given minimum confidence (<c>calibrate --min-confidence</c>, e.g. one chosen on the test split) and what it keeps
    /// and drops on the validation windows.
    /// </summary>
    public static MinConfidenceChoice At(double min, IReadOnlyList<(double Confidence, bool Named)> recordings, IReadOnlyList<(double Confidence, bool FalseAlarm)> quiet)
    {
        ArgumentNullException.ThrowIfNull(recordings);
        ArgumentNullException.ThrowIfNull(quiet);
        ArgumentOutOfRangeException.ThrowIfLessThan(min, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(min, 1);
        var falseAlarms = quiet.Count == 0 ? 0 : (double)quiet.Count(q => q.FalseAlarm && q.Confidence >= min) / quiet.Count;
        return new MinConfidenceChoice(min, falseAlarms, recordings.Count(r => r.Named && r.Confidence >= min), recordings.Count(r => r.Named));
    }
}
