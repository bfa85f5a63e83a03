using CaptionDaemon.Contracts;
using CaptionDaemon.Sinks;
using CaptionDaemon.Tests.Mqtt;
using Xunit.Abstractions;

namespace CaptionDaemon.Tests.Sinks;

public sealed class SinkHubTests(ITestOutputHelper output) : IDisposable
{
    private readonly MetricsProbe _probe = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("captiond-hub-").FullName;

    [Fact]
    public async Task Publish_OneSinkThrows_ItIsDisabledAndTheOthersGetEveryCaption()
    {
        var broken = new RecordingSink("broken") { Broken = new NullReferenceException("bug in a plugin") };
        var healthy = new RecordingSink("healthy");
        await using var hub = new SinkHub(_directory, _probe.Metrics, new XunitLoggerFactory(output));
        hub.Add(broken, new SinkPumpOptions());
        hub.Add(healthy, new SinkPumpOptions());
        hub.Start();

        for (var i = 1; i <= 10; i++)
        {
            hub.Publish(Captions.Make(i));
        }

        await Poll.UntilAsync(() => hub.Snapshot().Any(s => s.Name == "healthy" && s.Delivered == 10), TimeSpan.FromSeconds(20), "10 captions");
        await Poll.UntilAsync(() => hub.Snapshot().Any(s => s.State == SinkState.Failed), TimeSpan.FromSeconds(20), "the broken sink disabled");
        var states = hub.Snapshot().ToDictionary(s => s.Name);
        Assert.Equal(SinkState.Failed, states["broken"].State);
        Assert.Equal("bug in a plugin", states["broken"].LastError);
        Assert.Equal(SinkState.Running, states["healthy"].State);
        Assert.Equal(10, states["healthy"].Delivered);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), healthy.Sequences);
        Assert.Equal(1, _probe.Sum("captiond.plugin.failures", ("plugin", "broken"), ("kind", "sink")));
    }

    [Fact]
    public async Task Add_AfterStates_NewStatusSinkHearsTheLatestStateOfEachSource()
    {
        await using var hub = new SinkHub(_directory, _probe.Metrics, new XunitLoggerFactory(output));
        hub.Start();
        hub.PublishStatus(new SourceStatus("a", SourceState.Starting, null, DateTimeOffset.UtcNow));
        hub.PublishStatus(new SourceStatus("a", SourceState.Online, null, DateTimeOffset.UtcNow));
        var late = new RecordingSink("late");

        hub.Add(late, new SinkPumpOptions());

        await Poll.UntilAsync(() => late.Statuses.Count == 1, TimeSpan.FromSeconds(20), "the state");
        Assert.Equal(SourceState.Online, late.Statuses[0].State);
    }

    [Fact]
    public async Task DisposeAsync_Sinks_DisposesEverySink()
    {
        var a = new RecordingSink("a");
        var b = new RecordingSink("b");
        var hub = new SinkHub(_directory, _probe.Metrics, new XunitLoggerFactory(output));
        hub.Add(a, new SinkPumpOptions());
        hub.Add(b, new SinkPumpOptions());
        hub.Start();

        await hub.DisposeAsync();

        Assert.True(a.Disposed);
        Assert.True(b.Disposed);
    }

    public void Dispose()
    {
        _probe.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
