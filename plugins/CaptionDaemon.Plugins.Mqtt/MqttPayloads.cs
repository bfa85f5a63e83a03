using System.Buffers;
using System.Globalization;
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

    /// <summary>The fallback event type: a caption in which none of the source's labels was heard.</summary>
    public const string CaptionEventType = "caption";

    // The caption's fields that Home Assistant keeps as the event's and the caption sensor's attributes.
    private const string CaptionAttributes =
        "'text': value_json.text, 'confidence': value_json.confidence, 'labels': value_json.labels, 'model': value_json.model, " +
        "'seq': value_json.seq, 'start': value_json.start, 'end': value_json.end";

    /// <summary>
    /// Home Assistant discovery of one source as an <c>event</c> entity of the daemon's device: its <c>event_types</c> are
    /// the source's labels and <c>caption</c>, and each caption fires its top label (the caption's labels are already
    /// narrowed to the source's labels and thresholds), or <c>caption</c> when it has none. Home Assistant's MQTT event
    /// platform requires <c>state_topic</c> and <c>event_types</c>, and a JSON payload whose <c>event_type</c> is one of
    /// them; the other keys become the event's attributes.
    /// </summary>
    public static byte[] HomeAssistantEvent(MqttSinkSettings settings, PublishedSource source, ArrayBufferWriter<byte> buffer) =>
        Discovery(buffer, settings, source, $"{source.Id} sound", string.Empty, writer =>
        {
            writer.WriteString("state_topic", source.CaptionTopic);
            writer.WriteStartArray("event_types");
            foreach (var label in source.Labels)
            {
                writer.WriteStringValue(label.Label);
            }

            writer.WriteStringValue(CaptionEventType);
            writer.WriteEndArray();
            writer.WriteString("value_template",
                $"{{{{ {{'event_type': (value_json.labels[0].label if value_json.labels else '{CaptionEventType}'), {CaptionAttributes}}} | to_json }}}}");
            writer.WriteString("icon", "mdi:ear-hearing");
        });

    /// <summary>
    /// A <c>sensor</c> with the source's last caption text (Home Assistant keeps at most 255 characters of a state) and its
    /// labels, confidence and model as attributes.
    /// </summary>
    public static byte[] HomeAssistantCaptionSensor(MqttSinkSettings settings, PublishedSource source, ArrayBufferWriter<byte> buffer) =>
        Discovery(buffer, settings, source, $"{source.Id} caption", "_caption", writer =>
        {
            writer.WriteString("state_topic", source.CaptionTopic);
            writer.WriteString("value_template", "{{ value_json.text[:255] }}");
            writer.WriteString("json_attributes_topic", source.CaptionTopic);
            writer.WriteString("json_attributes_template", $"{{{{ {{{CaptionAttributes}}} | to_json }}}}");
            writer.WriteString("icon", "mdi:closed-caption-outline");
        });

    /// <summary>A <c>sensor</c> with the source's audio level in dBFS (a diagnostic, for tuning a microphone and its silence gate).</summary>
    public static byte[] HomeAssistantLevelSensor(MqttSinkSettings settings, PublishedSource source, ArrayBufferWriter<byte> buffer) =>
        Discovery(buffer, settings, source, $"{source.Id} level", "_level", writer =>
        {
            writer.WriteString("state_topic", source.LevelTopic);
            writer.WriteString("unit_of_measurement", "dBFS");
            writer.WriteString("state_class", "measurement");
            writer.WriteString("entity_category", "diagnostic");
            writer.WriteString("icon", "mdi:volume-high");
        });

    /// <summary>The text of a level on <c>&lt;prefix&gt;/&lt;source&gt;/level</c>: dBFS with one decimal.</summary>
    public static string Level(SourceLevel level) => level.Dbfs.ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>
    /// The common part of every discovery payload: name, unique id, availability from both the daemon's and the source's
    /// status (an entity is available only while both say online; the source's "reconnecting: ..." and "error: ..."
    /// count as offline), QoS, the daemon's device and the origin block.
    /// </summary>
    private static byte[] Discovery(ArrayBufferWriter<byte> buffer, MqttSinkSettings settings, PublishedSource source, string name, string idSuffix, Action<Utf8JsonWriter> entity)
    {
        var node = settings.HomeAssistantNodeId;
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, CaptionWireFormat.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WriteString("unique_id", $"captiond_{node}_{source.ObjectId}{idSuffix}");
            entity(writer);
            writer.WriteStartArray("availability");
            writer.WriteStartObject();
            writer.WriteString("topic", $"{settings.TopicPrefix}/status");
            writer.WriteEndObject();
            writer.WriteStartObject();
            writer.WriteString("topic", source.StatusTopic);
            writer.WriteString("value_template", "{{ 'online' if value == 'online' else 'offline' }}");
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteString("availability_mode", "all");
            writer.WriteNumber("qos", 1);
            writer.WriteStartObject("device");
            writer.WriteStartArray("identifiers");
            writer.WriteStringValue($"captiond_{node}");
            writer.WriteEndArray();
            writer.WriteString("name", $"captiond {node}");
            writer.WriteString("manufacturer", "CaptionDaemon");
            writer.WriteString("model", "captiond");
            writer.WriteString("sw_version", _version);
            writer.WriteEndObject();
            writer.WriteStartObject("origin");
            writer.WriteString("name", "captiond");
            writer.WriteString("sw_version", _version);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string WithDetail(string state, string? detail) => string.IsNullOrWhiteSpace(detail) ? state : $"{state}: {detail}";
}
