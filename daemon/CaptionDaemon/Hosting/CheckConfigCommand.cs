using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Mqtt;
using CaptionDaemon.Plugins;
using CaptionDaemon.Scheduling;
using CaptionDaemon.Sinks;
using CaptionDaemon.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Hosting;

/// <summary>
/// <c>captiond check-config</c>: reads the configuration exactly as <c>run</c> does and checks everything that can be
/// checked without opening devices, sockets or broker connections (which would disturb a running daemon): the
/// option sections, the metrics address, the plugins, that every source and sink names a type a plugin provides, the
/// sinks' outbox settings and the model bundle. Prints what would run, or every problem with the key it concerns.
/// </summary>
internal static class CheckConfigCommand
{
    public static Task<int> RunAsync(CommandLineSettings commandLine, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var configuration = new ConfigurationManager();
        try
        {
            DaemonConfiguration.Build(configuration, commandLine);
        }
        catch (Exception ex) when (ex is FileNotFoundException or FormatException or InvalidDataException)
        {
            Console.Error.WriteLine($"captiond check-config: {ex.Message}");
            return Task.FromResult(1);
        }

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddMetrics();
        services.AddSingleton<DaemonMetrics>();
        services.AddCaptionPipeline(configuration);
        services.AddOptionsWithValidateOnStart<EmbeddedBrokerOptions>().Bind(configuration.GetSection(EmbeddedBrokerOptions.SectionName));
        services.AddSingleton<IValidateOptions<EmbeddedBrokerOptions>, EmbeddedBrokerOptionsValidator>();
        using (var provider = services.BuildServiceProvider())
        {
            try
            {
                provider.GetRequiredService<IStartupValidator>().Validate();
            }
            catch (OptionsValidationException ex)
            {
                problems.AddRange(ex.Failures);
            }
        }

        try
        {
            _ = TelemetryEndpoints.ParseListen(configuration["Metrics:Listen"] ?? string.Empty);
        }
        catch (FormatException ex)
        {
            problems.Add(ex.Message);
        }

        var catalog = PluginCatalog.Load(DaemonConfiguration.PluginDirectories(configuration), NullLogger.Instance);
        problems.AddRange(catalog.Reports.Where(r => !r.Loaded).Select(r => $"plugin {r.Name} ({r.Path}): {r.Error}"));

        var modelPath = configuration["Model:Path"] ?? DaemonConfiguration.DefaultModelPath;
        try
        {
            using var bundle = CaptionBundle.Load(modelPath, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });
            Console.WriteLine($"model:   {bundle.Manifest.Name} ({modelPath}), {bundle.Manifest.WindowSeconds} s windows at {bundle.Manifest.SampleRate} Hz");
        }
        catch (BundleException ex)
        {
            problems.Add($"Model:Path: {ex.Message}");
        }

        foreach (var source in DaemonConfiguration.EnabledSources(configuration))
        {
            var type = source["Type"]!;
            if (catalog.TryGetSourceFactory(type, out _, out var plugin))
                Console.WriteLine($"source:  {source.Key} ({type}, from {plugin})");
            else
                problems.Add($"{source.Path}:Type: no plugin provides source type '{type}' (known: {string.Join(", ", catalog.SourceTypes.Order(StringComparer.Ordinal))})");
        }
        foreach (var sink in DaemonConfiguration.EnabledSinks(configuration))
        {
            var type = sink["Type"] ?? string.Empty;
            if (catalog.TryGetSinkFactory(type, out _, out var plugin))
                Console.WriteLine($"sink:    {sink.Key} ({type}, from {plugin})");
            else
                problems.Add($"{sink.Path}:Type: no plugin provides sink type '{type}' (known: {string.Join(", ", catalog.SinkTypes.Order(StringComparer.Ordinal))})");
            try
            {
                _ = SinkPumpOptions.FromConfiguration(sink);
            }
            catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException or FormatException)
            {
                problems.Add(ex.Message);
            }
        }
        var broker = configuration.GetValue(EmbeddedBrokerOptions.SectionName + ":Enabled", true);
        Console.WriteLine(broker
            ? $"broker:  embedded, {configuration[EmbeddedBrokerOptions.SectionName + ":Host"]}:{configuration[EmbeddedBrokerOptions.SectionName + ":Port"]}"
            : "broker:  external");
        Console.WriteLine($"metrics: http://{configuration["Metrics:Listen"]}/metrics");

        foreach (var problem in problems)
            Console.Error.WriteLine($"error:   {problem}");
        Console.WriteLine(problems.Count == 0 ? "The configuration is valid." : $"{problems.Count} problem(s).");
        return Task.FromResult(problems.Count == 0 ? 0 : 1);
    }
}
