using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CaptionDaemon.Contracts;
using CaptionDaemon.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace CaptionDaemon.Tests.Sinks;

/// <summary>The daemon's real instruments on a real meter factory, with a listener that adds up what they record.</summary>
internal sealed class MetricsProbe : IDisposable
{
    private readonly ServiceProvider _provider;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();

    public MetricsProbe()
    {
        _provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = _provider.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
        _listener.Start();
        Metrics = new DaemonMetrics(meterFactory);
    }

    public DaemonMetrics Metrics { get; }

    /// <summary>The sum of what <paramref name="instrument"/> recorded with all of <paramref name="tags"/>.</summary>
    public double Sum(string instrument, params (string Key, string Value)[] tags) => Matching(instrument, tags).Sum(m => m.Value);

    /// <summary>How many measurements <paramref name="instrument"/> recorded with all of <paramref name="tags"/>.</summary>
    public int Count(string instrument, params (string Key, string Value)[] tags) => Matching(instrument, tags).Count();

    public void Dispose()
    {
        _listener.Dispose();
        _provider.Dispose();
    }

    private IEnumerable<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> Matching(string instrument, (string Key, string Value)[] tags) =>
        _measurements.Where(m => m.Instrument == instrument && tags.All(t => m.Tags.Any(mt => mt.Key == t.Key && Equals(mt.Value, t.Value))));
}

/// <summary>
/// A plugin-like sink written for these tests: records what it is given, and can be told to be unavailable (throw
/// <see cref="SinkUnavailableException"/>) or broken (throw something else).
/// </summary>
internal sealed class RecordingSink(string name) : ICaptionSink, ISourceStatusSink
{
    private readonly ConcurrentQueue<IReadOnlyList<Caption>> _batches = new();
    private readonly ConcurrentQueue<SourceStatus> _statuses = new();
    private int _attempts;

    public string Name { get; } = name;

    /// <summary>While true, every call throws <see cref="SinkUnavailableException"/>.</summary>
    public volatile bool Unavailable;

    /// <summary>The next this-many calls throw <see cref="SinkUnavailableException"/>.</summary>
    public int FailNext;

    /// <summary>When set, every call throws it (a sink bug).</summary>
    public Exception? Broken { get; set; }

    public bool Disposed { get; private set; }

    public int Attempts => Volatile.Read(ref _attempts);

    public IReadOnlyList<IReadOnlyList<Caption>> Batches => [.. _batches];

    public IReadOnlyList<long> Sequences => [.. _batches.SelectMany(b => b).Select(c => c.Sequence)];

    public IReadOnlyList<SourceStatus> Statuses => [.. _statuses];

    public Task PublishAsync(IReadOnlyList<Caption> captions, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _attempts);
        ThrowIfAsked();
        _batches.Enqueue([.. captions]); // copied: the host reuses its list
        return Task.CompletedTask;
    }

    public Task PublishStatusAsync(SourceStatus status, CancellationToken cancellationToken)
    {
        ThrowIfAsked();
        _statuses.Enqueue(status);
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }

    private void ThrowIfAsked()
    {
        if (Broken is not null)
        {
            throw Broken;
        }

        if (Unavailable || Interlocked.Decrement(ref FailNext) >= 0)
        {
            throw new SinkUnavailableException($"{Name} is down");
        }
    }
}

internal static class Captions
{
    public static Caption Make(long sequence, string source = "kitchen") =>
        new(source, sequence, DateTimeOffset.UtcNow.AddSeconds(-11), DateTimeOffset.UtcNow.AddSeconds(-1), $"caption {sequence}", 0.9, "test-model", TimeSpan.FromMilliseconds(100));
}
