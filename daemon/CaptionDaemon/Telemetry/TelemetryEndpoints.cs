using System.Globalization;
using System.Net;
using OpenTelemetry.Metrics;

namespace CaptionDaemon.Telemetry;

/// <summary><c>/metrics</c> (OpenTelemetry's Prometheus exporter) and <c>/healthz</c> on <c>Metrics:Listen</c>.</summary>
internal static class TelemetryEndpoints
{
    /// <summary>Registers the meter provider and binds Kestrel to the configured address only.</summary>
    /// <exception cref="FormatException"><paramref name="listen"/> is not HOST:PORT.</exception>
    public static void AddTelemetry(this WebApplicationBuilder builder, string listen)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var endpoint = ParseListen(listen);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(endpoint));
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(DaemonMetrics.MeterName)
            .AddPrometheusExporter());
    }

    public static void MapTelemetry(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/healthz", (HealthReporter health) =>
        {
            var report = health.Report();
            return Results.Json(report, HealthJsonContext.Default.HealthReport, statusCode: report.Status == "unhealthy" ? 503 : 200);
        });
    }

    /// <summary>Parses <c>HOST:PORT</c> (<c>127.0.0.1:9464</c>, <c>[::1]:9464</c>, <c>0.0.0.0:9464</c>, <c>localhost:9464</c>).</summary>
    public static IPEndPoint ParseListen(string listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        var colon = listen.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(listen.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            throw new FormatException($"Metrics:Listen: expected HOST:PORT such as 127.0.0.1:9464, was '{listen}'");
        var host = listen[..colon].Trim('[', ']');
        if (host == "localhost")
            return new IPEndPoint(IPAddress.Loopback, port);
        if (!IPAddress.TryParse(host, out var address))
            throw new FormatException($"Metrics:Listen: '{host}' is not an IP address (use 127.0.0.1, 0.0.0.0, ::1 or localhost)");
        return new IPEndPoint(address, port);
    }
}
