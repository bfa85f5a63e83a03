using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Outputs.Webhook;

namespace CaptionDaemon.Plugins.Outputs.Tests.Webhook;

public sealed class WebhookSinkTests : IAsyncLifetime, IDisposable
{
    private static readonly string[] _payloadKeys = ["source", "seq", "run", "start", "end", "text", "confidence", "model", "latency_ms", "labels"];

    private readonly TempFolder _state = new();
    private readonly WebhookSinkFactory _factory = new();
    private WebhookServer _server = null!;

    public Task InitializeAsync()
    {
        _server = new WebhookServer();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _state.Dispose();

    [Fact]
    public async Task PublishAsync_Batched_PostsOneArrayOfCaptionsWithTheConfiguredHeaders()
    {
        await using var sink = Create(new()
        {
            ["Url"] = _server.Url.ToString(),
            ["Headers:Authorization"] = "Bearer s3cret",
            ["Headers:X-Home"] = "attic",
        });

        await sink.PublishAsync([TestSinks.Caption(0), TestSinks.Caption(1, "a door slams") with { Labels = TestSinks.Labels }], CancellationToken.None);

        var request = await _server.NextRequestAsync();
        Assert.Equal("POST", request.Method);
        Assert.Equal("/hook", request.Path);
        Assert.Equal("application/json", request.Headers["Content-Type"]);
        Assert.Equal("Bearer s3cret", request.Headers["Authorization"]);
        Assert.Equal("attic", request.Headers["X-Home"]);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal(JsonValueKind.Array, body.RootElement.ValueKind);
        var captions = body.RootElement.EnumerateArray().ToArray();
        Assert.Equal(2, captions.Length);
        Assert.Equal(_payloadKeys, captions[0].EnumerateObject().Select(property => property.Name));
        Assert.Equal("2026-11-24T10:00:02.000Z", captions[0].GetProperty("start").GetString());
        Assert.Equal(1234.4, captions[0].GetProperty("latency_ms").GetDouble());
        Assert.Equal("a door slams", captions[1].GetProperty("text").GetString());
        Assert.Equal(0, captions[0].GetProperty("labels").GetArrayLength());
        Assert.Equal(["rain", "dog"], captions[1].GetProperty("labels").EnumerateArray().Select(l => l.GetProperty("label").GetString()));
        Assert.False(_server.HasUnreadRequests);
    }

    [Fact]
    public async Task PublishAsync_Unbatched_PostsEachCaptionAsItsOwnBody()
    {
        await using var sink = Create(new() { ["Url"] = _server.Url.ToString(), ["Batch"] = "false" });

        await sink.PublishAsync([TestSinks.Caption(0), TestSinks.Caption(1), TestSinks.Caption(2)], CancellationToken.None);

        for (var sequence = 0; sequence < 3; sequence++)
        {
            var request = await _server.NextRequestAsync();
            Assert.Equal("application/json", request.Headers["Content-Type"]);
            using var body = JsonDocument.Parse(request.Body);
            Assert.Equal(_payloadKeys, body.RootElement.EnumerateObject().Select(property => property.Name));
            Assert.Equal(sequence, body.RootElement.GetProperty("seq").GetInt64());
        }

        Assert.False(_server.HasUnreadRequests);
    }

    [Fact]
    public async Task PublishAsync_ServiceUnavailableThenOk_ThrowsSinkUnavailableThenDelivers()
    {
        _server.Answer(503, "overloaded");
        await using var sink = Create(new() { ["Url"] = _server.Url.ToString() });
        IReadOnlyList<Caption> batch = [TestSinks.Caption(0)];

        var error = await Assert.ThrowsAsync<SinkUnavailableException>(() => sink.PublishAsync(batch, CancellationToken.None));
        await sink.PublishAsync(batch, CancellationToken.None);

        Assert.Contains("503", error.Message, StringComparison.Ordinal);
        Assert.Contains("overloaded", error.Message, StringComparison.Ordinal);
        Assert.Equal((await _server.NextRequestAsync()).Body, (await _server.NextRequestAsync()).Body);
    }

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(502)]
    public async Task PublishAsync_RetryableStatus_ThrowsSinkUnavailable(int status)
    {
        _server.Answer(status);
        await using var sink = Create(new() { ["Url"] = _server.Url.ToString() });

        var error = await Assert.ThrowsAsync<SinkUnavailableException>(() => sink.PublishAsync([TestSinks.Caption(0)], CancellationToken.None));

        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(404)]
    public async Task PublishAsync_ClientErrorStatus_ThrowsPermanentErrorWithStatusAndBody(int status)
    {
        _server.Answer(status, "{\"error\":\"field 'captions' is not expected here\"}");
        await using var sink = Create(new() { ["Url"] = _server.Url + "?token=hidden" });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.PublishAsync([TestSinks.Caption(0)], CancellationToken.None));

        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.Contains("field 'captions' is not expected here", error.Message, StringComparison.Ordinal);
        Assert.Contains(_server.Url.ToString(), error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hidden", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishAsync_ConnectionRefused_ThrowsSinkUnavailable()
    {
        // A port that is bound but not listening refuses connections, and nobody else can take it meanwhile.
        using var closedPort = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closedPort.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)closedPort.LocalEndPoint!).Port;
        await using var sink = Create(new() { ["Url"] = $"http://127.0.0.1:{port}/hook" });

        var error = await Assert.ThrowsAsync<SinkUnavailableException>(() => sink.PublishAsync([TestSinks.Caption(0)], CancellationToken.None));

        Assert.IsType<HttpRequestException>(error.InnerException);
    }

    [Fact]
    public async Task PublishAsync_NoAnswerWithinTimeout_ThrowsSinkUnavailable()
    {
        _server.Answer(200, delay: TimeSpan.FromSeconds(30));
        await using var sink = Create(new() { ["Url"] = _server.Url.ToString(), ["TimeoutSeconds"] = "0.3" });

        var error = await Assert.ThrowsAsync<SinkUnavailableException>(() => sink.PublishAsync([TestSinks.Caption(0)], CancellationToken.None));

        Assert.Contains("did not answer within 0.3 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishAsync_CallerCancels_ThrowsOperationCanceledNotSinkUnavailable()
    {
        _server.Answer(200, delay: TimeSpan.FromSeconds(30));
        await using var sink = Create(new() { ["Url"] = _server.Url.ToString() });
        using var stopping = new CancellationTokenSource();

        var publish = sink.PublishAsync([TestSinks.Caption(0)], stopping.Token);
        await _server.NextRequestAsync();
        await stopping.CancelAsync();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => publish);
        Assert.Equal(stopping.Token, error.CancellationToken);
    }

    [Fact]
    public async Task PublishAsync_UnbatchedRetryAfterFailureMidBatch_SkipsCaptionsAlreadyDelivered()
    {
        _server.Answer(200);
        _server.Answer(503);
        await using var sink = Create(new() { ["Url"] = _server.Url.ToString(), ["Batch"] = "false" });
        IReadOnlyList<Caption> batch = [TestSinks.Caption(0), TestSinks.Caption(1), TestSinks.Caption(2)];

        await Assert.ThrowsAsync<SinkUnavailableException>(() => sink.PublishAsync(batch, CancellationToken.None));
        await sink.PublishAsync(batch, CancellationToken.None);

        var sequences = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            using var body = JsonDocument.Parse((await _server.NextRequestAsync()).Body);
            sequences.Add(body.RootElement.GetProperty("seq").GetInt64());
        }

        // 0 delivered, 1 refused with 503, then the retry: 1 and 2, without 0 again.
        Assert.Equal([0L, 1L, 1L, 2L], sequences);
        Assert.False(_server.HasUnreadRequests);
    }

    [Theory]
    [InlineData("ftp://example.org/hook")]
    [InlineData("not a url")]
    [InlineData("/relative/hook")]
    public void Create_UrlNotHttp_ThrowsConfigurationErrorNamingUrl(string url)
    {
        var error = Assert.Throws<PluginConfigurationException>(() => Create(new() { ["Url"] = url }));

        Assert.StartsWith("Sinks:hook:Url: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NoUrl_ThrowsConfigurationErrorNamingUrl()
    {
        var error = Assert.Throws<PluginConfigurationException>(() => Create(new() { ["Batch"] = "true" }));

        Assert.StartsWith("Sinks:hook:Url: required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_ContentTypeHeader_ThrowsConfigurationErrorNamingTheHeader()
    {
        var error = Assert.Throws<PluginConfigurationException>(
            () => Create(new() { ["Url"] = _server.Url.ToString(), ["Headers:Content-Type"] = "text/plain" }));

        Assert.StartsWith("Sinks:hook:Headers:Content-Type: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("ten")]
    public void Create_TimeoutNotPositive_ThrowsConfigurationErrorNamingKey(string timeout)
    {
        var error = Assert.Throws<PluginConfigurationException>(
            () => Create(new() { ["Url"] = _server.Url.ToString(), ["TimeoutSeconds"] = timeout }));

        Assert.StartsWith("Sinks:hook:TimeoutSeconds: ", error.Message, StringComparison.Ordinal);
    }

    private ICaptionSink Create(Dictionary<string, string?> settings) =>
        _factory.Create(TestSinks.Context("hook", settings, _state.Path));
}
