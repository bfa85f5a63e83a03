using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Sinks;

/// <summary>
/// The host's settings for one sink, read from the sink's own configuration section next to the sink's settings:
/// <c>Outbox:Capacity</c>, <c>Outbox:Persist</c>, <c>MaxBatch</c>, <c>FlushTimeoutSeconds</c>, <c>FailedRetrySeconds</c>.
/// </summary>
internal sealed class SinkPumpOptions
{
    /// <summary>The outbox in front of the sink.</summary>
    [ValidateObjectMembers]
    public SinkOutboxOptions Outbox { get; set; } = new();

    /// <summary>At most this many captions per <c>PublishAsync</c> call.</summary>
    [Range(1, 10_000)]
    public int MaxBatch { get; set; } = 64;

    /// <summary>On shutdown, how long the pump keeps delivering what is queued before it gives up.</summary>
    [Range(0d, 3600d)]
    public double FlushTimeoutSeconds { get; set; } = 5;

    /// <summary>
    /// <c>FailedRetrySeconds</c>: a sink that threw something other than <c>SinkUnavailableException</c> (a 4xx from a
    /// webhook, a broker that refuses a topic) is tried again after this long, with its outbox kept meanwhile, for
    /// the day its endpoint is fixed. Default 300 s.
    /// </summary>
    [Range(1d, 86400d)]
    public double FailedRetrySeconds { get; set; } = 300;

    /// <summary><see cref="FailedRetrySeconds"/> as a time span.</summary>
    public TimeSpan FailedRetryDelay => TimeSpan.FromSeconds(FailedRetrySeconds);

    /// <summary>First retry delay after <c>SinkUnavailableException</c>; doubles up to <see cref="RetryMaxDelay"/>. Not bound from configuration.</summary>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest retry delay. Not bound from configuration.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Reads and validates the host settings of one sink from its configuration section (e.g. <c>Sinks:mqtt</c>);
    /// keys that are absent keep their defaults, other keys of the section (the sink's own) are ignored.
    /// </summary>
    /// <exception cref="OptionsValidationException">A value is malformed or out of range; each message names the full key.</exception>
    public static SinkPumpOptions FromConfiguration(IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var options = new SinkPumpOptions();
        var failures = new List<string>();
        options.MaxBatch = ReadInt(section, "MaxBatch", options.MaxBatch, failures);
        options.FlushTimeoutSeconds = ReadDouble(section, "FlushTimeoutSeconds", options.FlushTimeoutSeconds, failures);
        options.FailedRetrySeconds = ReadDouble(section, "FailedRetrySeconds", options.FailedRetrySeconds, failures);
        options.Outbox.Capacity = ReadInt(section, "Outbox:Capacity", options.Outbox.Capacity, failures);
        options.Outbox.Persist = ReadBool(section, "Outbox:Persist", options.Outbox.Persist, failures);
        if (failures.Count == 0)
        {
            Validate(options, section.Path, string.Empty, failures);
            Validate(options.Outbox, section.Path, "Outbox:", failures);
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException(section.Path, typeof(SinkPumpOptions), failures);
        }

        return options;
    }

    private static void Validate(object instance, string sectionPath, string prefix, List<string> failures)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(instance, new ValidationContext(instance), results, validateAllProperties: true))
        {
            return;
        }

        foreach (var result in results)
        {
            foreach (var member in result.MemberNames)
            {
                failures.Add($"{sectionPath}:{prefix}{member}: {result.ErrorMessage}");
            }
        }
    }

    private static int ReadInt(IConfigurationSection section, string key, int fallback, List<string> failures)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        failures.Add($"{section.Path}:{key}: must be a whole number, was '{text}'");
        return fallback;
    }

    private static double ReadDouble(IConfigurationSection section, string key, double fallback, List<string> failures)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
        {
            return value;
        }

        failures.Add($"{section.Path}:{key}: must be a number, was '{text}'");
        return fallback;
    }

    private static bool ReadBool(IConfigurationSection section, string key, bool fallback, List<string> failures)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (bool.TryParse(text, out var value))
        {
            return value;
        }

        failures.Add($"{section.Path}:{key}: must be true or false, was '{text}'");
        return fallback;
    }
}

/// <summary>The bounded outbox in front of a sink.</summary>
internal sealed class SinkOutboxOptions
{
    /// <summary>Captions held while the sink cannot deliver; when full the oldest is dropped and counted.</summary>
    [Range(1, 1_000_000)]
    public int Capacity { get; set; } = 10_000;

    /// <summary>Keep undelivered captions in a journal on disk so that they survive a restart.</summary>
    public bool Persist { get; set; }
}
