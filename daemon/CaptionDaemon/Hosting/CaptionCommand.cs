using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CaptionDaemon.Contracts;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Plugins;
using CaptionDaemon.Scheduling;
using CaptionDaemon.Telemetry;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Hosting;

/// <summary>
/// <c>captiond caption FILE...</c>: captions files once and prints one JSON line per window
/// (<c>file, start, end, text, confidence, labels</c>; seconds from the file's start; <c>labels</c> as in the MQTT
/// payload, <c>[{"label","score"}]</c> highest first, <c>[]</c> when none or the model has no labels). Files are read through the same source
/// plugins as the daemon (<c>wav</c> for .wav, <c>ffmpeg</c> for anything else) as fast as they decode, and their
/// windows are batched together. A bad file gets a message on standard error and exit code 1; the others are captioned.
/// </summary>
internal static class CaptionCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("FILE") { Description = "Audio files: WAV, or anything ffmpeg reads.", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string?>("--model") { Description = "Model bundle folder (default: the shipped model)." };
        var hop = new Option<double>("--hop")
        {
            Description = "Seconds between window starts.",
            DefaultValueFactory = _ => 2,
            CustomParser = result => DaemonCommands.ParseSeconds(result, "--hop") ?? 0,
        };
        var window = new Option<double?>("--window")
        {
            Description = "Seconds of audio per window, at most the model's window (10 s for the shipped model); shorter windows are padded with silence.",
            CustomParser = result => DaemonCommands.ParseSeconds(result, "--window"),
        };
        var beam = new Option<int>("--beam") { Description = "Beam size (1 = greedy).", DefaultValueFactory = _ => 3 };
        var plugins = new Option<string[]>("--plugins") { Description = "An extra plugin folder (repeatable)." };
        var command = new Command("caption", "Caption audio files once and print one JSON line per window.");
        command.Arguments.Add(files);
        foreach (var option in new Option[] { model, hop, window, beam, plugins })
            command.Options.Add(option);
        command.SetAction((parse, ct) => RunAsync(
            parse.GetValue(files) ?? [],
            new CommandLineSettings { Model = parse.GetValue(model), HopSeconds = parse.GetValue(hop), PluginDirectories = parse.GetValue(plugins) ?? [] },
            parse.GetValue(window),
            parse.GetValue(beam),
            ct));
        return command;
    }

    private static async Task<int> RunAsync(string[] files, CommandLineSettings settings, double? windowSeconds, int beam, CancellationToken cancellationToken)
    {
        var configuration = new ConfigurationManager();
        DaemonConfiguration.Build(configuration, settings);
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Scheduler:Beam"] = beam.ToString(CultureInfo.InvariantCulture),
            ["Windowing:WindowSeconds"] = windowSeconds?.ToString(CultureInfo.InvariantCulture),
        });

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging
            .AddConfiguration(configuration.GetSection("Logging"))
            .SetMinimumLevel(LogLevel.Warning)
            .AddSimpleConsole(console => console.SingleLine = true)
            .AddFilter((category, level) => level >= LogLevel.Warning));
        // Log lines go to standard error: standard output carries only the JSON lines.
        services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        services.AddMetrics();
        services.AddSingleton<DaemonMetrics>();
        services.AddCaptionPipeline(configuration);
        using var provider = services.BuildServiceProvider();
        var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger("captiond.caption");

        FileCaptioning captioning;
        try
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            captioning = provider.GetRequiredService<FileCaptioning>();
        }
        catch (Exception ex) when (ex is OptionsValidationException or BundleException)
        {
            await Console.Error.WriteLineAsync($"captiond caption: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (InvalidOperationException ex)
        {
            // A configured value that does not convert (e.g. "fast" for a number): said in the configuration's words.
            await Console.Error.WriteLineAsync($"captiond caption: {ConfigurationValidation.Describe(ex)}").ConfigureAwait(false);
            return 2;
        }

        var catalog = PluginCatalog.Load(DaemonConfiguration.PluginDirectories(configuration), logger);
        var failures = 0;
        var sources = new List<IAudioSource>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < files.Length; i++)
        {
            var id = $"file{i}";
            try
            {
                sources.Add(CreateSource(catalog, id, files[i], logger));
                names[id] = files[i];
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // One bad file must not stop the others: say which and why, and go on.
                failures++;
                await Console.Error.WriteLineAsync($"captiond caption: {WithPath(files[i], ex.Message)}").ConfigureAwait(false);
            }
        }

        var output = Console.OpenStandardOutput();
        var lines = new List<WindowCaption>();
        IReadOnlyDictionary<string, Exception> failed;
        try
        {
            failed = await captioning.RunAsync(sources, lines.Add, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var source in sources)
                await source.DisposeAsync().ConfigureAwait(false);
        }

        // Printed per file, in the order given, each file's windows in time order.
        var byFile = lines.GroupBy(l => l.SourceId).ToDictionary(g => g.Key, g => g.OrderBy(l => l.Offset).ToList());
        using (var json = new Utf8JsonWriter(output))
        {
            foreach (var id in names.Keys)
            {
                if (!byFile.TryGetValue(id, out var captions))
                    continue;
                foreach (var caption in captions)
                {
                    json.WriteStartObject();
                    json.WriteString("file", names[id]);
                    json.WriteNumber("start", Math.Round(caption.Offset.TotalSeconds, 3));
                    json.WriteNumber("end", Math.Round((caption.Offset + (caption.End - caption.Start)).TotalSeconds, 3));
                    json.WriteString("text", caption.Result.Text);
                    json.WriteNumber("confidence", Math.Round(caption.Result.Confidence, 4));
                    json.WriteStartArray("labels");
                    foreach (var label in caption.Result.Labels)
                    {
                        json.WriteStartObject();
                        json.WriteString("label", label.Label);
                        json.WriteNumber("score", label.Score);
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                    json.Flush();
                    output.WriteByte((byte)'\n');
                    // Each line is a JSON document of its own, not the next element of one top-level sequence.
                    json.Reset();
                }
            }
        }
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);

        foreach (var (id, error) in failed)
        {
            failures++;
            await Console.Error.WriteLineAsync($"captiond caption: {WithPath(names[id], error.Message)}").ConfigureAwait(false);
        }
        return failures == 0 ? 0 : 1;
    }

    /// <summary>The message with the file's path once: most already start with the full path.</summary>
    private static string WithPath(string file, string message) =>
        message.Contains(Path.GetFullPath(file), StringComparison.Ordinal) ? message : $"{file}: {message}";

    private static IAudioSource CreateSource(PluginCatalog catalog, string id, string file, ILogger logger)
    {
        var path = Path.GetFullPath(file);
        if (!File.Exists(path))
            throw new FileNotFoundException($"no such file: {path}");
        var isWav = path.EndsWith(".wav", StringComparison.OrdinalIgnoreCase);
        var type = isWav ? "wav" : "ffmpeg";
        if (!catalog.TryGetSourceFactory(type, out var factory, out _))
            throw new InvalidOperationException($"no plugin provides the '{type}' source; is the plugins folder next to captiond?");
        var settings = new ConfigurationManager();
        settings.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"Sources:{id}:Type"] = type,
            [$"Sources:{id}:{(isWav ? "Path" : "Input")}"] = path,
            [$"Sources:{id}:Realtime"] = "false",
            [$"Sources:{id}:Loop"] = "false",
            [$"Sources:{id}:Restart"] = "never",
        });
        return factory.Create(new AudioSourceContext
        {
            Id = id,
            Settings = settings.GetSection($"Sources:{id}"),
            Logger = logger,
            Status = new IgnoredStatus(),
        });
    }

    /// <summary>One-shot captioning reports failures through the source's exception, not through states.</summary>
    private sealed class IgnoredStatus : ISourceStatusReporter
    {
        public void Report(SourceState state, string? detail = null)
        {
        }
    }
}
