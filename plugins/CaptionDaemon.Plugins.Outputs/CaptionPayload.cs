using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using CaptionDaemon.Contracts;

namespace CaptionDaemon.Plugins.Outputs;

/// <summary>
/// The JSON object of one caption, the same payload that the MQTT sink publishes on <c>captiond/&lt;source&gt;/caption</c>:
/// <c>{"source","seq","start","end","text","confidence","model","latency_ms","labels"}</c>, <c>labels</c> being
/// <c>[{"label","score"}]</c> highest score first.
/// </summary>
internal static class CaptionPayload
{
    // Captions go to files and HTTP bodies, never into HTML, so non-ASCII text ("café") stays readable.
    public static JsonWriterOptions WriterOptions { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private const string TimeFormat = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'";

    private static readonly JsonEncodedText _source = JsonEncodedText.Encode("source");
    private static readonly JsonEncodedText _seq = JsonEncodedText.Encode("seq");
    private static readonly JsonEncodedText _start = JsonEncodedText.Encode("start");
    private static readonly JsonEncodedText _end = JsonEncodedText.Encode("end");
    private static readonly JsonEncodedText _text = JsonEncodedText.Encode("text");
    private static readonly JsonEncodedText _confidence = JsonEncodedText.Encode("confidence");
    private static readonly JsonEncodedText _model = JsonEncodedText.Encode("model");
    private static readonly JsonEncodedText _latencyMs = JsonEncodedText.Encode("latency_ms");
    private static readonly JsonEncodedText _labels = JsonEncodedText.Encode("labels");
    private static readonly JsonEncodedText _label = JsonEncodedText.Encode("label");
    private static readonly JsonEncodedText _score = JsonEncodedText.Encode("score");

    public static void Write(Utf8JsonWriter writer, Caption caption)
    {
        writer.WriteStartObject();
        writer.WriteString(_source, caption.SourceId);
        writer.WriteNumber(_seq, caption.Sequence);
        WriteTime(writer, _start, caption.Start);
        WriteTime(writer, _end, caption.End);
        writer.WriteString(_text, caption.Text);
        if (double.IsFinite(caption.Confidence))
        {
            writer.WriteNumber(_confidence, caption.Confidence);
        }
        else
        {
            // JSON has no NaN; null says "unknown" instead of failing the whole batch (and disabling the sink).
            writer.WriteNull(_confidence);
        }

        writer.WriteString(_model, caption.Model);
        writer.WriteNumber(_latencyMs, (long)Math.Round(caption.Latency.TotalMilliseconds, MidpointRounding.AwayFromZero));
        writer.WriteStartArray(_labels);
        foreach (var label in caption.Labels)
        {
            writer.WriteStartObject();
            writer.WriteString(_label, label.Label);
            if (double.IsFinite(label.Score))
            {
                writer.WriteNumber(_score, label.Score);
            }
            else
            {
                writer.WriteNull(_score);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteTime(Utf8JsonWriter writer, JsonEncodedText name, DateTimeOffset time)
    {
        Span<char> text = stackalloc char[32];
        if (!time.UtcDateTime.TryFormat(text, out var length, TimeFormat, CultureInfo.InvariantCulture))
        {
            throw new FormatException($"Cannot format {time:O} as an ISO 8601 UTC time.");
        }

        writer.WriteString(name, text[..length]);
    }
}
