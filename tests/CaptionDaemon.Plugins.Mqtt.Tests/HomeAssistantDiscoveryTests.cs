using System.Diagnostics;
using System.Text.Json;
using CaptionDaemon.Contracts;
using CaptionDaemon.Tests.Mqtt;
using Xunit.Abstractions;

namespace CaptionDaemon.Plugins.Mqtt.Tests;

/// <summary>
/// Home Assistant discovery against a real mosquitto, read by real <c>mosquitto_sub</c>: the payloads have the keys Home
/// Assistant's MQTT event and sensor platforms require (homeassistant/components/mqtt/event.py, sensor.py, schemas.py),
/// and their templates, rendered by Jinja2 as Home Assistant renders them, turn real caption payloads into the event
/// types and states an automation sees.
/// </summary>
public sealed class HomeAssistantDiscoveryTests(ITestOutputHelper output)
{
    private const string EventTopic = "homeassistant/event/testnode/kitchen/config";
    private const string CaptionSensorTopic = "homeassistant/sensor/testnode/kitchen_caption/config";
    private const string LevelSensorTopic = "homeassistant/sensor/testnode/kitchen_level/config";

    private static readonly ModelLabel[] _labels = [new("dog", "Dog"), new("glass", "Glass")];

    [Fact]
    public async Task Discovery_DescribedSource_EventCaptionAndLevelEntitiesWithPerSourceAvailabilityAndOrigin()
    {
        using var broker = await MosquittoBroker.StartAsync();
        using var subscriber = await MosquittoSubscriber.StartAsync(broker, "#");
        await using var sink = MqttTestSinks.Create(output, broker.Port);
        await MqttTestSinks.WaitConnectedAsync(sink);

        await sink.PublishDescriptionAsync(new SourceDescription("kitchen", "student-tagger-v3", _labels), CancellationToken.None);
        await sink.PublishStatusAsync(new SourceStatus("kitchen", SourceState.Online, null, DateTimeOffset.UtcNow), CancellationToken.None);
        await subscriber.WaitForAsync(s => s.PayloadsOf(EventTopic).Count > 0 && s.PayloadsOf(CaptionSensorTopic).Count > 0 && s.PayloadsOf(LevelSensorTopic).Count > 0, "three discovery messages");

        var ev = JsonDocument.Parse(subscriber.PayloadsOf(EventTopic)[^1]).RootElement;
        Assert.Equal("captiond/kitchen/caption", ev.GetProperty("state_topic").GetString());
        Assert.Equal(["dog", "glass", "caption"], ev.GetProperty("event_types").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("captiond_testnode_kitchen", ev.GetProperty("unique_id").GetString());

        var caption = JsonDocument.Parse(subscriber.PayloadsOf(CaptionSensorTopic)[^1]).RootElement;
        Assert.Equal("captiond/kitchen/caption", caption.GetProperty("state_topic").GetString());
        Assert.Equal("captiond/kitchen/caption", caption.GetProperty("json_attributes_topic").GetString());
        Assert.Equal("captiond_testnode_kitchen_caption", caption.GetProperty("unique_id").GetString());

        var level = JsonDocument.Parse(subscriber.PayloadsOf(LevelSensorTopic)[^1]).RootElement;
        Assert.Equal("captiond/kitchen/level", level.GetProperty("state_topic").GetString());
        Assert.Equal("dBFS", level.GetProperty("unit_of_measurement").GetString());
        Assert.Equal("measurement", level.GetProperty("state_class").GetString());
        Assert.Equal("diagnostic", level.GetProperty("entity_category").GetString());

        foreach (var config in new[] { ev, caption, level })
        {
            // Per-source availability: the daemon's status and the source's own, both required.
            Assert.Equal("all", config.GetProperty("availability_mode").GetString());
            var availability = config.GetProperty("availability").EnumerateArray().ToList();
            Assert.Equal(["captiond/status", "captiond/kitchen/status"], availability.Select(a => a.GetProperty("topic").GetString()));
            Assert.False(config.TryGetProperty("availability_topic", out _)); // exclusive with availability in Home Assistant's schema
            Assert.Equal("captiond", config.GetProperty("origin").GetProperty("name").GetString());
            Assert.False(string.IsNullOrEmpty(config.GetProperty("origin").GetProperty("sw_version").GetString()));
            Assert.Equal(["captiond_testnode"], config.GetProperty("device").GetProperty("identifiers").EnumerateArray().Select(e => e.GetString()));
            Assert.False(string.IsNullOrEmpty(config.GetProperty("name").GetString()));
        }

        // The source's availability template, rendered on each state text the sink publishes.
        var sourceAvailability = ev.GetProperty("availability")[1].GetProperty("value_template").GetString()!;
        Assert.Equal("online", await HomeAssistantTemplate.RenderAsync(sourceAvailability, "online"));
        Assert.Equal("offline", await HomeAssistantTemplate.RenderAsync(sourceAvailability, "reconnecting: connection refused"));
        Assert.Equal("offline", await HomeAssistantTemplate.RenderAsync(sourceAvailability, "error: no such file"));
    }

    [Fact]
    public async Task Templates_RealCaptionPayloads_FireTheTopLabelOrCaptionAndShowTheText()
    {
        using var broker = await MosquittoBroker.StartAsync();
        using var subscriber = await MosquittoSubscriber.StartAsync(broker, "#");
        await using var sink = MqttTestSinks.Create(output, broker.Port);
        await MqttTestSinks.WaitConnectedAsync(sink);
        await sink.PublishDescriptionAsync(new SourceDescription("kitchen", "student-tagger-v3", _labels), CancellationToken.None);

        var withLabels = MqttTestSinks.Caption("kitchen", 1, "a dog barks while glass breaks") with { Labels = [new("glass", "Glass", 0.93), new("dog", "Dog", 0.71)] };
        var long_ = MqttTestSinks.Caption("kitchen", 2, new string('a', 300));
        await sink.PublishAsync([withLabels, long_], CancellationToken.None);
        await subscriber.WaitForAsync(s => s.PayloadsOf("captiond/kitchen/caption").Count == 2 && s.PayloadsOf(EventTopic).Count > 0, "two captions and the discovery");

        var ev = JsonDocument.Parse(subscriber.PayloadsOf(EventTopic)[^1]).RootElement;
        var sensor = JsonDocument.Parse(subscriber.PayloadsOf(CaptionSensorTopic)[^1]).RootElement;
        var eventTypes = ev.GetProperty("event_types").EnumerateArray().Select(e => e.GetString()).ToList();
        var payloads = subscriber.PayloadsOf("captiond/kitchen/caption");

        // Home Assistant parses the rendered event as a JSON object and pops event_type, which must be one of event_types.
        var fired = JsonDocument.Parse(await HomeAssistantTemplate.RenderAsync(ev.GetProperty("value_template").GetString()!, payloads[0])).RootElement;
        Assert.Equal("glass", fired.GetProperty("event_type").GetString());
        Assert.Contains("glass", eventTypes);
        Assert.Equal("a dog barks while glass breaks", fired.GetProperty("text").GetString());
        Assert.Equal(["glass", "dog"], fired.GetProperty("labels").EnumerateArray().Select(l => l.GetProperty("label").GetString()));

        var plain = JsonDocument.Parse(await HomeAssistantTemplate.RenderAsync(ev.GetProperty("value_template").GetString()!, payloads[1])).RootElement;
        Assert.Equal("caption", plain.GetProperty("event_type").GetString());

        // The caption sensor: the text (at most 255 characters, Home Assistant's limit for a state) and its attributes.
        Assert.Equal("a dog barks while glass breaks", await HomeAssistantTemplate.RenderAsync(sensor.GetProperty("value_template").GetString()!, payloads[0]));
        Assert.Equal(255, (await HomeAssistantTemplate.RenderAsync(sensor.GetProperty("value_template").GetString()!, payloads[1])).Length);
        var attributes = JsonDocument.Parse(await HomeAssistantTemplate.RenderAsync(sensor.GetProperty("json_attributes_template").GetString()!, payloads[0])).RootElement;
        Assert.Equal("student-scenes-v1", attributes.GetProperty("model").GetString());
        Assert.Equal(0.8125, attributes.GetProperty("confidence").GetDouble());
        Assert.Equal(2, attributes.GetProperty("labels").GetArrayLength());
    }

    [Fact]
    public async Task Levels_ManyInAnInterval_OnePublishedPerIntervalAsDbfsText()
    {
        using var broker = await MosquittoBroker.StartAsync();
        using var subscriber = await MosquittoSubscriber.StartAsync(broker, "captiond/kitchen/level");
        await using var sink = MqttTestSinks.Create(output, broker.Port, ("LevelIntervalSeconds", "2"));
        await MqttTestSinks.WaitConnectedAsync(sink);

        for (var i = 0; i < 10; i++)
        {
            await sink.PublishLevelAsync(new SourceLevel("kitchen", -40.24 - i, DateTimeOffset.UtcNow), CancellationToken.None);
        }
        await subscriber.WaitForAsync(s => s.PayloadsOf("captiond/kitchen/level").Count >= 1, "the first level");
        await Task.Delay(300);
        Assert.Equal(["-40.2"], subscriber.PayloadsOf("captiond/kitchen/level"));

        await Task.Delay(TimeSpan.FromSeconds(2.2));
        await sink.PublishLevelAsync(new SourceLevel("kitchen", -61, DateTimeOffset.UtcNow), CancellationToken.None);
        await subscriber.WaitForAsync(s => s.PayloadsOf("captiond/kitchen/level").Count == 2, "the level of the next interval");
        Assert.Equal("-61.0", subscriber.PayloadsOf("captiond/kitchen/level")[^1]);
    }

    [Fact]
    public async Task Connect_RetainedEntriesOfARemovedSource_ClearedWhileTheCurrentSourceStays()
    {
        using var broker = await MosquittoBroker.StartAsync();
        // What an earlier run left for a source that is no longer configured, and for one of another node.
        await broker.PublishAsync("homeassistant/event/testnode/attic/config", retain: true, payload: "{\"name\":\"attic sound\"}");
        await broker.PublishAsync("homeassistant/sensor/testnode/attic_caption/config", retain: true, payload: "{\"name\":\"attic caption\"}");
        await broker.PublishAsync("homeassistant/sensor/testnode/attic_level/config", retain: true, payload: "{\"name\":\"attic level\"}");
        await broker.PublishAsync("captiond/attic/status", retain: true, payload: "online");
        await broker.PublishAsync("homeassistant/event/othernode/attic/config", retain: true, payload: "{\"name\":\"another daemon's\"}");

        await using var sink = MqttTestSinks.Create(output, broker.Port, ("ClientId", "captiond-stale-test"));
        await sink.PublishStatusAsync(new SourceStatus("kitchen", SourceState.Online, null, DateTimeOffset.UtcNow), CancellationToken.None);
        await MqttTestSinks.WaitConnectedAsync(sink);
        await broker.WaitForLogAsync("'captiond/attic/status', ... (0 bytes))", TimeSpan.FromSeconds(30));
        await broker.WaitForLogAsync("'homeassistant/sensor/testnode/attic_level/config', ... (0 bytes))", TimeSpan.FromSeconds(10));

        using var late = await MosquittoSubscriber.StartAsync(broker, "#");
        await late.WaitForAsync(s => s.PayloadsOf(EventTopic).Count > 0 && s.PayloadsOf("captiond/kitchen/status").Count > 0, "the current source's retained entries");
        await Task.Delay(500); // the rest of the retained burst
        Assert.DoesNotContain(late.Lines, l => l.Contains("/attic", StringComparison.Ordinal) && !l.StartsWith("homeassistant/event/othernode/", StringComparison.Ordinal));
        Assert.Single(late.PayloadsOf("homeassistant/event/othernode/attic/config"));
        Assert.Single(late.PayloadsOf(CaptionSensorTopic));
        Assert.Single(late.PayloadsOf(LevelSensorTopic));
    }
}

/// <summary>
/// Renders a Home Assistant MQTT template with Jinja2 (Home Assistant's template engine) in Python: <c>value</c> is the
/// payload, <c>value_json</c> the payload parsed as JSON, and <c>to_json</c> is Home Assistant's JSON filter.
/// </summary>
internal static class HomeAssistantTemplate
{
    private const string Script = """
        import json, sys
        import jinja2
        environment = jinja2.Environment()
        environment.filters["to_json"] = lambda value: json.dumps(value)
        template, payload = sys.argv[1], sys.argv[2]
        try:
            value_json = json.loads(payload)
        except ValueError:
            value_json = None
        sys.stdout.write(environment.from_string(template).render(value=payload, value_json=value_json))
        """;

    public static async Task<string> RenderAsync(string template, string payload)
    {
        using var process = Process.Start(new ProcessStartInfo("python3", ["-c", Script, template, payload]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var rendered = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await error);
        return await rendered;
    }
}
