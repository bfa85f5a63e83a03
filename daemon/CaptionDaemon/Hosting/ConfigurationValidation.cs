using System.Text.RegularExpressions;
using CaptionDaemon.Contracts;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Mqtt;
using CaptionDaemon.Plugins;
using CaptionDaemon.Scheduling;
using CaptionDaemon.Sinks;
using CaptionDaemon.Sources;
using CaptionDaemon.Ui;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Hosting;

/// <summary>
/// The checks that <c>run</c> and <c>check-config</c> share: the option sections (binding and ranges), each source's
/// and sink's own settings (through its plugin's <see cref="ISettingsValidator"/>, the code its factory reads them
/// with), and keys that nothing reads, reported with the nearest known key.
/// </summary>
internal static partial class ConfigurationValidation
{
    /// <summary>The host's own keys in every <c>Sources:&lt;id&gt;</c> section.</summary>
    public static IReadOnlyList<string> HostSourceKeys { get; } = ["Type", "Disabled", .. SourceTuning.Keys];

    /// <summary>The host's own keys in every <c>Sinks:&lt;name&gt;</c> section.</summary>
    public static IReadOnlyList<string> HostSinkKeys { get; } = ["Type", "Disabled", "MaxBatch", "FlushTimeoutSeconds", "FailedRetrySeconds", "Outbox:Capacity", "Outbox:Persist"];

    /// <summary>Top-level sections and keys; <c>Sources</c> and <c>Sinks</c> are checked per entry.</summary>
    private static readonly (string Section, Type? Options)[] _sections =
    [
        (ModelOptions.SectionName, typeof(ModelOptions)),
        (WindowingOptions.SectionName, typeof(WindowingOptions)),
        (SchedulerOptions.SectionName, typeof(SchedulerOptions)),
        (CaptionPolicyOptions.SectionName, typeof(CaptionPolicyOptions)),
        (EmbeddedBrokerOptions.SectionName, typeof(EmbeddedBrokerOptions)),
        (UiOptions.SectionName, typeof(UiOptions)),
    ];

    private static readonly string[] _otherKeys = ["Metrics:Listen", "Plugins:Directories:*", "StateDirectory", "Logging:*", "Sources:*", "Sinks:*"];

    /// <summary>
    /// Resolves every option section of <paramref name="services"/> one by one, so that one bad value does not hide the
    /// next: a value that does not convert ("fast" for a number, "Gpu" for an enum) and a value out of range.
    /// </summary>
    public static List<string> OptionProblems(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var problems = new List<string>();
        Check<ModelOptions>();
        Check<WindowingOptions>();
        Check<SchedulerOptions>();
        Check<CaptionPolicyOptions>();
        if (services.GetService<IOptions<EmbeddedBrokerOptions>>() is not null)
            Check<EmbeddedBrokerOptions>();
        if (services.GetService<IOptions<UiOptions>>() is not null)
            Check<UiOptions>();
        return problems;

        void Check<T>()
            where T : class
        {
            try
            {
                _ = services.GetRequiredService<IOptions<T>>().Value;
            }
            catch (OptionsValidationException ex)
            {
                problems.AddRange(ex.Failures);
            }
            catch (InvalidOperationException ex)
            {
                problems.Add(Describe(ex));
            }
        }
    }

    /// <summary>
    /// The configuration binder's conversion failure in the words of the configuration: the key, the value and what it
    /// should be (its message names a CLR type such as <c>System.Nullable`1[System.Double]</c>).
    /// </summary>
    public static string Describe(InvalidOperationException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var match = BinderFailure().Match(exception.Message);
        if (!match.Success)
            return exception.Message;
        var type = match.Groups["type"].Value;
        var clr = Type.GetType(type) ?? AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(type)).FirstOrDefault(t => t is not null);
        var underlying = clr is null ? null : Nullable.GetUnderlyingType(clr) ?? clr;
        var expected = underlying switch
        {
            null => "a value of another kind",
            { IsEnum: true } e => $"one of {string.Join(", ", Enum.GetNames(e))}",
            _ when underlying == typeof(bool) => "true or false",
            _ when underlying == typeof(int) || underlying == typeof(long) => "a whole number",
            _ when underlying == typeof(double) || underlying == typeof(float) => "a number",
            _ => "a value of another kind",
        };
        return $"{match.Groups["key"].Value}: must be {expected}, was '{match.Groups["value"].Value}'";
    }

    /// <summary>
    /// What is wrong with one source's settings, or null: its type must be known, its own caption settings right (with
    /// <paramref name="modelLabels"/>, the labels it names must be the model's) and its plugin's validation must pass.
    /// </summary>
    public static string? SourceProblem(IConfigurationSection source, PluginCatalog catalog, IReadOnlyList<BundleLabel>? modelLabels = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(catalog);
        if (HostProblem(source) is { } hostProblem)
            return hostProblem;
        var type = source["Type"] ?? string.Empty;
        if (!catalog.TryGetSourceFactory(type, out var factory, out _))
            return $"{source.Path}:Type: no plugin provides source type '{type}' (known: {string.Join(", ", catalog.SourceTypes.Order(StringComparer.Ordinal))})";
        return SourceTuning.Problem(source, modelLabels) ?? Validate(factory as ISettingsValidator, source);
    }

    /// <summary>What is wrong with one sink's settings, or null: the name, the type, the host's keys and the plugin's validation.</summary>
    public static string? SinkProblem(IConfigurationSection sink, PluginCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(catalog);
        if (string.Equals(sink.Key, CaptionLogSink.SinkName, StringComparison.Ordinal))
            return $"{sink.Path}: the name '{sink.Key}' is the built-in console caption log's; give this sink another name (e.g. Sinks:file)";
        if (HostProblem(sink) is { } hostProblem)
            return hostProblem;
        var type = sink["Type"] ?? string.Empty;
        if (!catalog.TryGetSinkFactory(type, out var factory, out _))
            return $"{sink.Path}:Type: no plugin provides sink type '{type}' (known: {string.Join(", ", catalog.SinkTypes.Order(StringComparer.Ordinal))})";
        try
        {
            _ = SinkPumpOptions.FromConfiguration(sink);
        }
        catch (OptionsValidationException ex)
        {
            return string.Join("; ", ex.Failures);
        }
        return Validate(factory as ISettingsValidator, sink);
    }

    /// <summary>
    /// Keys that nothing reads, each with the nearest known key when one is close: <c>Windowing:HopSecond: unknown key
    /// (did you mean Windowing:HopSeconds?)</c>. Sources and sinks whose plugin does not list its keys are not checked.
    /// </summary>
    public static List<string> UnknownKeys(IConfiguration configuration, PluginCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(catalog);
        var warnings = new List<string>();
        var topKeys = _sections.SelectMany(s => OptionKeys(s.Section, s.Options!)).Concat(_otherKeys).ToList();
        foreach (var leaf in Leaves(configuration, prefix: string.Empty))
        {
            if (!IsKnown(leaf, topKeys))
                warnings.Add(Unknown(string.Empty, leaf, topKeys));
        }

        foreach (var source in configuration.GetSection("Sources").GetChildren())
        {
            var known = catalog.TryGetSourceFactory(source["Type"] ?? string.Empty, out var factory, out _);
            CheckEntry(source, known ? factory as ISettingsValidator : null, HostSourceKeys, warnings);
        }
        foreach (var sink in configuration.GetSection("Sinks").GetChildren())
        {
            var known = catalog.TryGetSinkFactory(sink["Type"] ?? string.Empty, out var factory, out _);
            CheckEntry(sink, known ? factory as ISettingsValidator : null, HostSinkKeys, warnings);
        }
        return warnings;
    }

    /// <summary>The host's keys of a source or sink entry: <c>Type</c> present, <c>Disabled</c> a boolean.</summary>
    private static string? HostProblem(IConfigurationSection entry)
    {
        if (entry.Value is not null)
            return $"{entry.Path}: must be a section with a Type, was the single value '{entry.Value}'";
        if (entry["Disabled"] is { } disabled && !bool.TryParse(disabled, out _))
            return $"{entry.Path}:Disabled: must be true or false, was '{disabled}'";
        if (string.IsNullOrWhiteSpace(entry["Type"]))
            return $"{entry.Path}:Type: required (the {(entry.Path.StartsWith("Sources", StringComparison.Ordinal) ? "source" : "sink")} type, e.g. {(entry.Path.StartsWith("Sources", StringComparison.Ordinal) ? "ffmpeg" : "mqtt")})";
        return null;
    }

    /// <summary>
    /// The keys of one source or sink that neither the host nor its plugin reads. An unknown type is an error of its
    /// own, and a plugin that does not list its keys is not second-guessed: both are left unchecked.
    /// </summary>
    private static void CheckEntry(IConfigurationSection entry, ISettingsValidator? validator, IReadOnlyList<string> hostKeys, List<string> warnings)
    {
        if (validator is null)
            return;
        List<string> keys = [.. hostKeys, .. validator.SettingKeys];
        foreach (var leaf in Leaves(entry, prefix: string.Empty))
        {
            if (!IsKnown(leaf, keys))
                warnings.Add(Unknown(entry.Path + ":", leaf, keys));
        }
    }

    private static string Unknown(string prefix, string leaf, IEnumerable<string> known)
    {
        var best = known
            .Select(k => k.EndsWith(":*", StringComparison.Ordinal) ? k[..^2] : k)
            .Select(k => (Key: k, Distance: Distance(Comparable(leaf, k), k)))
            .OrderBy(c => c.Distance)
            .FirstOrDefault();
        var suggestion = best.Key is not null && best.Distance <= Math.Max(2, best.Key.Length / 3)
            ? $" (did you mean {prefix}{best.Key}?)"
            : string.Empty;
        return $"{prefix}{leaf}: unknown key, ignored{suggestion}";
    }

    /// <summary>The part of <paramref name="leaf"/> with as many levels as <paramref name="key"/>, so that a misspelt section is compared with the section.</summary>
    private static string Comparable(string leaf, string key)
    {
        var levels = key.Count(c => c == ':') + 1;
        var parts = leaf.Split(':');
        return string.Join(':', parts.Take(levels));
    }

    private static bool IsKnown(string leaf, IEnumerable<string> known)
    {
        foreach (var key in known)
        {
            if (key.EndsWith(":*", StringComparison.Ordinal))
            {
                var stem = key[..^2];
                if (leaf.StartsWith(stem + ":", StringComparison.OrdinalIgnoreCase) || string.Equals(leaf, stem, StringComparison.OrdinalIgnoreCase))
                    return true;
            }
            else if (string.Equals(leaf, key, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Every key with a value under <paramref name="section"/>, relative to it.</summary>
    private static IEnumerable<string> Leaves(IConfiguration section, string prefix)
    {
        foreach (var child in section.GetChildren())
        {
            var path = prefix.Length == 0 ? child.Key : $"{prefix}:{child.Key}";
            var children = child.GetChildren().Any();
            if (!children)
            {
                yield return path;
                continue;
            }
            // Sources and Sinks are checked entry by entry, against their plugin's keys.
            if (prefix.Length == 0 && section is not IConfigurationSection && child.Key is "Sources" or "Sinks")
                continue;
            foreach (var leaf in Leaves(child, path))
                yield return leaf;
        }
    }

    private static IEnumerable<string> OptionKeys(string section, Type options) =>
        options.GetProperties().Where(p => p.CanWrite && p.SetMethod!.IsPublic).Select(p => $"{section}:{p.Name}");

    private static string? Validate(ISettingsValidator? validator, IConfigurationSection settings)
    {
        if (validator is null)
            return null;
        try
        {
            validator.Validate(settings);
            return null;
        }
        catch (PluginConfigurationException ex)
        {
            return ex.Message;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A plugin's validation may throw anything; it is this entry's problem, never the command's crash.
            return $"{settings.Path}: {ex.Message}";
        }
    }

    /// <summary>Levenshtein distance, case-insensitive.</summary>
    internal static int Distance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    [GeneratedRegex("^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']*)' to type '(?<type>[^']*)'", RegexOptions.Singleline)]
    private static partial Regex BinderFailure();
}
