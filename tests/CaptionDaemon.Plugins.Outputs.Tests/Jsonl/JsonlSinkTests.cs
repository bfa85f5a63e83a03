using System.Text.Json;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Outputs.Jsonl;

namespace CaptionDaemon.Plugins.Outputs.Tests.Jsonl;

public sealed class JsonlSinkTests : IDisposable
{
    private static readonly string[] _payloadKeys = ["source", "seq", "run", "start", "end", "text", "confidence", "model", "latency_ms", "labels"];

    private readonly TempFolder _state = new();
    private readonly JsonlSinkFactory _factory = new();

    public void Dispose() => _state.Dispose();

    [Fact]
    public async Task PublishAsync_File_WritesOneObjectPerCaptionWithThePayloadKeys()
    {
        var path = Path.Combine(_state.Path, "captions.jsonl");
        await using (var sink = Create(new() { ["Path"] = path }))
        {
            await sink.PublishAsync([TestSinks.Caption(0), TestSinks.Caption(1, "rain falls \"softly\" on a café roof") with { Labels = TestSinks.Labels }], CancellationToken.None);
        }

        var lines = await File.ReadAllLinesAsync(path);
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        var root = first.RootElement;
        Assert.Equal(_payloadKeys, root.EnumerateObject().Select(property => property.Name));
        Assert.Equal("kitchen", root.GetProperty("source").GetString());
        Assert.Equal(0, root.GetProperty("seq").GetInt64());
        Assert.Equal("2026-11-24T10:00:02.000Z", root.GetProperty("start").GetString());
        Assert.Equal("2026-11-24T10:00:12.000Z", root.GetProperty("end").GetString());
        Assert.Equal("a dog barks while rain falls", root.GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Number, root.GetProperty("confidence").ValueKind);
        Assert.Equal(0.73, root.GetProperty("confidence").GetDouble());
        Assert.Equal("student-scenes-v1", root.GetProperty("model").GetString());
        Assert.Equal(1234.4, root.GetProperty("latency_ms").GetDouble());
        Assert.Equal(JsonValueKind.Array, root.GetProperty("labels").ValueKind);
        Assert.Equal(0, root.GetProperty("labels").GetArrayLength());

        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal(
            [("rain", 0.91), ("dog", 0.5)],
            second.RootElement.GetProperty("labels").EnumerateArray().Select(l => (l.GetProperty("label").GetString(), l.GetProperty("score").GetDouble())));
        Assert.All(second.RootElement.GetProperty("labels").EnumerateArray(), l => Assert.Equal(["label", "score"], l.EnumerateObject().Select(p => p.Name)));
        Assert.Equal(1, second.RootElement.GetProperty("seq").GetInt64());
        Assert.Equal("2026-11-24T10:00:04.000Z", second.RootElement.GetProperty("start").GetString());
        Assert.Equal("rain falls \"softly\" on a café roof", second.RootElement.GetProperty("text").GetString());
        Assert.Contains("café", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishAsync_StartWithLocalOffset_WritesUtcWithMilliseconds()
    {
        var path = Path.Combine(_state.Path, "captions.jsonl");
        var caption = TestSinks.Caption(7) with
        {
            Start = new DateTimeOffset(2026, 11, 24, 11, 0, 2, 345, TimeSpan.FromHours(1)),
        };
        await using (var sink = Create(new() { ["Path"] = path }))
        {
            await sink.PublishAsync([caption], CancellationToken.None);
        }

        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        Assert.Equal("2026-11-24T10:00:02.345Z", document.RootElement.GetProperty("start").GetString());
    }

    [Fact]
    public async Task Create_SamePathTwice_AppendsAfterEarlierLines()
    {
        var path = Path.Combine(_state.Path, "nested", "deeper", "captions.jsonl");
        await using (var sink = Create(new() { ["Path"] = path }))
        {
            await sink.PublishAsync([TestSinks.Caption(0), TestSinks.Caption(1)], CancellationToken.None);
        }

        await using (var sink = Create(new() { ["Path"] = path }))
        {
            await sink.PublishAsync([TestSinks.Caption(2)], CancellationToken.None);
        }

        var sequences = (await File.ReadAllLinesAsync(path)).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("seq").GetInt64());
        Assert.Equal([0L, 1L, 2L], sequences);
    }

    [Fact]
    public async Task PublishAsync_FileTruncatedByRotation_WritesAtTheNewEnd()
    {
        var path = Path.Combine(_state.Path, "captions.jsonl");
        await using var sink = Create(new() { ["Path"] = path });
        await sink.PublishAsync([TestSinks.Caption(0), TestSinks.Caption(1)], CancellationToken.None);

        // What logrotate's copytruncate does while the daemon runs.
        await using (var rotate = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            rotate.SetLength(0);
        }

        await sink.PublishAsync([TestSinks.Caption(2)], CancellationToken.None);

        var text = await File.ReadAllTextAsync(path);
        Assert.DoesNotContain('\0', text);
        using var document = JsonDocument.Parse(text);
        Assert.Equal(2, document.RootElement.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task Create_RelativePath_WritesUnderTheStateDirectory()
    {
        await using (var sink = Create(new() { ["Path"] = "logs/captions.jsonl" }))
        {
            await sink.PublishAsync([TestSinks.Caption(0)], CancellationToken.None);
        }

        Assert.Single(await File.ReadAllLinesAsync(Path.Combine(_state.Path, "logs", "captions.jsonl")));
    }

    [Fact]
    public async Task PublishAsync_FlushEachBatchFalse_WritesPendingLinesWhenClosed()
    {
        var path = Path.Combine(_state.Path, "captions.jsonl");
        var sink = Create(new() { ["Path"] = path, ["FlushEachBatch"] = "false" });
        await using (sink)
        {
            await sink.PublishAsync([TestSinks.Caption(0)], CancellationToken.None);
            await sink.PublishAsync([TestSinks.Caption(1)], CancellationToken.None);
            Assert.Equal(0, new FileInfo(path).Length);
        }

        Assert.Equal(2, (await File.ReadAllLinesAsync(path)).Length);
    }

    [Fact]
    public async Task PublishAsync_StandardOutput_WritesLinesToConsoleOut()
    {
        var original = Console.Out;
        using var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            await using var sink = Create(new() { ["Path"] = "-" });
            await sink.PublishAsync([TestSinks.Caption(0), TestSinks.Caption(1)], CancellationToken.None);
        }
        finally
        {
            Console.SetOut(original);
        }

        var lines = captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using var document = JsonDocument.Parse(lines[1]);
        Assert.Equal(_payloadKeys, document.RootElement.EnumerateObject().Select(property => property.Name));
        Assert.Equal(1, document.RootElement.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task PublishAsync_DiskFull_ThrowsSinkUnavailableWithThePath()
    {
        // /dev/full fails every write with ENOSPC, as a full disk does.
        await using var sink = Create(new() { ["Path"] = "/dev/full" });

        var error = await Assert.ThrowsAsync<SinkUnavailableException>(
            () => sink.PublishAsync([TestSinks.Caption(0)], CancellationToken.None));

        Assert.Contains("/dev/full", error.Message, StringComparison.Ordinal);
        Assert.IsType<IOException>(error.InnerException, exactMatch: false);
    }

    [Fact]
    public void Create_ParentIsAFile_ThrowsConfigurationErrorNamingPath()
    {
        var file = Path.Combine(_state.Path, "not-a-folder");
        File.WriteAllText(file, "x");

        var error = Assert.Throws<PluginConfigurationException>(() => Create(new() { ["Path"] = Path.Combine(file, "captions.jsonl") }));

        Assert.StartsWith("Sinks:log:Path: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_PathIsADirectory_ThrowsConfigurationErrorNamingPath()
    {
        var error = Assert.Throws<PluginConfigurationException>(() => Create(new() { ["Path"] = _state.Path }));

        Assert.StartsWith("Sinks:log:Path: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NoPath_ThrowsConfigurationErrorNamingPath()
    {
        var error = Assert.Throws<PluginConfigurationException>(() => Create(new() { ["FlushEachBatch"] = "true" }));

        Assert.StartsWith("Sinks:log:Path: required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_FlushEachBatchNotABoolean_ThrowsConfigurationErrorNamingKey()
    {
        var error = Assert.Throws<PluginConfigurationException>(
            () => Create(new() { ["Path"] = "-", ["FlushEachBatch"] = "sometimes" }));

        Assert.StartsWith("Sinks:log:FlushEachBatch: ", error.Message, StringComparison.Ordinal);
    }

    private ICaptionSink Create(Dictionary<string, string?> settings) =>
        _factory.Create(TestSinks.Context("log", settings, _state.Path));
}
