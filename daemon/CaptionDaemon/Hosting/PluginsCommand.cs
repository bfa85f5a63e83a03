using System.CommandLine;
using System.Text.Json;
using CaptionDaemon.Plugins;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionDaemon.Hosting;

/// <summary>
/// <c>captiond plugins</c>: which plugins load, from where, what they provide and what failed; and, when a daemon is
/// running, which of its sources and sinks a plugin failure has disabled (read from its <c>/healthz</c>).
/// </summary>
internal static class PluginsCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "An extra JSON configuration file, read after /etc/captiond/*.json." };
        var plugins = new Option<string[]>("--plugins") { Description = "An extra plugin folder (repeatable)." };
        var daemon = new Option<string?>("--daemon") { Description = "A running daemon's metrics address HOST:PORT to ask for run-time failures (default: Metrics:Listen)." };
        var command = new Command("plugins", "List the plugins: loaded or failed, from where, the source and sink types they provide, and run-time failures of a running daemon.");
        command.Options.Add(config);
        command.Options.Add(plugins);
        command.Options.Add(daemon);
        command.SetAction(async (parse, ct) =>
        {
            var configuration = new ConfigurationManager();
            DaemonConfiguration.Build(configuration, new CommandLineSettings
            {
                ConfigFile = parse.GetValue(config),
                PluginDirectories = parse.GetValue(plugins) ?? [],
            });
            var catalog = PluginCatalog.Load(DaemonConfiguration.PluginDirectories(configuration), NullLogger.Instance);
            foreach (var report in catalog.Reports)
            {
                Console.WriteLine($"{report.Name}: {(report.Loaded ? "loaded" : "FAILED")}");
                Console.WriteLine($"  from:    {report.Path}");
                if (report.Loaded)
                {
                    Console.WriteLine($"  sources: {Join(report.SourceTypes)}");
                    Console.WriteLine($"  sinks:   {Join(report.SinkTypes)}");
                }
                else
                {
                    Console.WriteLine($"  error:   {report.Error}");
                }
            }
            if (catalog.Reports.Count == 0)
                Console.WriteLine($"No plugins found in {string.Join(", ", DaemonConfiguration.PluginDirectories(configuration))}");

            var address = parse.GetValue(daemon) ?? configuration["Metrics:Listen"];
            await PrintRunTimeFailuresAsync(address, ct).ConfigureAwait(false);
            return catalog.Reports.All(r => r.Loaded) ? 0 : 1;
        });
        return command;
    }

    private static string Join(IReadOnlyList<string> types) => types.Count == 0 ? "-" : string.Join(", ", types);

    private static async Task PrintRunTimeFailuresAsync(string? address, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(address))
            return;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        JsonElement health;
        try
        {
            health = await http.GetFromJsonAsync<JsonElement>($"http://{address}/healthz", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            // No daemon running there is the normal case for this command: say so and stop.
            Console.WriteLine($"No running daemon answered at http://{address}/healthz; run-time failures not shown.");
            return;
        }
        Console.WriteLine($"Running daemon at {address}:");
        var failures = 0;
        foreach (var source in health.GetProperty("sources").EnumerateArray())
        {
            var state = source.GetProperty("state").GetString();
            if (state is not ("error" or "reconnecting"))
                continue;
            failures++;
            var what = state == "error" ? "disabled" : "failing, restarted with backoff";
            Console.WriteLine($"  source {source.GetProperty("id").GetString()} ({source.GetProperty("plugin").GetString()}): {what}: {source.GetProperty("detail").GetString()}");
        }
        foreach (var sink in health.GetProperty("sinks").EnumerateArray())
        {
            if (sink.GetProperty("state").GetString() != "failed")
                continue;
            failures++;
            Console.WriteLine($"  sink {sink.GetProperty("name").GetString()} ({sink.GetProperty("type").GetString()}): failed: {sink.GetProperty("error").GetString()}");
        }
        if (failures == 0)
            Console.WriteLine("  no source or sink is failing");
    }
}
