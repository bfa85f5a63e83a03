using System.Globalization;
using CaptionDaemon.Mqtt;
using CaptionDaemon.Sources;

namespace CaptionDaemon.Hosting;

/// <summary>What the command line says about configuration; each option maps to a configuration key.</summary>
internal sealed record CommandLineSettings
{
    public IReadOnlyList<string> Sources { get; init; } = [];

    public string? Model { get; init; }

    public string? Mqtt { get; init; }

    public string? Metrics { get; init; }

    public string? ConfigFile { get; init; }

    public IReadOnlyList<string> PluginDirectories { get; init; } = [];

    public double? HopSeconds { get; init; }

    /// <summary>The system configuration folder instead of <see cref="DaemonConfiguration.SystemDirectory"/> (tests).</summary>
    public string? ConfigDirectory { get; init; }

    /// <summary>
    /// Generate the embedded broker's credentials into the state directory when none are configured (<c>run</c>); other
    /// commands only read them if they exist.
    /// </summary>
    public bool CreateBrokerCredentials { get; init; }
}

/// <summary>
/// Builds the daemon's configuration. Later sources win: <c>appsettings.json</c> next to the binary,
/// <c>/etc/captiond/*.json</c> (in name order), <c>--config FILE</c>, environment variables <c>CAPTIOND__Section__Key</c>,
/// then the command-line options. Then the embedded defaults fill what nothing configured: a demo source playing a
/// bundled scene when there are no sources, and an MQTT sink on the embedded broker when there are no sinks.
/// </summary>
internal static class DaemonConfiguration
{
    /// <summary>Where system-wide configuration lives; <c>CAPTIOND_CONFIG_DIR</c> moves it (tests, containers).</summary>
    public static string SystemDirectory => Environment.GetEnvironmentVariable("CAPTIOND_CONFIG_DIR") ?? "/etc/captiond";

    /// <summary>The folder that holds captiond, its plugins/ and models/.</summary>
    public static string BaseDirectory => AppContext.BaseDirectory;

    public static string DefaultModelPath => Path.Combine(BaseDirectory, "models", "default");

    public static string DefaultPluginDirectory => Path.Combine(BaseDirectory, "plugins");

    /// <summary>Adds every configuration source to <paramref name="configuration"/>, in precedence order.</summary>
    /// <exception cref="FileNotFoundException"><c>--config</c> names a file that does not exist.</exception>
    /// <exception cref="FormatException">A <c>--source</c> is not understood.</exception>
    public static void Build(IConfigurationManager configuration, CommandLineSettings commandLine)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(commandLine);
        configuration.Sources.Clear();
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Model:Path"] = DefaultModelPath,
            ["Plugins:Directories:0"] = DefaultPluginDirectory,
            ["Metrics:Listen"] = "127.0.0.1:9464",
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting"] = "Warning",
        });
        configuration.AddJsonFile(Path.Combine(BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false);
        var systemDirectory = commandLine.ConfigDirectory ?? SystemDirectory;
        if (Directory.Exists(systemDirectory))
        {
            foreach (var file in Directory.EnumerateFiles(systemDirectory, "*.json").Order(StringComparer.Ordinal))
                configuration.AddJsonFile(file, optional: false, reloadOnChange: false);
        }
        if (commandLine.ConfigFile is { } configFile)
        {
            var full = Path.GetFullPath(configFile);
            if (!File.Exists(full))
                throw new FileNotFoundException($"--config: no such file: {full}", full);
            configuration.AddJsonFile(full, optional: false, reloadOnChange: false);
        }
        configuration.AddEnvironmentVariables("CAPTIOND__");
        configuration.AddInMemoryCollection(FromCommandLine(configuration, commandLine));
        configuration.AddInMemoryCollection(Defaults(configuration, commandLine.CreateBrokerCredentials));
    }

    private static Dictionary<string, string?> FromCommandLine(IConfiguration configured, CommandLineSettings commandLine)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (commandLine.Model is { } model)
            values["Model:Path"] = Path.GetFullPath(model);
        if (commandLine.HopSeconds is { } hop)
            values["Windowing:HopSeconds"] = hop.ToString(CultureInfo.InvariantCulture);
        if (commandLine.Metrics is { } metrics)
            values["Metrics:Listen"] = metrics;
        if (commandLine.Mqtt is { } mqtt)
        {
            values["Sinks:mqtt:Type"] = "mqtt";
            values["Sinks:mqtt:Url"] = mqtt;
            values["Broker:Enabled"] = "false";
        }
        // --plugins adds a folder: the first-party plugins in the default folder keep loading.
        var directories = configured.GetSection("Plugins:Directories").GetChildren().Count();
        foreach (var directory in commandLine.PluginDirectories)
            values[$"Plugins:Directories:{directories++}"] = Path.GetFullPath(directory);
        foreach (var spec in commandLine.Sources)
        {
            var (id, settings) = SourceSpec.Parse(spec);
            if (values.Keys.Any(k => k.StartsWith($"Sources:{id}:", StringComparison.OrdinalIgnoreCase)))
                throw new FormatException($"--source '{spec}': two sources are called '{id}'; name them, e.g. --source {id}2={spec}");
            foreach (var (key, value) in settings)
                values[$"Sources:{id}:{key}"] = value;
        }
        return values;
    }

    /// <summary>The embedded defaults, for what no configuration source set.</summary>
    private static Dictionary<string, string?> Defaults(IConfiguration configured, bool createBrokerCredentials)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var brokerEnabled = BrokerEnabled(configured);
        var brokerUser = configured["Broker:Username"];
        var brokerPassword = configured["Broker:Password"];
        // Credentials by default: generated once into the state directory, unless configured or anonymous is allowed.
        if (brokerEnabled && string.IsNullOrEmpty(brokerUser) && string.IsNullOrEmpty(brokerPassword)
            && !(bool.TryParse(configured["Broker:AllowAnonymous"], out var anonymous) && anonymous))
        {
            var stateDirectory = StateDirectory(configured);
            if (createBrokerCredentials || File.Exists(BrokerCredentials.FilePath(stateDirectory)))
            {
                var generated = BrokerCredentials.LoadOrCreate(stateDirectory);
                values["Broker:Username"] = brokerUser = generated.Username;
                values["Broker:Password"] = brokerPassword = generated.Password;
            }
        }
        if (brokerEnabled && configured["Broker:Host"] is null)
            values["Broker:Host"] = "127.0.0.1";
        if (brokerEnabled && configured["Broker:Port"] is null)
            values["Broker:Port"] = "1883";

        // Sources given on the command line are already in the configuration by now.
        if (!configured.GetSection("Sources").GetChildren().Any())
        {
            var modelPath = configured["Model:Path"] ?? DefaultModelPath;
            var samples = Path.Combine(modelPath, "samples");
            var scene = Directory.Exists(samples)
                ? Directory.EnumerateFiles(samples, "*.wav").Order(StringComparer.Ordinal).FirstOrDefault()
                : null;
            if (scene is not null)
            {
                values["Sources:demo:Type"] = "wav";
                values["Sources:demo:Path"] = scene;
                values["Sources:demo:Loop"] = "true";
                values["Sources:demo:Realtime"] = "true";
            }
        }

        var hasSinks = configured.GetSection("Sinks").GetChildren().Any();
        if (!hasSinks && brokerEnabled)
        {
            var host = configured["Broker:Host"] ?? "127.0.0.1";
            var connectHost = host is "0.0.0.0" or "::" or "[::]" ? "127.0.0.1" : host;
            values["Sinks:mqtt:Type"] = "mqtt";
            values["Sinks:mqtt:Url"] = $"mqtt://{connectHost}:{configured["Broker:Port"] ?? "1883"}";
            if (brokerUser is not null)
                values["Sinks:mqtt:Username"] = brokerUser;
            if (brokerPassword is not null)
                values["Sinks:mqtt:Password"] = brokerPassword;
        }
        return values;
    }

    /// <summary>
    /// True when an enabled sink has <c>Path</c> <c>-</c> (standard output, as the <c>jsonl</c> sink reads it): the
    /// daemon's log then goes to standard error, so that standard output holds nothing but that sink's lines.
    /// </summary>
    public static bool SinkWritesToStandardOutput(IConfiguration configuration) =>
        EnabledSinks(configuration).Any(s => s["Path"]?.Trim() == "-");

    /// <summary>
    /// <c>Broker:Enabled</c>, true unless it says false. A value that is not a boolean counts as true here; the options
    /// validation reports it with its key.
    /// </summary>
    public static bool BrokerEnabled(IConfiguration configuration) =>
        !bool.TryParse(configuration["Broker:Enabled"], out var enabled) || enabled;

    /// <summary>
    /// A configuration failure in one line: a JSON file that does not parse says where (the parser's message is the
    /// inner exception's).
    /// </summary>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var innermost = exception;
        while (innermost.InnerException is { } inner)
            innermost = inner;
        return ReferenceEquals(innermost, exception) ? exception.Message : $"{exception.Message} {innermost.Message}";
    }

    /// <summary>The configured sources that are not switched off, in configuration order.</summary>
    public static IEnumerable<IConfigurationSection> EnabledSources(IConfiguration configuration) =>
        configuration.GetSection("Sources").GetChildren().Where(s => !IsDisabled(s));

    /// <summary>The configured sinks that are not switched off.</summary>
    public static IEnumerable<IConfigurationSection> EnabledSinks(IConfiguration configuration) =>
        configuration.GetSection("Sinks").GetChildren().Where(s => !IsDisabled(s));

    /// <summary>
    /// <c>Disabled</c> is true. A value that is not true or false counts as enabled, so that the entry's validation
    /// reports it instead of the entry disappearing.
    /// </summary>
    private static bool IsDisabled(IConfigurationSection entry) => bool.TryParse(entry["Disabled"], out var disabled) && disabled;

    /// <summary>
    /// Where the daemon keeps state (durable outboxes, sink state): <c>StateDirectory</c> if configured, else systemd's
    /// <c>$STATE_DIRECTORY</c>, else <c>$XDG_STATE_HOME/captiond</c> or <c>~/.local/state/captiond</c>.
    /// </summary>
    public static string StateDirectory(IConfiguration configuration)
    {
        if (configuration["StateDirectory"] is { Length: > 0 } configured)
            return Path.GetFullPath(configured);
        if (Environment.GetEnvironmentVariable("STATE_DIRECTORY") is { Length: > 0 } systemd)
            return systemd.Split(':')[0];
        var xdg = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state")
            : xdg;
        return Path.Combine(root, "captiond");
    }

    /// <summary>True when an enabled sink keeps its outbox on disk (<c>Outbox:Persist</c>).</summary>
    public static bool AnyOutboxPersists(IConfiguration configuration) =>
        EnabledSinks(configuration).Any(s => bool.TryParse(s["Outbox:Persist"], out var persist) && persist);

    /// <summary>The plugin folders, in order.</summary>
    public static IReadOnlyList<string> PluginDirectories(IConfiguration configuration) =>
        [.. configuration.GetSection("Plugins:Directories").GetChildren().Select(c => c.Value).OfType<string>()];
}
