using System.Diagnostics.Metrics;
using CaptionDaemon.Telemetry;

namespace CaptionDaemon.Benchmarks.Streams;

/// <summary>
/// Listens to the daemon's own instruments (meter <c>captiond</c> of one run's <see cref="IMeterFactory"/>), so that the
/// figures are what the daemon reports on <c>/metrics</c>: windows dropped, captions delivered by one sink, and that
/// sink's window-end-to-delivery latency, which its <c>SinkPump</c> records when the sink has delivered a batch.
/// </summary>
internal sealed class PipelineProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _sink;
    private readonly Lock _lock = new();
    private readonly List<(DateTimeOffset WindowEnd, double Seconds)> _latencies = [];
    private long _dropped;
    private long _outboxDropped;
    private long _delivered;
    private long _suppressed;
    private long _batches;
    private long _batchWindows;
    private double _inferenceSeconds;

    /// <param name="meterFactory">The run's meter factory; instruments of other runs' factories are ignored.</param>
    /// <param name="sink">The sink whose deliveries and latencies are measured.</param>
    public PipelineProbe(IMeterFactory meterFactory, string sink)
    {
        _sink = sink;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == DaemonMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnLong);
        _listener.SetMeasurementEventCallback<int>(OnInt);
        _listener.SetMeasurementEventCallback<double>(OnDouble);
        _listener.Start();
    }

    /// <summary>Ready windows dropped for any reason (queue full, inference error, shutdown).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Captions dropped by any sink's outbox.</summary>
    public long OutboxDropped => Interlocked.Read(ref _outboxDropped);

    /// <summary>Captions the measured sink delivered.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Captions the caption policy held back (with repeats allowed: only empty captions).</summary>
    public long Suppressed => Interlocked.Read(ref _suppressed);

    /// <summary>Batched inference runs.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Mean windows per batched run.</summary>
    public double MeanBatch => Batches == 0 ? 0 : (double)Interlocked.Read(ref _batchWindows) / Batches;

    /// <summary>Mean wall time of one batched run, in seconds.</summary>
    public double MeanInferenceSeconds
    {
        get
        {
            lock (_lock)
            {
                return _batches == 0 ? 0 : _inferenceSeconds / _batches;
            }
        }
    }

    /// <summary>Latencies (seconds) of the measured sink's deliveries of windows that ended within [from, to].</summary>
    public double[] Latencies(DateTimeOffset from, DateTimeOffset to)
    {
        lock (_lock)
        {
            return [.. _latencies.Where(l => l.WindowEnd >= from && l.WindowEnd <= to).Select(l => l.Seconds)];
        }
    }

    public void Dispose() => _listener.Dispose();

    private bool IsMeasuredSink(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "sink")
            {
                return string.Equals(tag.Value as string, _sink, StringComparison.Ordinal);
            }
        }

        return false;
    }

    private void OnLong(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        switch (instrument.Name)
        {
            case "captiond.windows.dropped":
                Interlocked.Add(ref _dropped, value);
                break;
            case "captiond.sink.outbox.dropped":
                Interlocked.Add(ref _outboxDropped, value);
                break;
            case "captiond.captions.suppressed":
                Interlocked.Add(ref _suppressed, value);
                break;
            case "captiond.captions.published" when IsMeasuredSink(tags):
                Interlocked.Add(ref _delivered, value);
                break;
            default:
                break;
        }
    }

    private void OnInt(Instrument instrument, int value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (instrument.Name == "captiond.batch.size")
        {
            Interlocked.Add(ref _batchWindows, value);
            Interlocked.Increment(ref _batches);
        }
    }

    private void OnDouble(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (instrument.Name == "captiond.inference.duration")
        {
            lock (_lock)
            {
                _inferenceSeconds += value;
            }
        }
        else if (instrument.Name == "captiond.caption.latency" && IsMeasuredSink(tags))
        {
            // The pump records now - Caption.End just after delivery, so the window's end is now - latency (on the same
            // clock, within the microseconds between its reading and this one).
            var now = DateTimeOffset.UtcNow;
            lock (_lock)
            {
                _latencies.Add((now - TimeSpan.FromSeconds(value), value));
            }
        }
    }
}
