using CaptionDaemon.Contracts;

namespace CaptionDaemon.Plugins.Mqtt;

/// <summary>A source this sink has heard of: its topics, its latest retained state, its labels and what was sent when.</summary>
internal sealed class PublishedSource
{
    public PublishedSource(string id, MqttSinkSettings settings)
    {
        Id = id;
        ObjectId = TopicLevel.HomeAssistantId(id);
        var level = TopicLevel.Escape(id);
        CaptionTopic = $"{settings.TopicPrefix}/{level}/caption";
        StatusTopic = $"{settings.TopicPrefix}/{level}/status";
        LevelTopic = $"{settings.TopicPrefix}/{level}/level";
        var node = settings.HomeAssistantNodeId;
        EventDiscoveryTopic = $"{settings.HomeAssistantPrefix}/event/{node}/{ObjectId}/config";
        CaptionDiscoveryTopic = $"{settings.HomeAssistantPrefix}/sensor/{node}/{ObjectId}_caption/config";
        LevelDiscoveryTopic = $"{settings.HomeAssistantPrefix}/sensor/{node}/{ObjectId}_level/config";
    }

    public string Id { get; }

    /// <summary>The source id as Home Assistant's ids allow it (letters, digits, '_' and '-').</summary>
    public string ObjectId { get; }

    public string CaptionTopic { get; }

    public string StatusTopic { get; }

    public string LevelTopic { get; }

    public string EventDiscoveryTopic { get; }

    public string CaptionDiscoveryTopic { get; }

    public string LevelDiscoveryTopic { get; }

    /// <summary>Every retained topic this source owns.</summary>
    public IEnumerable<string> RetainedTopics => [StatusTopic, EventDiscoveryTopic, CaptionDiscoveryTopic, LevelDiscoveryTopic];

    /// <summary>The retained state text, once known.</summary>
    public string? Status { get; set; }

    /// <summary>The labels the source's captions may carry (its description), empty until described.</summary>
    public IReadOnlyList<ModelLabel> Labels { get; set; } = [];

    /// <summary>The connection in which the discovery was last sent (0: never).</summary>
    public int AnnouncedIn { get; set; }

    /// <summary>When a level was last published (<see cref="TimeProvider.GetTimestamp"/>), or null.</summary>
    public long? LevelSentAt { get; set; }
}
