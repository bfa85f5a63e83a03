using System.Globalization;
using CaptionDaemon.Contracts;
using CaptionDaemon.Inference.Bundles;

namespace CaptionDaemon.Sources;

/// <summary>
/// A source's own caption settings, beside its type's keys in <c>Sources:&lt;id&gt;</c>: <c>Labels</c> (listen only to
/// these: captions are published only when one of them is heard, and carry only these), <c>MinConfidence</c> (instead of
/// <c>Captions:MinConfidence</c>), <c>LabelThresholds:&lt;label&gt;</c> (instead of the model's threshold of that label)
/// and <c>SilenceThresholdDbfs</c> (instead of <c>Windowing:SilenceThresholdDbfs</c>).
/// </summary>
internal sealed record SourceTuning
{
    /// <summary>The keys, as <see cref="Hosting.ConfigurationValidation"/> matches them.</summary>
    public static IReadOnlyList<string> Keys { get; } = ["Labels:*", "MinConfidence", "LabelThresholds:*", "SilenceThresholdDbfs"];

    /// <summary>No per-source settings: the global ones apply.</summary>
    public static SourceTuning None { get; } = new();

    /// <summary>The labels to listen to, or null for all of the model's.</summary>
    public IReadOnlySet<string>? Labels { get; init; }

    /// <summary>The minimum confidence of this source's captions, or null for <c>Captions:MinConfidence</c>.</summary>
    public double? MinConfidence { get; init; }

    /// <summary>Per label, the probability it must reach, replacing the model's threshold.</summary>
    public IReadOnlyDictionary<string, double> LabelThresholds { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>This source's silence gate, or null for <c>Windowing:SilenceThresholdDbfs</c>.</summary>
    public double? SilenceThresholdDbfs { get; init; }

    /// <summary>True when the labels of a caption are chosen differently from the model's own choice.</summary>
    public bool ChoosesLabels => Labels is not null || LabelThresholds.Count > 0;

    /// <summary>Reads and checks the settings; <paramref name="modelLabels"/>, when given, must hold every label named.</summary>
    /// <exception cref="PluginConfigurationException">A value is wrong; the message names the key.</exception>
    public static SourceTuning Read(IConfigurationSection source, IReadOnlyList<BundleLabel>? modelLabels = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var known = modelLabels?.Select(l => l.Name).Where(n => n != BundleLabel.Nothing).ToHashSet(StringComparer.Ordinal);

        HashSet<string>? labels = null;
        var labelsSection = source.GetSection("Labels");
        if (labelsSection.Value is { } list)
        {
            labels = [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }
        else if (labelsSection.GetChildren().Any())
        {
            labels = [];
            foreach (var item in labelsSection.GetChildren())
            {
                if (string.IsNullOrWhiteSpace(item.Value))
                    throw new PluginConfigurationException($"{item.Path}: must be a label name, e.g. dog");
                labels.Add(item.Value.Trim());
            }
        }
        if (labels is not null)
        {
            if (labels.Count == 0)
                throw new PluginConfigurationException($"{labelsSection.Path}: must list at least one label (e.g. [\"dog\", \"glass\"]), or be left out to listen to all");
            foreach (var label in labels)
                CheckLabel(labelsSection.Path, label, known);
        }

        var thresholds = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var item in source.GetSection("LabelThresholds").GetChildren())
        {
            CheckLabel(item.Path, item.Key, known);
            thresholds[item.Key] = Number(item, item.Value, 0, 1, "a probability between 0 and 1");
        }

        return new SourceTuning
        {
            Labels = labels,
            MinConfidence = source["MinConfidence"] is { } min ? Number(source.GetSection("MinConfidence"), min, 0, 1, "between 0 and 1") : null,
            LabelThresholds = thresholds,
            SilenceThresholdDbfs = source["SilenceThresholdDbfs"] is { } dbfs ? Number(source.GetSection("SilenceThresholdDbfs"), dbfs, -200, 0, "between -200 and 0 dBFS") : null,
        };
    }

    /// <summary>What is wrong with the settings, or null.</summary>
    public static string? Problem(IConfigurationSection source, IReadOnlyList<BundleLabel>? modelLabels = null)
    {
        try
        {
            _ = Read(source, modelLabels);
            return null;
        }
        catch (PluginConfigurationException ex)
        {
            return ex.Message;
        }
    }

    private static void CheckLabel(string key, string label, HashSet<string>? known)
    {
        if (known is null || known.Contains(label))
            return;
        var nearest = known.OrderBy(k => Hosting.ConfigurationValidation.Distance(k, label)).FirstOrDefault();
        var hint = nearest is not null && Hosting.ConfigurationValidation.Distance(nearest, label) <= Math.Max(2, label.Length / 3) ? $" (did you mean {nearest}?)" : string.Empty;
        throw new PluginConfigurationException($"{key}: '{label}' is not a label of the model{hint}");
    }

    private static double Number(IConfigurationSection key, string? text, double min, double max, string range)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            return value;
        throw new PluginConfigurationException($"{key.Path}: must be {range}, was '{text}'");
    }
}

/// <summary>Every configured source's <see cref="SourceTuning"/>, read once; a source whose settings are wrong gets none (it is disabled anyway).</summary>
internal sealed class SourceTunings
{
    private readonly Dictionary<string, SourceTuning> _tunings = new(StringComparer.Ordinal);

    /// <param name="configuration">The daemon's configuration; none (null) gives every source <see cref="SourceTuning.None"/>.</param>
    public SourceTunings(IConfiguration? configuration)
    {
        foreach (var source in configuration?.GetSection("Sources").GetChildren() ?? [])
        {
            try
            {
                _tunings[source.Key] = SourceTuning.Read(source);
            }
            catch (PluginConfigurationException)
            {
                // Reported by the source's validation, which disables it.
            }
        }
    }

    /// <summary>The source's settings, or <see cref="SourceTuning.None"/>.</summary>
    public SourceTuning For(string sourceId) => _tunings.TryGetValue(sourceId, out var tuning) ? tuning : SourceTuning.None;
}
