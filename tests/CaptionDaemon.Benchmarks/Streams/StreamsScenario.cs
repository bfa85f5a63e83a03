using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace CaptionDaemon.Benchmarks.Streams;

/// <summary>
/// Scenario <c>streams</c>: N simulated real-time 16 kHz sources through the daemon's pipeline (windowing, silence gate,
/// ready-window queue, batch scheduler, caption policy) to a real <c>jsonl</c> sink. With <c>--streams N</c> it runs N;
/// without, it searches for the largest N that holds real time (no window dropped, no backlog, p99 latency under one hop).
/// </summary>
internal static class StreamsScenario
{
    private static readonly JsonSerializerOptions _jsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command CreateCommand()
    {
        var streamsOption = new Option<int?>("--streams") { Description = "Run exactly this many streams; without it, search for the largest N that holds real time." };
        var durationOption = new Option<double>("--duration") { Description = "Seconds each run feeds audio (a search runs several).", DefaultValueFactory = _ => 60 };
        var hopOption = new Option<double>("--hop") { Description = "Windowing:HopSeconds.", DefaultValueFactory = _ => 2 };
        var warmupOption = new Option<double>("--warmup") { Description = "Seconds after the first window whose captions are left out of the latency figures.", DefaultValueFactory = _ => 10 };
        var startOption = new Option<int>("--start") { Description = "Search: the first N tried (doubled until a run fails, then bisected).", DefaultValueFactory = _ => 16 };
        var maxOption = new Option<int>("--max") { Description = "Search: the largest N tried.", DefaultValueFactory = _ => 512 };
        var modelOption = new Option<DirectoryInfo?>("--model") { Description = "Bundle folder; default: the repository's models/default." };
        var pluginsOption = new Option<DirectoryInfo?>("--plugins") { Description = "The daemon's plugins/ folder (for the jsonl sink); default: the daemon's build output of this configuration." };
        var setOption = new Option<string[]>("--set") { Description = "Further configuration, KEY=VALUE (e.g. Scheduler:MaxBatch=16).", AllowMultipleArgumentsPerToken = true };
        var alignedOption = new Option<bool>("--aligned") { Description = "Start every source at the same instant (all windows due together) instead of spread over one hop." };
        var progressOption = new Option<int>("--progress") { Description = "Print RSS, CPU and counts every this many seconds while feeding (0: quiet).", DefaultValueFactory = _ => 0 };
        var jsonOption = new Option<FileInfo?>("--json") { Description = "Write the figures to this JSON file." };
        var pagesOption = new Option<int[]>("--page-clients")
        {
            Description = "Live pages (clients of the page's /events stream) held open while feeding. Several values (e.g. 0 10) with --streams run that N once per value, each in a process of its own, for a comparison from one command.",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [0],
        };
        var providerOption = ProviderOption.Create();

        var command = new Command("streams", "Real-time streams through the daemon's pipeline to a jsonl sink: max streams, latency, CPU and RSS per stream.");
        foreach (var option in new Option[] { streamsOption, durationOption, hopOption, warmupOption, startOption, maxOption, modelOption, pluginsOption, setOption, alignedOption, progressOption, jsonOption, providerOption, pagesOption })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var pair in parse.GetValue(setOption) ?? [])
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    Console.Error.WriteLine($"--set {pair}: expected KEY=VALUE");
                    return 2;
                }

                overrides[pair[..equals]] = pair[(equals + 1)..];
            }

            // Model:ExecutionProvider as the daemon reads it; a --set of the same key wins.
            overrides.TryAdd("Model:ExecutionProvider", ProviderOption.ConfigurationValue(parse.GetValue(providerOption)));

            var duration = parse.GetValue(durationOption);
            var hop = parse.GetValue(hopOption);
            if (duration <= 0 || hop <= 0)
            {
                Console.Error.WriteLine("--duration and --hop must be positive.");
                return 2;
            }

            var pageClients = parse.GetValue(pagesOption) ?? [0];
            if (pageClients.Length == 0 || pageClients.Any(p => p < 0 || p > Ui.LiveFeed.MaxWatchers))
            {
                Console.Error.WriteLine($"--page-clients: between 0 and {Ui.LiveFeed.MaxWatchers} each.");
                return 2;
            }

            if (pageClients.Length > 1 && parse.GetValue(streamsOption) is null)
            {
                Console.Error.WriteLine("--page-clients with several values compares them at one N: give --streams.");
                return 2;
            }

            var template = new StreamRunSettings(
                Streams: 0,
                DurationSeconds: duration,
                HopSeconds: hop,
                WarmupSeconds: parse.GetValue(warmupOption),
                ModelDirectory: parse.GetValue(modelOption)?.FullName ?? Metadata("CaptionDaemon.DefaultModel"),
                PluginDirectory: parse.GetValue(pluginsOption)?.FullName ?? Metadata("CaptionDaemon.DaemonPlugins"),
                Overrides: overrides,
                Aligned: parse.GetValue(alignedOption),
                ProgressSeconds: parse.GetValue(progressOption),
                PageClients: pageClients[0]);

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"streams: model {template.ModelDirectory}, hop {hop} s, {duration} s per run, {Environment.ProcessorCount} cores"));
            Console.WriteLine($"{"streams",7} {"pages",5} {"fed s",6} {"windows",8} {"dropped",7} {"p50 ms",7} {"p99 ms",7} {"max ms",7} {"batch",6} {"infer ms",8} {"cpu %/str",9} {"rss MB/str",10} {"rss MB",7}  verdict");

            var runs = new List<StreamRunResult>();
            var childArguments = ChildArguments(parse.Tokens.Where(t => t.Type != TokenType.Command).Select(t => t.Value).ToList());
            async Task<StreamRunResult> RunAsync(int n, bool isolated, int pages)
            {
                // A search (or a comparison) runs each N in a process of its own, so that one run's memory and threads do
                // not count in the next.
                var result = isolated
                    ? await RunIsolatedAsync(n, pages, childArguments, cancellationToken)
                    : await StreamRun.RunAsync(template with { Streams = n, PageClients = pages }, cancellationToken);
                runs.Add(result);
                Print(result);
                return result;
            }

            StreamRunResult? best;
            if (parse.GetValue(streamsOption) is { } fixedStreams)
            {
                if (fixedStreams <= 0)
                {
                    Console.Error.WriteLine("--streams must be positive.");
                    return 2;
                }

                StreamRunResult? result = null;
                var allHeld = true;
                foreach (var pages in pageClients)
                {
                    result = await RunAsync(fixedStreams, isolated: pageClients.Length > 1, pages);
                    allHeld &= result.Held;
                }

                best = allHeld ? result : null;
            }
            else
            {
                best = await SearchAsync(n => RunAsync(n, isolated: true, pageClients[0]), Math.Max(1, parse.GetValue(startOption)), parse.GetValue(maxOption));
            }

            var reported = best ?? runs[^1];
            Console.WriteLine($"provider in use: {reported.Provider}");
            Console.WriteLine(best is null
                ? "no run held real time"
                : string.Create(CultureInfo.InvariantCulture, $"max real-time streams: {best.Streams} (p50 {best.LatencyP50Ms:F0} ms, p99 {best.LatencyP99Ms:F0} ms, {best.RssMbPerStream:F2} MB and {best.CpuPercentPerStream:F2}% CPU per stream)"));
            if (reported.RssGrowthFromMinute1Mb is { } growth)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RSS from minute 1 to the end: {growth:+0.0;-0.0} MB ({reported.RssEndMb:F0} MB at the end)"));
            }

            if (parse.GetValue(jsonOption) is { } json)
            {
                var document = new Dictionary<string, object?>
                {
                    ["scenario"] = "streams",
                    ["max_realtime_streams"] = best?.Streams ?? 0,
                    ["provider"] = reported.Provider,
                    ["latency_p50_ms"] = Round(reported.LatencyP50Ms),
                    ["latency_p99_ms"] = Round(reported.LatencyP99Ms),
                    ["rss_mb_per_stream"] = Round(reported.RssMbPerStream),
                    ["cpu_percent_per_stream"] = Round(reported.CpuPercentPerStream),
                    ["dropped_windows"] = reported.Dropped,
                    ["rss_growth_from_minute_1_mb"] = reported.RssGrowthFromMinute1Mb is { } g ? Round(g) : null,
                    ["hop_seconds"] = hop,
                    ["duration_seconds"] = duration,
                    ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}",
                    ["runs"] = runs.Select(r => r with { Rss = r.Rss.Count > 200 ? [.. r.Rss.Where((_, i) => i % (r.Rss.Count / 100) == 0)] : r.Rss }).ToList(),
                };
                File.WriteAllText(json.FullName, JsonSerializer.Serialize(document, _jsonOptions));
                Console.WriteLine($"wrote {json.FullName}");
            }

            return best is null ? 1 : 0;
        });
        return command;
    }

    /// <summary>The options of this command line that a child run repeats: all but --streams, --json and the search's own.</summary>
    private static List<string> ChildArguments(IReadOnlyList<string> tokens)
    {
        string[] dropped = ["--streams", "--json", "--start", "--max"];
        var kept = new List<string>();
        for (var i = 0; i < tokens.Count; i++)
        {
            if (dropped.Contains(tokens[i], StringComparer.Ordinal))
            {
                i++;
                continue;
            }

            if (tokens[i] == "--page-clients")
            {
                // Its values, up to the next option: each child gets one.
                while (i + 1 < tokens.Count && !tokens[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    i++;
                }

                continue;
            }

            kept.Add(tokens[i]);
        }

        return kept;
    }

    /// <summary>Runs <c>streams --streams N --json TEMP</c> in a child process and reads its one run back.</summary>
    private static async Task<StreamRunResult> RunIsolatedAsync(int streams, int pages, List<string> arguments, CancellationToken cancellationToken)
    {
        var json = Path.Combine(Path.GetTempPath(), $"captiond-streams-{Environment.ProcessId}-{streams}.json");
        var start = new System.Diagnostics.ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
        foreach (var argument in (IEnumerable<string>)["streams", .. arguments, "--streams", streams.ToString(CultureInfo.InvariantCulture), "--page-clients", pages.ToString(CultureInfo.InvariantCulture), "--json", json])
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var child = System.Diagnostics.Process.Start(start)!;
            var output = await child.StandardOutput.ReadToEndAsync(cancellationToken);
            await child.WaitForExitAsync(cancellationToken);
            if (!File.Exists(json))
            {
                throw new InvalidOperationException($"The run of {streams} streams exited with {child.ExitCode} and wrote no figures:\n{output}");
            }

            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(json, cancellationToken));
            return document.RootElement.GetProperty("runs")[0].Deserialize<StreamRunResult>(_jsonOptions)!;
        }
        finally
        {
            File.Delete(json);
        }
    }

    /// <summary>Doubles N from <paramref name="start"/> while runs hold, then bisects between the last that held and the first that did not.</summary>
    private static async Task<StreamRunResult?> SearchAsync(Func<int, Task<StreamRunResult>> run, int start, int max)
    {
        StreamRunResult? held = null;
        var failed = max + 1;
        var n = Math.Min(start, max);
        while (n <= max)
        {
            var result = await run(n);
            if (!result.Held)
            {
                failed = n;
                break;
            }

            held = result;
            if (n == max)
            {
                return held;
            }

            n = Math.Min(n * 2, max);
        }

        var low = held?.Streams ?? 0;
        var high = failed;
        while (high - low > Math.Max(1, low / 16))
        {
            var mid = (low + high) / 2;
            var result = await run(mid);
            if (result.Held)
            {
                held = result;
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        return held;
    }

    private static void Print(StreamRunResult r) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Streams,7} {r.PageClients,5} {r.FedSeconds,6:F0} {r.Captioned,8} {r.Dropped,7} {r.LatencyP50Ms,7:F0} {r.LatencyP99Ms,7:F0} {r.LatencyMaxMs,7:F0} {r.MeanBatch,6:F1} {r.MeanInferenceMs,8:F0} {r.CpuPercentPerStream,9:F2} {r.RssMbPerStream,10:F2} {r.RssEndMb,7:F0}  {r.Verdict}"));

    private static double Round(double value) => double.IsFinite(value) ? Math.Round(value, 2) : -1;

    private static string Metadata(string key) =>
        typeof(StreamsScenario).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"The benchmark was built without {key}.");
}
