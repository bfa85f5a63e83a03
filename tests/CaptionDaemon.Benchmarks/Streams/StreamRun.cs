using System.Diagnostics;
using System.Globalization;
using CaptionDaemon.Contracts;
using CaptionDaemon.Hosting;
using CaptionDaemon.Plugins;
using CaptionDaemon.Scheduling;
using CaptionDaemon.Sinks;
using CaptionDaemon.Telemetry;
using CaptionDaemon.Ui;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Benchmarks.Streams;

/// <summary>What one run does.</summary>
/// <param name="Streams">Simulated real-time sources.</param>
/// <param name="DurationSeconds">Wall time the sources are fed.</param>
/// <param name="HopSeconds">Windowing:HopSeconds.</param>
/// <param name="WarmupSeconds">Captions of windows ending within this long after the first window could end are left out of the latency figures.</param>
/// <param name="ModelDirectory">The bundle (Model:Path).</param>
/// <param name="PluginDirectory">The daemon's plugins/ folder, from which the jsonl sink is loaded.</param>
/// <param name="Overrides">Further configuration (KEY=VALUE from --set), applied last.</param>
/// <param name="Aligned">Start every source at the same instant (all windows due together) instead of spread over one hop.</param>
/// <param name="ProgressSeconds">Print RSS, CPU and counts this often while feeding; 0: quiet.</param>
/// <param name="PageClients">Live pages (event-stream clients) held open while feeding.</param>
internal sealed record StreamRunSettings(
    int Streams,
    double DurationSeconds,
    double HopSeconds,
    double WarmupSeconds,
    string ModelDirectory,
    string PluginDirectory,
    IReadOnlyDictionary<string, string?> Overrides,
    bool Aligned,
    int ProgressSeconds,
    int PageClients = 0);

/// <summary>The figures of one run; counts are taken when feeding stops, except the totals after the drain.</summary>
internal sealed record StreamRunResult
{
    public required int Streams { get; init; }
    /// <summary>Live pages held open while feeding.</summary>
    public int PageClients { get; init; }
    /// <summary>Captions and levels the daemon formatted for live pages (0 without pages).</summary>
    public long PageEventsFormatted { get; init; }
    /// <summary>Events all the pages received.</summary>
    public long PageEventsReceived { get; init; }
    /// <summary>The execution provider the model ran on (<c>cpu</c>, <c>cuda</c>).</summary>
    public required string Provider { get; init; }
    public required double FedSeconds { get; init; }
    public required long WindowsExpected { get; init; }
    public required long WindowsProduced { get; init; }
    public required long WindowsSilent { get; init; }
    public required long Captioned { get; init; }
    public required long Delivered { get; init; }
    public required long DeliveredTotal { get; init; }
    public required long JsonlLines { get; init; }
    public required long Dropped { get; init; }
    public required long OutboxDropped { get; init; }
    public required long Suppressed { get; init; }
    public required int LatencySamples { get; init; }
    public required double LatencyP50Ms { get; init; }
    public required double LatencyP99Ms { get; init; }
    public required double LatencyMaxMs { get; init; }
    public required double CpuPercentPerStream { get; init; }
    public required double CpuPercentTotal { get; init; }
    public required double RssBaselineMb { get; init; }
    public required double RssEndMb { get; init; }
    public required double RssMbPerStream { get; init; }
    public double? RssGrowthFromMinute1Mb { get; init; }
    public required IReadOnlyList<RssSample> Rss { get; init; }
    public required double MaxPacingLagMs { get; init; }
    public required double MeanBatch { get; init; }
    public required double MeanInferenceMs { get; init; }
    public required bool Drained { get; init; }
    public required bool Held { get; init; }
    public required string Verdict { get; init; }
}

/// <summary>One reading of resident memory, seconds after the sources started.</summary>
internal readonly record struct RssSample(double Seconds, double Megabytes);

/// <summary>
/// One run of the <c>streams</c> scenario: the daemon's pipeline composed as <c>captiond run</c> composes it (the host's
/// <see cref="SinkSet"/> with the console caption log and a real <c>jsonl</c> sink loaded from the daemon's plugins/
/// folder, then <c>AddCaptionPipeline</c>), fed by N simulated real-time sources from one pacing loop.
/// </summary>
internal static class StreamRun
{
    /// <summary>The measured sink's name (its configuration key).</summary>
    public const string SinkName = "jsonl";

    private const int ChunksPerSecond = 10;
    private static readonly TimeSpan _chunkDuration = TimeSpan.FromSeconds(1.0 / ChunksPerSecond);
    private static readonly TimeSpan _rssInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan _drainTimeout = TimeSpan.FromSeconds(60);

    public static async Task<StreamRunResult> RunAsync(StreamRunSettings settings, CancellationToken cancellationToken)
    {
        var temp = Directory.CreateTempSubdirectory("captiond-streams-");
        try
        {
            return await RunInAsync(settings, temp.FullName, cancellationToken);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    private static async Task<StreamRunResult> RunInAsync(StreamRunSettings settings, string temp, CancellationToken cancellationToken)
    {
        var captionsFile = Path.Combine(temp, "captions.jsonl");
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Model:Path"] = settings.ModelDirectory,
            ["Windowing:HopSeconds"] = settings.HopSeconds.ToString(CultureInfo.InvariantCulture),
            // Every window's caption is published, so that every window costs a delivery.
            ["Captions:SuppressRepeats"] = "false",
            ["StateDirectory"] = Path.Combine(temp, "state"),
            ["Plugins:Directories:0"] = settings.PluginDirectory,
            [$"Sinks:{SinkName}:Type"] = "jsonl",
            [$"Sinks:{SinkName}:Path"] = captionsFile,
        };
        foreach (var (key, value) in settings.Overrides)
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddSimpleConsole(console => console.SingleLine = true));
        services.AddMetrics();
        services.AddSingleton<DaemonMetrics>();
        services.AddSingleton(sp => PluginCatalog.Load(
            DaemonConfiguration.PluginDirectories(configuration),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("CaptionDaemon.Plugins")));

        // As RunCommand.Build: the sinks first (stopped after the pipeline, so the last captions are flushed), then the
        // model, the window queue and the batch scheduler. The sources are this benchmark's pacing loop. The live page's
        // feed sits beside the sinks in every run, as in the daemon, whether or not pages are held open.
        services.AddSingleton<SinkSet>();
        services.AddSingleton(sp => sp.GetRequiredService<SinkSet>().Hub);
        services.AddSingleton<LiveFeed>();
        services.AddSingleton<ICaptionOutlet>(sp => new WatchedOutlet(sp.GetRequiredService<SinkHub>(), sp.GetRequiredService<LiveFeed>()));
        services.AddHostedService(sp => sp.GetRequiredService<SinkSet>());
        services.AddUiOptions(configuration);
        // Each window's level goes to the metric, the sinks and the page, as in the daemon.
        services.AddSingleton<CaptionDaemon.Sources.SourceLevels>();
        services.AddSingleton(sp => new RecentAudio(sp.GetRequiredService<IOptions<UiOptions>>(), sp.GetRequiredService<ModelRuntime>().SampleRate));
        services.AddCaptionPipeline(configuration);

        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        using var probe = new PipelineProbe(provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), SinkName);
        var catalog = provider.GetRequiredService<PluginCatalog>();
        if (!catalog.TryGetSinkFactory("jsonl", out _, out _))
        {
            var failures = string.Join("; ", catalog.Reports.Where(r => !r.Loaded).Select(r => $"{r.Name}: {r.Error}"));
            throw new InvalidOperationException($"No plugin in {settings.PluginDirectory} provides the jsonl sink ({failures}); build the daemon in this configuration first.");
        }

        var hosted = provider.GetServices<IHostedService>().ToList();
        var started = new List<IHostedService>();
        try
        {
            foreach (var service in hosted)
            {
                await service.StartAsync(cancellationToken);
                started.Add(service);
            }

            var sinkSet = provider.GetRequiredService<SinkSet>();
            if (sinkSet.Failures.Count > 0)
            {
                throw new InvalidOperationException("A sink could not be created: " + string.Join("; ", sinkSet.Failures.Select(f => $"{f.Name}: {f.Error}")));
            }

            return await MeasureAsync(provider, probe, settings, captionsFile, started, cancellationToken);
        }
        finally
        {
            // Stopped in reverse order, as the host does; a second stop of an already stopped service does nothing.
            for (var i = started.Count - 1; i >= 0; i--)
            {
                await started[i].StopAsync(CancellationToken.None);
            }
        }
    }

    private static async Task<StreamRunResult> MeasureAsync(
        ServiceProvider provider,
        PipelineProbe probe,
        StreamRunSettings settings,
        string captionsFile,
        List<IHostedService> started,
        CancellationToken cancellationToken)
    {
        var windowers = provider.GetRequiredService<SourceWindowerFactory>();
        var scheduler = provider.GetRequiredService<BatchScheduler>();
        var queue = provider.GetRequiredService<ReadyWindowQueue>();
        var policy = provider.GetRequiredService<CaptionPolicy>();
        var model = windowers.Model;
        var tape = SceneTape.Load(Path.Combine(settings.ModelDirectory, "samples"), model.SampleRate, model.SampleRate / ChunksPerSecond);

        WarmUp(provider.GetRequiredService<WindowCaptioner>(), tape, cancellationToken);

        var n = settings.Streams;
        var format = new AudioFormat(model.SampleRate, 1);
        var sources = new StreamSource[n];
        var hopChunks = Math.Max(1, (int)Math.Round(settings.HopSeconds * ChunksPerSecond));
        for (var i = 0; i < n; i++)
        {
            // Sources join spread over one hop (as independent streams do), each at its own point of the tape: another
            // scene, or the same one shifted, so that no two sources send the same windows at the same time.
            var startChunk = settings.Aligned ? 0 : (int)((long)i * hopChunks / n);
            var tapeChunk = (long)i * tape.Chunks / n;
            sources[i] = new StreamSource(windowers.Create($"stream{i:D3}", format), startChunk, tapeChunk);
        }

        // The pages connect before the baseline: what they cost while open is counted, not their one-off start.
        var feed = provider.GetRequiredService<LiveFeed>();
        await using var pages = settings.PageClients > 0
            ? await PageWatchers.StartAsync(feed, provider.GetRequiredService<RecentAudio>(), settings.PageClients, cancellationToken)
            : null;

        ProcessResources.Settle();
        await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        var rssBaseline = ProcessResources.RssMegabytes();
        var rss = new List<RssSample> { new(0, rssBaseline) };

        var totalChunks = (long)Math.Round(settings.DurationSeconds * ChunksPerSecond);
        var cpuStart = ProcessResources.CpuTime();
        var clockStart = Stopwatch.GetTimestamp();
        var utcStart = DateTimeOffset.UtcNow;
        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampling = SampleAsync(rss, clockStart, cpuStart, settings, probe, queue, stopSampling.Token);
        var maxLag = await Task.Factory.StartNew(
            () => Feed(sources, tape, totalChunks, clockStart, utcStart, cancellationToken),
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        // Feeding stopped: the run's figures are read now, before the pipeline drains.
        var fed = Stopwatch.GetElapsedTime(clockStart);
        var cpu = ProcessResources.CpuTime() - cpuStart;
        var utcEnd = utcStart + TimeSpan.FromTicks(totalChunks * _chunkDuration.Ticks);
        var captioned = scheduler.WindowsCaptioned;
        var delivered = probe.Delivered;
        var dropped = probe.Dropped;
        var outboxDropped = probe.OutboxDropped;
        var rssEnd = ProcessResources.RssMegabytes();
        var pageEventsFormatted = feed.EventsFormatted;
        var pageEventsReceived = pages?.EventsReceived ?? 0;
        await stopSampling.CancelAsync();
        await sampling;
        rss.Add(new RssSample(fed.TotalSeconds, rssEnd));

        long expected = 0, produced = 0, silent = 0;
        foreach (var source in sources)
        {
            var samples = source.Windower.ModelSamples;
            expected += samples < model.ContentSamples ? 0 : ((samples - model.ContentSamples) / model.HopSamples) + 1;
            produced += source.Windower.WindowsQueued;
            silent += source.Windower.WindowsSilent;
        }

        var drained = await DrainAsync(sources, scheduler, probe, policy, cancellationToken);
        for (var i = started.Count - 1; i >= 0; i--)
        {
            await started[i].StopAsync(CancellationToken.None);
        }

        started.Clear();
        var lines = File.ReadLines(captionsFile).LongCount(l => l.Length > 0);

        // Latency of the windows that ended after the warm-up and before feeding stopped (delivered at any time).
        var firstWindowEnd = utcStart + TimeSpan.FromSeconds((double)model.WindowSamples / model.SampleRate);
        var latencies = probe.Latencies(firstWindowEnd + TimeSpan.FromSeconds(settings.WarmupSeconds), utcEnd);
        Array.Sort(latencies);
        var p50 = Percentile(latencies, 0.50) * 1000;
        var p99 = Percentile(latencies, 0.99) * 1000;
        var hopMs = settings.HopSeconds * 1000;

        var reasons = new List<string>();
        if (dropped > 0)
        {
            reasons.Add($"{dropped} windows dropped");
        }

        if (outboxDropped > 0)
        {
            reasons.Add($"{outboxDropped} captions dropped by an outbox");
        }

        var owed = expected - silent - n;
        if (captioned < owed)
        {
            reasons.Add($"backlog: {captioned} captioned < {expected - silent} expected - {n}");
        }

        if (latencies.Length == 0)
        {
            reasons.Add("no caption after the warm-up");
        }
        else if (!(p99 < hopMs))
        {
            reasons.Add($"p99 {p99:F0} ms >= hop {hopMs:F0} ms");
        }

        if (!drained)
        {
            reasons.Add("the pipeline did not drain");
        }

        double? growth = null;
        if (fed.TotalSeconds > 60 && rss.Where(s => s.Seconds >= 60).Select(s => (RssSample?)s).FirstOrDefault() is { } minute1)
        {
            growth = rssEnd - minute1.Megabytes;
        }

        return new StreamRunResult
        {
            Streams = n,
            PageClients = settings.PageClients,
            PageEventsFormatted = pageEventsFormatted,
            PageEventsReceived = pageEventsReceived,
            Provider = provider.GetRequiredService<ModelRuntime>().Status.Provider,
            FedSeconds = fed.TotalSeconds,
            WindowsExpected = expected - silent,
            WindowsProduced = produced,
            WindowsSilent = silent,
            Captioned = captioned,
            Delivered = delivered,
            DeliveredTotal = probe.Delivered,
            JsonlLines = lines,
            Dropped = dropped,
            OutboxDropped = outboxDropped,
            Suppressed = probe.Suppressed,
            LatencySamples = latencies.Length,
            LatencyP50Ms = p50,
            LatencyP99Ms = p99,
            LatencyMaxMs = latencies.Length == 0 ? double.NaN : latencies[^1] * 1000,
            CpuPercentPerStream = cpu.TotalSeconds / fed.TotalSeconds / n * 100,
            CpuPercentTotal = cpu.TotalSeconds / fed.TotalSeconds * 100,
            RssBaselineMb = rssBaseline,
            RssEndMb = rssEnd,
            RssMbPerStream = (rssEnd - rssBaseline) / n,
            RssGrowthFromMinute1Mb = growth,
            Rss = rss,
            MaxPacingLagMs = maxLag.TotalMilliseconds,
            MeanBatch = probe.MeanBatch,
            MeanInferenceMs = probe.MeanInferenceSeconds * 1000,
            Drained = drained,
            Held = reasons.Count == 0,
            Verdict = reasons.Count == 0 ? "held" : string.Join("; ", reasons),
        };
    }

    /// <summary>
    /// One full batch through the daemon's captioner before the memory baseline, so that the runtime's one-off costs
    /// (JIT, ONNX Runtime's first-run allocations at the largest batch) are not counted per stream.
    /// </summary>
    private static void WarmUp(WindowCaptioner captioner, SceneTape tape, CancellationToken cancellationToken)
    {
        var windows = new ReadyWindow[captioner.MaxBatch];
        var windowChunks = captioner.WindowSamples / tape.ChunkSamples;
        for (var i = 0; i < windows.Length; i++)
        {
            var samples = new float[captioner.WindowSamples];
            tape.CopyWindow((long)i * windowChunks, samples);
            windows[i] = new ReadyWindow("warm-up", samples, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 0, Stopwatch.GetTimestamp());
        }

        captioner.Caption(windows, cancellationToken);
    }

    /// <summary>
    /// The one pacing loop: chunk k of every source that has started is due when its last sample has been "captured",
    /// at start + (k + 1) x 100 ms, and is appended then with its capture time. A late loop catches up at once, so the
    /// audio fed always matches the wall time and any lateness shows in the latencies.
    /// </summary>
    /// <returns>How late the loop was at worst.</returns>
    private static TimeSpan Feed(StreamSource[] sources, SceneTape tape, long totalChunks, long clockStart, DateTimeOffset utcStart, CancellationToken cancellationToken)
    {
        var maxLag = TimeSpan.Zero;
        for (long k = 0; k < totalChunks; k++)
        {
            var due = TimeSpan.FromTicks((k + 1) * _chunkDuration.Ticks);
            var wait = due - Stopwatch.GetElapsedTime(clockStart);
            if (wait > TimeSpan.Zero)
            {
                if (cancellationToken.WaitHandle.WaitOne(wait))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
            else if (-wait > maxLag)
            {
                maxLag = -wait;
            }

            var captured = utcStart + TimeSpan.FromTicks(k * _chunkDuration.Ticks);
            foreach (var source in sources)
            {
                if (k >= source.StartChunk)
                {
                    source.Windower.Append(tape.Chunk(source.TapeChunk + k - source.StartChunk), captured);
                }
            }
        }

        return maxLag;
    }

    /// <summary>Reads RSS every 5 s; prints progress every <see cref="StreamRunSettings.ProgressSeconds"/>.</summary>
    private static async Task SampleAsync(
        List<RssSample> rss,
        long clockStart,
        TimeSpan cpuStart,
        StreamRunSettings settings,
        PipelineProbe probe,
        ReadyWindowQueue queue,
        CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_rssInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var seconds = Stopwatch.GetElapsedTime(clockStart).TotalSeconds;
                var megabytes = ProcessResources.RssMegabytes();
                lock (rss)
                {
                    rss.Add(new RssSample(seconds, megabytes));
                }

                var progress = settings.ProgressSeconds;
                if (progress > 0 && (int)Math.Round(seconds) % progress < _rssInterval.TotalSeconds)
                {
                    var cpu = (ProcessResources.CpuTime() - cpuStart).TotalSeconds / seconds * 100;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  t={seconds,5:F0} s  rss={megabytes,7:F1} MB  (+{megabytes - rss[0].Megabytes:F1} since start)  cpu={cpu,5:F0}%  delivered={probe.Delivered}  dropped={probe.Dropped}  queued={queue.Count}"));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Feeding ended: sampling stops with it.
        }
    }

    /// <summary>
    /// Waits until every queued window was captioned or dropped and the measured sink delivered every caption the policy
    /// published, so that the totals and the file can be checked.
    /// </summary>
    private static async Task<bool> DrainAsync(StreamSource[] sources, BatchScheduler scheduler, PipelineProbe probe, CaptionPolicy policy, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(_drainTimeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var queued = sources.Sum(s => s.Windower.WindowsQueued);
            var published = sources.Sum(s => policy.LastSequence(s.Windower.SourceId));
            if (queued == scheduler.WindowsCaptioned + probe.Dropped && probe.Delivered == published)
            {
                return true;
            }

            await Task.Delay(50, cancellationToken);
        }

        return false;
    }

    private static double Percentile(double[] sorted, double quantile) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>A simulated source: its windower (the daemon's), when it joins and where on the tape it starts.</summary>
    private sealed record StreamSource(SourceWindower Windower, int StartChunk, long TapeChunk);
}
