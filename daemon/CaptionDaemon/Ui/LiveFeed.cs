using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Shared;
using CaptionDaemon.Telemetry;

namespace CaptionDaemon.Ui;

/// <summary>
/// The live page's event stream: each caption and each source level, as Server-Sent Events, to every connected page.
/// While no page is connected it does nothing but read one counter per caption and per level: nothing is formatted,
/// kept or queued, so a daemon that nobody watches pays nothing for the page.
/// </summary>
/// <remarks>
/// An event is formatted once and handed to each watcher's own bounded queue; a page that does not keep up loses its
/// oldest events (a level or a caption it would have scrolled past), never holds up the pipeline or the other pages.
/// </remarks>
internal sealed class LiveFeed
{
    /// <summary>Pages that may watch at once; more are refused (HTTP 503) with the reason.</summary>
    public const int MaxWatchers = 32;

    /// <summary>Events waiting for one page at most; older ones are dropped first.</summary>
    public const int WatcherQueueCapacity = 256;

    private readonly DaemonMetrics _metrics;
    private readonly Lock _lock = new();
    private Watcher[] _watchers = [];
    private long _eventsFormatted;

    public LiveFeed(DaemonMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _metrics = metrics;
    }

    /// <summary>Pages connected now.</summary>
    public int WatcherCount => Volatile.Read(ref _watchers).Length;

    /// <summary>Events formatted for pages since start: stays 0 while nobody watches.</summary>
    public long EventsFormatted => Interlocked.Read(ref _eventsFormatted);

    /// <summary>Adds a page; null when <see cref="MaxWatchers"/> already watch.</summary>
    public Watcher? Watch()
    {
        var watcher = new Watcher(this);
        lock (_lock)
        {
            if (_watchers.Length >= MaxWatchers)
                return null;
            _watchers = [.. _watchers, watcher];
        }

        _metrics.UiPages.Add(1);
        return watcher;
    }

    private void Unwatch(Watcher watcher)
    {
        bool removed;
        lock (_lock)
        {
            var remaining = _watchers.Where(w => !ReferenceEquals(w, watcher)).ToArray();
            removed = remaining.Length != _watchers.Length;
            _watchers = remaining;
        }

        if (removed)
            _metrics.UiPages.Add(-1);
        watcher.Complete();
    }

    /// <summary>A caption that passed the caption policy.</summary>
    public void OnCaption(Caption caption)
    {
        var watchers = Volatile.Read(ref _watchers);
        if (watchers.Length == 0)
            return;
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, CaptionWireFormat.WriterOptions))
            CaptionWireFormat.Write(writer, caption);
        Send(watchers, "caption", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    /// <summary>A source's level, once per window.</summary>
    public void OnLevel(SourceLevel level)
    {
        var watchers = Volatile.Read(ref _watchers);
        if (watchers.Length == 0)
            return;
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, CaptionWireFormat.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("source", level.SourceId);
            writer.WriteNumber("dbfs", Math.Round(level.Dbfs, 1));
            writer.WriteString("time", level.Time.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture));
            writer.WriteEndObject();
        }

        var data = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Send(watchers, "level", data);
    }

    private void Send(Watcher[] watchers, string name, string data)
    {
        var message = $"event: {name}\ndata: {data}\n\n";
        Interlocked.Increment(ref _eventsFormatted);
        _metrics.UiEvents.Add(1);
        foreach (var watcher in watchers)
            watcher.Offer(message);
    }

    /// <summary>One connected page: its queue of formatted events. Dispose it when the page goes.</summary>
    internal sealed class Watcher : IDisposable
    {
        private readonly LiveFeed _feed;
        private readonly Channel<string> _events = Channel.CreateBounded<string>(new BoundedChannelOptions(WatcherQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });

        public Watcher(LiveFeed feed) => _feed = feed;

        /// <summary>The events, each a complete Server-Sent Events message.</summary>
        public ChannelReader<string> Events => _events.Reader;

        internal void Offer(string message) => _events.Writer.TryWrite(message);

        internal void Complete() => _events.Writer.TryComplete();

        public void Dispose() => _feed.Unwatch(this);
    }
}
