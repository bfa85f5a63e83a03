using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Mqtt;
using CaptionDaemon.Plugins;
using CaptionDaemon.Scheduling;
using CaptionDaemon.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;
using CaptionDaemon.Ui;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Hosting;

/// <summary>
/// <c>captiond check-config</c>: reads the configuration exactly as <c>run</c> does and checks everything that can be
/// checked without opening devices, sockets or broker connections (which would disturb a running daemon): the option
/// sections, the metrics address, the plugins, every source's and sink's own settings (through the same validation
/// that <c>run</c>'s factories read them with, see <see cref="ConfigurationValidation"/>) and the model bundle; it warns
/// about keys nothing reads. Prints what would run, or every problem with the key it concerns; exit 2 when there is one.
/// </summary>
internal static class CheckConfigCommand
{
    public static Task<int> RunAsync(CommandLineSettings commandLine, CancellationToken cancellationToken) =>
        Task.FromResult(Run(commandLine, Console.Out, Console.Error));

    /// <summary>Checks the configuration, writing what would run to <paramref name="output"/> and the problems to <paramref name="error"/>.</summary>
    /// <returns>0 when the configuration is valid (warnings allowed), 2 when it has problems.</returns>
    public static int Run(CommandLineSettings commandLine, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var problems = new List<string>();
        var configuration = new ConfigurationManager();
        try
        {
            DaemonConfiguration.Build(configuration, commandLine);
        }
        catch (Exception ex) when (ex is FileNotFoundException or FormatException or InvalidDataException)
        {
            error.WriteLine($"captiond check-config: {DaemonConfiguration.Describe(ex)}");
            return 2;
        }

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddMetrics();
        services.AddSingleton<DaemonMetrics>();
        services.AddCaptionPipeline(configuration);
        services.AddOptionsWithValidateOnStart<EmbeddedBrokerOptions>().Bind(configuration.GetSection(EmbeddedBrokerOptions.SectionName));
        services.AddSingleton<IValidateOptions<EmbeddedBrokerOptions>, EmbeddedBrokerOptionsValidator>();
        services.AddUiOptions(configuration);
        using (var provider = services.BuildServiceProvider())
            problems.AddRange(ConfigurationValidation.OptionProblems(provider));

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
        IReadOnlyList<BundleLabel>? modelLabels = null;
        try
        {
            using var bundle = CaptionBundle.Load(modelPath, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });
            modelLabels = bundle.Manifest.Labels;
            output.WriteLine($"model:   {bundle.Manifest.Name} ({modelPath}), {bundle.Manifest.WindowSeconds} s windows at {bundle.Manifest.SampleRate} Hz, {bundle.Manifest.Labels.Count} labels");
        }
        catch (BundleException ex)
        {
            problems.Add($"Model:Path: {ex.Message}");
        }

        foreach (var source in DaemonConfiguration.EnabledSources(configuration))
        {
            if (ConfigurationValidation.SourceProblem(source, catalog, modelLabels) is { } problem)
                problems.Add(problem);
            else
                output.WriteLine($"source:  {source.Key} ({source["Type"]})");
        }
        foreach (var sink in DaemonConfiguration.EnabledSinks(configuration))
        {
            if (ConfigurationValidation.SinkProblem(sink, catalog) is { } problem)
                problems.Add(problem);
            else
                output.WriteLine($"sink:    {sink.Key} ({sink["Type"]})");
        }
        var broker = DaemonConfiguration.BrokerEnabled(configuration);
        output.WriteLine(broker
            ? $"broker:  embedded, {configuration[EmbeddedBrokerOptions.SectionName + ":Host"]}:{configuration[EmbeddedBrokerOptions.SectionName + ":Port"]}"
            : "broker:  external");
        output.WriteLine($"metrics: http://{configuration["Metrics:Listen"]}/metrics");
        output.WriteLine($"page:    http://{configuration["Metrics:Listen"]}/");

        var warnings = ConfigurationValidation.UnknownKeys(configuration, catalog);
        foreach (var warning in warnings)
            error.WriteLine($"warning: {warning}");
        foreach (var problem in problems)
            error.WriteLine($"error:   {problem}");
        output.WriteLine(problems.Count == 0
            ? warnings.Count == 0 ? "The configuration is valid." : $"The configuration is valid, with {warnings.Count} warning(s)."
            : $"{problems.Count} problem(s).");
        return problems.Count == 0 ? 0 : 2;
    }
}
