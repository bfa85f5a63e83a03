using System.Text.Json.Serialization;

namespace CaptionDaemon.Telemetry;

/// <summary>What <c>/healthz</c> answers: <c>status</c> is <c>ok</c> or <c>degraded</c> (HTTP 200) or <c>unhealthy</c> (HTTP 503), with the problems.</summary>
internal sealed record HealthReport(
    string Status,
    IReadOnlyList<string> Problems,
    ModelHealth? Model,
    IReadOnlyList<SourceHealth> Sources,
    IReadOnlyList<SinkHealth> Sinks,
    IReadOnlyList<PluginHealth> Plugins);

internal sealed record ModelHealth(string Name, string Path, string Provider, DateTimeOffset LoadedAt);

internal sealed record SourceHealth(string Id, string Type, string? Plugin, string State, string? Detail, DateTimeOffset Since);

internal sealed record SinkHealth(string Name, string Type, string State, string? Error, long Depth, long Delivered, long Dropped);

internal sealed record PluginHealth(string Name, string Path, bool Loaded, string? Error);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(HealthReport))]
internal sealed partial class HealthJsonContext : JsonSerializerContext;
