using System.Buffers;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using CaptionDaemon.Contracts;

namespace CaptionDaemon.Plugins.Mqtt;

/// <summary>The JSON and text this sink publishes.</summary>
internal static class MqttPayloads
{
    private static readonly string _version =
        typeof(MqttPayloads).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>
    /// One caption as <c>{"source","seq","start","end","text","confidence","model","latency_ms","labels"}</c>; times are
    /// UTC, ISO 8601 with milliseconds and <c>Z</c>; <c>labels</c> is <c>[{"label","score"}]</c>, highest score first,
    /// <c>[]</c> when the model heard none of its labels or has none.
    /// </summary>
    public static byte[] Caption(Caption caption, ArrayBufferWriter<byte> buffer)
    {
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Span<char> time = stackalloc char[32];
            writer.WriteStartObject();
            writer.WriteString("source"u8, caption.SourceId);
            writer.WriteNumber("seq"u8, caption.Sequence);
            writer.WriteString("start"u8, Iso8601(caption.Start, time));
            writer.WriteString("end"u8, Iso8601(caption.End, time));
            writer.WriteString("text"u8, caption.Text);
            // JSON has no NaN: a non-finite confidence (a model bug) is published as 0 rather than failing the sink.
            writer.WriteNumber("confidence"u8, double.IsFinite(caption.Confidence) ? caption.Confidence : 0);
            writer.WriteString("model"u8, caption.Model);
            writer.WriteNumber("latency_ms"u8, Math.Round(caption.Latency.TotalMilliseconds, 3));
            writer.WriteStartArray("labels"u8);
            foreach (var label in caption.Labels)
            {
                writer.WriteStartObject();
                writer.WriteString("label"u8, label.Label);
                writer.WriteNumber("score"u8, double.IsFinite(label.Score) ? label.Score : 0);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

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

    private static ReadOnlySpan<char> Iso8601(DateTimeOffset time, Span<char> destination)
    {
        time.UtcDateTime.TryFormat(destination, out var written, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture);
        return destination[..written];
    }

    private static string WithDetail(string state, string? detail) => string.IsNullOrWhiteSpace(detail) ? state : $"{state}: {detail}";
}
