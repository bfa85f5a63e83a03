using System.Buffers;
using System.Text.Json;
using CaptionDaemon.Contracts;

namespace CaptionDaemon.Plugins.Mqtt.Tests;

public sealed class MqttPayloadsTests
{
    [Fact]
    public void Caption_AnyCaption_WritesExactlyTheDocumentedKeys()
    {
        var caption = MqttTestSinks.Caption("kitchen", 7, "a dog barks \"twice\"");

        using var json = JsonDocument.Parse(MqttPayloads.Caption(caption, new ArrayBufferWriter<byte>()));

        var root = json.RootElement;
        Assert.Equal(["source", "seq", "run", "start", "end", "text", "confidence", "model", "latency_ms", "labels"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("kitchen", root.GetProperty("source").GetString());
        Assert.Equal(7, root.GetProperty("seq").GetInt64());
        Assert.Equal("2026-01-02T03:04:12.678Z", root.GetProperty("start").GetString());
        Assert.Equal("2026-01-02T03:04:22.678Z", root.GetProperty("end").GetString());
        Assert.Equal("a dog barks \"twice\"", root.GetProperty("text").GetString());
        Assert.Equal(0.8125, root.GetProperty("confidence").GetDouble());
        Assert.Equal("student-scenes-v1", root.GetProperty("model").GetString());
        Assert.Equal(412.5, root.GetProperty("latency_ms").GetDouble());
        Assert.Equal(JsonValueKind.Array, root.GetProperty("labels").ValueKind);
        Assert.Equal(0, root.GetProperty("labels").GetArrayLength());
    }

    [Fact]
    public void Caption_WithLabels_WritesLabelAndScoreInTheCaptionsOrder()
    {
        var caption = MqttTestSinks.Caption("kitchen", 7) with { Labels = [new("dog", "Dog", 0.91), new("rain", "Rain", 0.5)] };

        using var json = JsonDocument.Parse(MqttPayloads.Caption(caption, new ArrayBufferWriter<byte>()));

        var labels = json.RootElement.GetProperty("labels").EnumerateArray().ToArray();
        Assert.Equal(["dog", "rain"], labels.Select(l => l.GetProperty("label").GetString()));
        Assert.Equal([0.91, 0.5], labels.Select(l => l.GetProperty("score").GetDouble()));
        Assert.All(labels, l => Assert.Equal(["label", "score"], l.EnumerateObject().Select(p => p.Name)));
    }

    [Fact]
    public void Caption_NonUtcTimesAndNaNConfidence_WritesUtcAndNull()
    {
        var caption = MqttTestSinks.Caption("k", 1) with
        {
            Start = new DateTimeOffset(2026, 6, 1, 12, 0, 0, 5, TimeSpan.FromHours(2)),
            Confidence = double.NaN,
        };

        using var json = JsonDocument.Parse(MqttPayloads.Caption(caption, new ArrayBufferWriter<byte>()));

        Assert.Equal("2026-06-01T10:00:00.005Z", json.RootElement.GetProperty("start").GetString());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("confidence").ValueKind);
    }

    [Theory]
    [InlineData(SourceState.Online, null, "online")]
    [InlineData(SourceState.Offline, null, "offline")]
    [InlineData(SourceState.Starting, null, "offline")]
    [InlineData(SourceState.Error, "ffmpeg exited with 1", "error: ffmpeg exited with 1")]
    [InlineData(SourceState.Reconnecting, "connection refused", "reconnecting: connection refused")]
    [InlineData(SourceState.Error, null, "error")]
    public void Status_EachState_WritesItsText(SourceState state, string? detail, string expected) =>
        Assert.Equal(expected, MqttPayloads.Status(new SourceStatus("k", state, detail, DateTimeOffset.UtcNow)));

    [Theory]
    [InlineData("kitchen", "kitchen")]
    [InlineData("hall/door", "hall%2Fdoor")]
    [InlineData("a+b#c", "a%2Bb%23c")]
    [InlineData("100%", "100%25")]
    public void Escape_SourceId_IsOneTopicLevelWithoutWildcards(string sourceId, string expected) =>
        Assert.Equal(expected, TopicLevel.Escape(sourceId));
}
