using CaptionDaemon.Contracts;
using CaptionDaemon.Sinks;

namespace CaptionDaemon.Ui;

/// <summary>
/// The pipeline's outlet with the live page beside the sinks: everything goes to the sinks as before, and captions and
/// levels also to the <see cref="LiveFeed"/>, which drops them at once while no page watches.
/// </summary>
internal sealed class WatchedOutlet : ICaptionOutlet
{
    private readonly ICaptionOutlet _sinks;
    private readonly LiveFeed _feed;

    public WatchedOutlet(ICaptionOutlet sinks, LiveFeed feed)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        ArgumentNullException.ThrowIfNull(feed);
        _sinks = sinks;
        _feed = feed;
    }

    public void Publish(Caption caption)
    {
        _sinks.Publish(caption);
        _feed.OnCaption(caption);
    }

    public void PublishLevel(SourceLevel level)
    {
        _sinks.PublishLevel(level);
        _feed.OnLevel(level);
    }

    // Source states reach the page through /healthz, which it reads while open.
    public void PublishStatus(SourceStatus status) => _sinks.PublishStatus(status);

    public void PublishDescription(SourceDescription description) => _sinks.PublishDescription(description);
}
