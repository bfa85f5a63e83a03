using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using CaptionDaemon.Contracts;
using CaptionDaemon.Sinks;
using CaptionDaemon.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Tests.Scheduling;

/// <summary>Where the repository's shipped model and samples are.</summary>
internal static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string DefaultModel => Path.Combine(Root, "models", "default");

    /// <summary>A small random bundle with labels (tests/data/labelled-bundle/README.md); 1 s windows.</summary>
    public static string LabelledBundle => Path.Combine(Root, "tests", "data", "labelled-bundle");

    /// <summary>The shipped model's <c>name</c>, which every caption it makes carries.</summary>
    public static string DefaultModelName
    {
        get
        {
            using var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(DefaultModel, "manifest.json")));
            return manifest.RootElement.GetProperty("name").GetString()!;
        }
    }

    public static string[] Samples =>
        Directory.GetFiles(Path.Combine(DefaultModel, "samples"), "*.wav").Order(StringComparer.Ordinal).ToArray();

    /// <summary>Copies the bundle's own files (not samples/ or checkpoint/) into a new temporary folder.</summary>
    public static string CopyDefaultModel() => CopyBundle(DefaultModel);

    /// <summary>Copies a bundle's own files (not its subfolders) into a new temporary folder.</summary>
    public static string CopyBundle(string bundle)
    {
        var target = Path.Combine(Path.GetTempPath(), "captiond-model-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(bundle))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return target;
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "CaptionDaemon.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No CaptionDaemon.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>Reads the PCM WAV files the repository ships (16-bit integer samples) as floats.</summary>
internal static class WavFile
{
    public static (float[] Samples, int SampleRate, int Channels) Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 12 || bytes[0] != 'R' || bytes[8] != 'W')
        {
            throw new InvalidDataException($"{path}: not a RIFF/WAVE file.");
        }

        int rate = 0, channels = 0, bits = 0;
        for (var offset = 12; offset + 8 <= bytes.Length;)
        {
            var id = System.Text.Encoding.ASCII.GetString(bytes, offset, 4);
            var size = BitConverter.ToInt32(bytes, offset + 4);
            var body = offset + 8;
            if (id == "fmt ")
            {
                channels = BitConverter.ToInt16(bytes, body + 2);
                rate = BitConverter.ToInt32(bytes, body + 4);
                bits = BitConverter.ToInt16(bytes, body + 14);
            }
            else if (id == "data")
            {
                if (bits != 16)
                {
                    throw new InvalidDataException($"{path}: {bits}-bit samples; only 16-bit PCM is read here.");
                }

                var count = Math.Min(size, bytes.Length - body) / 2;
                var samples = new float[count];
                for (var i = 0; i < count; i++)
                {
                    samples[i] = BitConverter.ToInt16(bytes, body + (2 * i)) / 32768f;
                }

                return (samples, rate, channels);
            }

            offset = body + size + (size & 1);
        }

        throw new InvalidDataException($"{path}: no data chunk.");
    }
}

/// <summary>An audio source over samples in memory (e.g. a WAV file read with <see cref="WavFile"/>), yielding fixed-size chunks.</summary>
internal sealed class MemoryAudioSource(string id, AudioFormat format, float[] samples, int chunkFrames, DateTimeOffset? start = null) : IAudioSource
{
    public string Id => id;

    public AudioFormat Format => format;

    public async IAsyncEnumerable<AudioChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var step = chunkFrames * format.Channels;
        for (var offset = 0; offset < samples.Length; offset += step)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return new AudioChunk(samples.AsMemory(offset, Math.Min(step, samples.Length - offset)), offset == 0 ? start : null);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A clock the test moves by hand (wall clock and monotonic timestamps alike).</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private long _ticks;
    private DateTimeOffset _now = start;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow() => _now;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by)
    {
        _now += by;
        Interlocked.Add(ref _ticks, by.Ticks);
    }
}

/// <summary>The daemon's metrics on a real meter factory, with a listener that records what they measure.</summary>
internal sealed class MetricsRecorder : IDisposable
{
    private readonly ServiceProvider _provider;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Name, double Value, Dictionary<string, string?> Tags)> _measurements = new();

    public MetricsRecorder()
    {
        _provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = _provider.GetRequiredService<IMeterFactory>();
        Metrics = new DaemonMetrics(factory);

        // Only this factory's meters: tests in parallel each have their own.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    public DaemonMetrics Metrics { get; }

    public IReadOnlyList<(string Name, double Value, Dictionary<string, string?> Tags)> Measurements(string name) =>
        _measurements.Where(m => m.Name == name).ToList();

    public double Sum(string name, params (string Key, string Value)[] tags) =>
        _measurements.Where(m => m.Name == name && tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && v == t.Value)).Sum(m => m.Value);

    public void Dispose()
    {
        _listener.Dispose();
        _provider.Dispose();
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value?.ToString();
        }

        _measurements.Enqueue((instrument.Name, value, copy));
    }
}

/// <summary>An outlet that keeps what it is given (the pipeline's real consumer is the sinks' queues).</summary>
internal sealed class RecordingOutlet : ICaptionOutlet
{
    private readonly ConcurrentQueue<Caption> _captions = new();
    private readonly ConcurrentQueue<SourceLevel> _levels = new();

    public IReadOnlyList<Caption> Captions => _captions.ToArray();

    public void Publish(Caption caption) => _captions.Enqueue(caption);

    public void PublishStatus(SourceStatus status)
    {
    }

    public void PublishDescription(SourceDescription description)
    {
    }

    public IReadOnlyList<SourceLevel> Levels => _levels.ToArray();

    public void PublishLevel(SourceLevel level) => _levels.Enqueue(level);
}

/// <summary>A logger that keeps the formatted messages.</summary>
internal sealed class CapturingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Entries => _entries.ToArray();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, formatter(state, exception)));
}

/// <summary>Polls a condition until it holds or the time runs out.</summary>
internal static class Eventually
{
    public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }
}
