using CaptionDaemon.Contracts;
using CaptionDaemon.Sinks;
using CaptionDaemon.Telemetry;

namespace CaptionDaemon.Sources;

/// <summary>
/// Each source's audio level, the RMS of its latest window as the silence gate measures it: the
/// <c>captiond_source_level_dbfs</c> gauge, and the sinks that publish levels (Home Assistant's level sensor).
/// </summary>
internal sealed class SourceLevels
{
    /// <summary>Levels are reported no lower than this: digital silence (negative infinity) reads as this floor.</summary>
    public const double FloorDbfs = -150;

    private readonly DaemonMetrics _metrics;
    private readonly ICaptionOutlet _outlet;

    public SourceLevels(DaemonMetrics metrics, ICaptionOutlet outlet)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(outlet);
        _metrics = metrics;
        _outlet = outlet;
    }

    /// <summary>A window's level; called by the source's windower for every window, silent or not.</summary>
    public void Report(string sourceId, double dbfs, DateTimeOffset windowEnd)
    {
        var level = double.IsNaN(dbfs) ? FloorDbfs : Math.Max(FloorDbfs, Math.Round(dbfs, 1));
        _metrics.SetSourceLevel(sourceId, level);
        _outlet.PublishLevel(new SourceLevel(sourceId, level, windowEnd));
    }
}
