using CaptionDaemon.Contracts;

namespace CaptionDaemon.Sinks;

/// <summary>
/// Where the pipeline hands what it produces: captions that passed the caption policy (in order per source) and
/// changes of source state, descriptions and levels. Implementations never block the caller: each sink has its own bounded queue.
/// </summary>
internal interface ICaptionOutlet
{
    /// <summary>Queues a caption for every sink.</summary>
    void Publish(Caption caption);

    /// <summary>Queues a source state change for every sink that publishes states.</summary>
    void PublishStatus(SourceStatus status);

    /// <summary>Queues what a source can say (its labels) for every sink that describes sources.</summary>
    void PublishDescription(SourceDescription description);

    /// <summary>Hands a source's latest audio level to every sink that publishes levels (the latest per source wins).</summary>
    void PublishLevel(SourceLevel level);
}
