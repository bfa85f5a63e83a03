using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionDaemon.Tests.Mqtt;
using CaptionDaemon.Tests.Scheduling;

namespace CaptionDaemon.Tests.EndToEnd;

/// <summary>
/// One caption wire format: the built daemon publishes the same captions to mosquitto, a jsonl file and a webhook, and
/// each caption's bytes are the same on all three (but for latency_ms, each sink's own) and valid against docs/caption.schema.json (checked by Python's
/// jsonschema, an implementation independent of ours).
/// </summary>
public sealed class WireFormatEndToEndTests : IDisposable
{
    private static readonly TimeSpan _timeout = TimeSpan.FromSeconds(90);
    private static readonly string _bundle = Path.Combine(DaemonProcess.RepositoryRoot, "tests", "data", "labelled-bundle");
    private static readonly string _schema = Path.Combine(DaemonProcess.RepositoryRoot, "docs", "caption.schema.json");

    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("captiond-wire-");

    public void Dispose() => _temp.Delete(recursive: true);

    private static string Sample(int index) => RepositoryFiles.Samples[index];

    [Fact]
    public async Task Run_MqttJsonlAndWebhook_WriteTheSameBytesForEachCaptionValidAgainstTheSchema()
    {
        using var broker = await MosquittoBroker.StartAsync();
        using var subscriber = SubscriberProcess.Start(broker.Port, "captiond/+/caption");
        using var hook = new LoopbackHook();
        var jsonl = Path.Combine(_temp.FullName, "captions.jsonl");
        var config = WriteConfig(new JsonObject
        {
            ["Sources"] = new JsonObject { ["room"] = new JsonObject { ["Type"] = "wav", ["Path"] = Sample(1), ["Realtime"] = "false" } },
            ["Sinks"] = new JsonObject
            {
                ["mqtt"] = new JsonObject { ["Type"] = "mqtt", ["Url"] = $"mqtt://127.0.0.1:{broker.Port}", ["HomeAssistant"] = new JsonObject { ["Enabled"] = "false" } },
                ["file"] = new JsonObject { ["Type"] = "jsonl", ["Path"] = jsonl },
                ["hook"] = new JsonObject { ["Type"] = "webhook", ["Url"] = hook.Url },
            },
            ["Broker"] = new JsonObject { ["Enabled"] = "false" },
            ["Captions"] = new JsonObject { ["SuppressRepeats"] = "false", ["MinConfidence"] = "0" },
        });
        await using var daemon = DaemonProcess.Start(["run", "--config", config, "--model", _bundle, "--metrics", $"127.0.0.1:{DaemonProcess.FreePort()}", "--hop", "1"]);

        const int Wanted = 3;
        var mqtt = new Dictionary<long, string>();
        var file = new Dictionary<long, string>();
        var webhook = new Dictionary<long, string>();
        var deadline = DateTime.UtcNow + _timeout;
        while (DateTime.UtcNow < deadline && (mqtt.Count < Wanted || file.Count < Wanted || webhook.Count < Wanted))
        {
            await Task.Delay(200);
            foreach (var line in subscriber.Lines.Where(l => l.StartsWith("captiond/room/caption ", StringComparison.Ordinal)))
                AddBySeq(mqtt, line["captiond/room/caption ".Length..]);
            if (File.Exists(jsonl))
            {
                foreach (var line in ReadLines(jsonl))
                    AddBySeq(file, line);
            }
            foreach (var body in hook.Bodies)
            {
                using var array = JsonDocument.Parse(body);
                Assert.Equal(JsonValueKind.Array, array.RootElement.ValueKind);
                foreach (var element in array.RootElement.EnumerateArray())
                    AddBySeq(webhook, element.GetRawText());
            }
        }

        var context = $"mqtt {mqtt.Count}, jsonl {file.Count}, webhook {webhook.Count}\n{daemon.Output()}";
        Assert.True(mqtt.Count >= Wanted && file.Count >= Wanted && webhook.Count >= Wanted, context);
        for (long seq = 1; seq <= Wanted; seq++)
        {
            // Byte for byte, but for latency_ms: each sink's is its own, to its own delivery.
            Assert.Equal(WithoutLatency(mqtt[seq]), WithoutLatency(file[seq]));
            Assert.Equal(WithoutLatency(mqtt[seq]), WithoutLatency(webhook[seq]));
        }
        // The labelled bundle hears something in these windows: the labels are part of what must agree.
        Assert.Contains(mqtt.Values, p => p.Contains("\"label\":", StringComparison.Ordinal));

        var payloads = Path.Combine(_temp.FullName, "payloads.jsonl");
        await File.WriteAllLinesAsync(payloads, mqtt.Values.Concat(file.Values).Concat(webhook.Values));
        var (exit, output, error) = await ValidateAsync(payloads);
        Assert.True(exit == 0, output + error);
        Assert.Contains($"valid {mqtt.Count + file.Count + webhook.Count}", output, StringComparison.Ordinal);
    }

    private static string WithoutLatency(string payload) =>
        System.Text.RegularExpressions.Regex.Replace(payload, "\"latency_ms\":[0-9.]+,", string.Empty);

    [Fact]
    public async Task Validate_PayloadThatBreaksTheSchema_IsRejected()
    {
        // The schema check above must be able to fail: a latency as a string and a label without its score.
        var payloads = Path.Combine(_temp.FullName, "bad.jsonl");
        await File.WriteAllTextAsync(payloads,
            """{"source":"a","seq":1,"start":"2026-01-01T00:00:00.000Z","end":"2026-01-01T00:00:10.000Z","text":"x","confidence":0.5,"model":"m","latency_ms":"12","labels":[{"label":"dog"}]}""" + "\n");

        var (exit, _, error) = await ValidateAsync(payloads);

        Assert.NotEqual(0, exit);
        Assert.Contains("latency_ms", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_JsonlToStandardOutput_StandardOutputHoldsOnlyCaptionLines()
    {
        var config = WriteConfig(new JsonObject
        {
            ["Sources"] = new JsonObject { ["room"] = new JsonObject { ["Type"] = "wav", ["Path"] = Sample(2), ["Realtime"] = "false" } },
            ["Sinks"] = new JsonObject { ["out"] = new JsonObject { ["Type"] = "jsonl", ["Path"] = "-" } },
            ["Broker"] = new JsonObject { ["Enabled"] = "false" },
            ["Captions"] = new JsonObject { ["SuppressRepeats"] = "false", ["MinConfidence"] = "0" },
        });
        await using var daemon = DaemonProcess.Start(["run", "--config", config, "--model", _bundle, "--metrics", $"127.0.0.1:{DaemonProcess.FreePort()}", "--hop", "1"]);

        await daemon.WaitForLineAsync(_ => daemon.StandardOutputLines.Count >= 3, _timeout);
        // The log went on meanwhile, to standard error: the caption log and the source's state.
        await daemon.WaitForLineAsync(l => l.Contains("[room ", StringComparison.Ordinal), _timeout);

        Assert.All(daemon.StandardOutputLines, line =>
        {
            using var caption = JsonDocument.Parse(line);
            Assert.Equal("room", caption.RootElement.GetProperty("source").GetString());
        });
    }

    private static void AddBySeq(Dictionary<long, string> captions, string payload)
    {
        using var json = JsonDocument.Parse(payload);
        captions[json.RootElement.GetProperty("seq").GetInt64()] = payload;
    }

    private static List<string> ReadLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.EndsWith('}'))
                lines.Add(line);
        }
        return lines;
    }

    private static Task<(int ExitCode, string Output, string Error)> ValidateAsync(string payloads) =>
        ChildProcess.RunAsync("python3", ["-c", """
            import json, sys
            import jsonschema
            schema = json.load(open(sys.argv[1]))
            validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
            count = 0
            for line in open(sys.argv[2]):
                errors = list(validator.iter_errors(json.loads(line)))
                for error in errors:
                    print(f"{'/'.join(map(str, error.absolute_path))}: {error.message}", file=sys.stderr)
                if errors:
                    sys.exit(1)
                count += 1
            print(f"valid {count}")
            """, _schema, payloads], TimeSpan.FromSeconds(60));

    private string WriteConfig(JsonObject config)
    {
        var path = Path.Combine(_temp.FullName, $"config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }
}
