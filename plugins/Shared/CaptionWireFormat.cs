using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using CaptionDaemon.Contracts;

namespace CaptionDaemon.Plugins.Shared;

/// <summary>
/// The one JSON form of a caption, written by every first-party sink: the MQTT caption topic, each line of
/// <c>jsonl</c>, each element of a <c>webhook</c> body. README "A caption" documents it with its JSON schema
/// (<c>docs/caption.schema.json</c>):
/// <c>{"source","seq","run","start","end","text","confidence","model","latency_ms","labels":[{"label","score"}]}</c>.
/// </summary>
/// <remarks>
/// This file is compiled into each plugin that writes captions (a plugin shares only the contracts with the host, and
/// the contracts hold no implementation); the tests check that every sink's bytes are equal.
/// </remarks>
internal static class CaptionWireFormat
{
    private const string TimeFormat = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'";

    private static readonly JsonEncodedText _source = JsonEncodedText.Encode("source");
    private static readonly JsonEncodedText _seq = JsonEncodedText.Encode("seq");
    private static readonly JsonEncodedText _run = JsonEncodedText.Encode("run");
    private static readonly JsonEncodedText _start = JsonEncodedText.Encode("start");
    private static readonly JsonEncodedText _end = JsonEncodedText.Encode("end");
    private static readonly JsonEncodedText _text = JsonEncodedText.Encode("text");
    private static readonly JsonEncodedText _confidence = JsonEncodedText.Encode("confidence");
    private static readonly JsonEncodedText _model = JsonEncodedText.Encode("model");
    private static readonly JsonEncodedText _latencyMs = JsonEncodedText.Encode("latency_ms");
    private static readonly JsonEncodedText _labels = JsonEncodedText.Encode("labels");
    private static readonly JsonEncodedText _label = JsonEncodedText.Encode("label");
    private static readonly JsonEncodedText _score = JsonEncodedText.Encode("score");

    /// <summary>
    /// Captions go to brokers, files and HTTP bodies, never into HTML, so non-ASCII text ("café") stays readable; JSON's
    /// own escapes (quotes, backslashes, control characters) are still written.
    /// </summary>
    public static JsonWriterOptions WriterOptions { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Writes one caption object. <c>confidence</c> and a label's <c>score</c> are numbers, or <c>null</c> when not finite
    /// (JSON has no NaN; null says "unknown" instead of failing the batch). <c>latency_ms</c> is a number of milliseconds
    /// rounded to 0.1, from the window's end to delivery (the host sets it as it hands the caption over). Times are UTC with milliseconds and <c>Z</c>.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, Caption caption)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(caption);
        writer.WriteStartObject();
        writer.WriteString(_source, caption.SourceId);
        writer.WriteNumber(_seq, caption.Sequence);
        writer.WriteString(_run, caption.Run);
        WriteTime(writer, _start, caption.Start);
        WriteTime(writer, _end, caption.End);
        writer.WriteString(_text, caption.Text);
        WriteNumberOrNull(writer, _confidence, caption.Confidence);
        writer.WriteString(_model, caption.Model);
        writer.WriteNumber(_latencyMs, Math.Round(caption.Latency.TotalMilliseconds, 1, MidpointRounding.AwayFromZero));
        writer.WriteStartArray(_labels);
        foreach (var label in caption.Labels)
        {
            writer.WriteStartObject();
            writer.WriteString(_label, label.Label);
            WriteNumberOrNull(writer, _score, label.Score);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>One caption as a JSON document of its own, into <paramref name="buffer"/> (cleared first).</summary>
    public static ReadOnlyMemory<byte> Serialize(Caption caption, ArrayBufferWriter<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            Write(writer, caption);
        return buffer.WrittenMemory;
    }

    private static void WriteNumberOrNull(Utf8JsonWriter writer, JsonEncodedText name, double value)
    {
        if (double.IsFinite(value))
            writer.WriteNumber(name, value);
        else
            writer.WriteNull(name);
    }

    private static void WriteTime(Utf8JsonWriter writer, JsonEncodedText name, DateTimeOffset time)
    {
        Span<char> text = stackalloc char[32];
        if (!time.UtcDateTime.TryFormat(text, out var length, TimeFormat, CultureInfo.InvariantCulture))
            throw new FormatException($"Cannot format {time:O} as an ISO 8601 UTC time.");
        writer.WriteString(name, text[..length]);
    }
}
