using System.Buffers;
using System.Reflection;
using System.Text.Json;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Shared;

namespace CaptionDaemon.Plugins.Mqtt;

/// <summary>The JSON and text this sink publishes.</summary>
internal static class MqttPayloads
{
    private static readonly string _version =
        typeof(MqttPayloads).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>One caption in the wire format that every first-party sink writes (<see cref="CaptionWireFormat"/>).</summary>
    public static byte[] Caption(Caption caption, ArrayBufferWriter<byte> buffer) =>
        CaptionWireFormat.Serialize(caption, buffer).ToArray();

    /// <summary>The retained text of <c>&lt;prefix&gt;/&lt;source&gt;/status</c>.</summary>
    public static string Status(SourceStatus status) => status.State switch
    {
        SourceState.Online => "online",
        // Starting: not delivering audio yet, which is what subscribers need to know; Offline: stopped on purpose.
        SourceState.Starting or SourceState.Offline => "offline",
        SourceState.Reconnecting => WithDetail("reconnecting", status.Detail),
        SourceState.Error => WithDetail("error", status.Detail),
        _ => "offline",
    };

    /// <summary>Home Assistant discovery of one source as an <c>event</c> entity of the daemon's device.</summary>
    public static byte[] HomeAssistantEvent(MqttSinkSettings settings, string sourceId, string captionTopic, string availabilityTopic, ArrayBufferWriter<byte> buffer)
    {
        var node = settings.HomeAssistantNodeId;
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("name", $"{sourceId} caption");
            writer.WriteString("unique_id", $"captiond_{node}_{TopicLevel.HomeAssistantId(sourceId)}");
            writer.WriteString("state_topic", captionTopic);
            writer.WriteStartArray("event_types");
            writer.WriteStringValue("caption");
            writer.WriteEndArray();
            // Our caption JSON has no event_type: the template adds it and passes the rest on as attributes.
            writer.WriteString("value_template",
                "{{ {'event_type': 'caption', 'text': value_json.text, 'confidence': value_json.confidence, 'source': value_json.source, " +
                "'seq': value_json.seq, 'start': value_json.start, 'end': value_json.end, 'model': value_json.model, " +
                "'latency_ms': value_json.latency_ms, 'labels': value_json.labels} | to_json }}");
            writer.WriteString("availability_topic", availabilityTopic);
            writer.WriteString("payload_available", "online");
            writer.WriteString("payload_not_available", "offline");
            writer.WriteNumber("qos", 1);
            writer.WriteString("icon", "mdi:closed-caption-outline");
            writer.WriteStartObject("device");
            writer.WriteStartArray("identifiers");
            writer.WriteStringValue($"captiond_{node}");
            writer.WriteEndArray();
            writer.WriteString("name", $"captiond {node}");
            writer.WriteString("manufacturer", "CaptionDaemon");
            writer.WriteString("model", "captiond");
            writer.WriteString("sw_version", _version);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string WithDetail(string state, string? detail) => string.IsNullOrWhiteSpace(detail) ? state : $"{state}: {detail}";
}
