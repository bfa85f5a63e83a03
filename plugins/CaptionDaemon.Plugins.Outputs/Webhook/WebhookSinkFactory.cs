using System.Net.Http.Headers;
using CaptionDaemon.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Plugins.Outputs.Webhook;

/// <summary>
/// <c>"Type": "webhook"</c>: POSTs captions as JSON to <c>Url</c> (http or https, required), with the extra request
/// headers of the <c>Headers</c> section (name: value, e.g. <c>Authorization</c>), a <c>TimeoutSeconds</c> per
/// request (default 10), and <c>Batch</c> (default true: one JSON array of captions per batch; false: one
/// POST per caption with the caption object as the body).
/// </summary>
internal sealed partial class WebhookSinkFactory : ICaptionSinkFactory, ISettingsValidator
{
    public const double DefaultTimeoutSeconds = 10;

    public string TypeName => "webhook";

    public IReadOnlyCollection<string> SettingKeys { get; } = ["Url", "Headers:*", "TimeoutSeconds", "Batch"];

    public void Validate(IConfigurationSection settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _ = ReadUrl(settings);
        _ = SinkSettings.GetPositiveNumber(settings, "TimeoutSeconds", DefaultTimeoutSeconds);
        _ = SinkSettings.GetBoolean(settings, "Batch", defaultValue: true);
        using var request = new HttpRequestMessage();
        AddHeaders(request.Headers, settings.GetSection("Headers"));
    }

    public ICaptionSink Create(CaptionSinkContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = context.Settings;
        var url = ReadUrl(settings);
        var timeout = TimeSpan.FromSeconds(SinkSettings.GetPositiveNumber(settings, "TimeoutSeconds", DefaultTimeoutSeconds));
        var batch = SinkSettings.GetBoolean(settings, "Batch", defaultValue: true);

        var client = new HttpClient(new SocketsHttpHandler
        {
            // Reconnect now and then so that a DNS change of the endpoint is followed by a long-running daemon.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = timeout,
            // A redirected POST may turn into a GET without the captions; a 3xx is reported as a wrong Url instead.
            AllowAutoRedirect = false,
        })
        {
            // The sink applies its own timeout, so that it can tell a slow endpoint from the daemon stopping.
            Timeout = Timeout.InfiniteTimeSpan,
        };

        try
        {
            AddHeaders(client.DefaultRequestHeaders, settings.GetSection("Headers"));
        }
        catch
        {
            client.Dispose();
            throw;
        }

        var sink = new WebhookSink(context.Name, client, url, timeout, batch);
        LogPosting(context.Logger, context.Name, sink.DisplayUrl, batch, timeout.TotalSeconds);
        return sink;
    }

    private static Uri ReadUrl(IConfigurationSection settings)
    {
        var text = SinkSettings.GetRequiredString(settings, "Url", "the http:// or https:// address to POST captions to");
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new PluginConfigurationException($"{SinkSettings.Key(settings, "Url")}: must be an absolute http:// or https:// URL, was \"{text}\".");
        }

        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            // HttpClient ignores user:password in the URL; it would silently send no credentials.
            throw new PluginConfigurationException(
                $"{SinkSettings.Key(settings, "Url")}: credentials in the URL are not sent; put them in {SinkSettings.Key(settings, "Headers")}:Authorization instead.");
        }

        return url;
    }

    private static void AddHeaders(HttpRequestHeaders headers, IConfigurationSection section)
    {
        foreach (var header in section.GetChildren())
        {
            var key = $"{section.Path}:{header.Key}";
            if (header.Value is null)
            {
                throw new PluginConfigurationException($"{key}: must be a header value (a string), not a section.");
            }

            if (header.Value.AsSpan().IndexOfAny('\r', '\n') >= 0)
            {
                throw new PluginConfigurationException($"{key}: a header value cannot contain line breaks.");
            }

            // False for names that are not valid tokens and for content headers (Content-Type is the sink's).
            if (!headers.TryAddWithoutValidation(header.Key, header.Value))
            {
                throw new PluginConfigurationException($"{key}: \"{header.Key}\" cannot be set as a request header.");
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sink {Sink} POSTs captions to {Url} (batched: {Batch}, timeout {TimeoutSeconds} s)")]
    private static partial void LogPosting(ILogger logger, string sink, string url, bool batch, double timeoutSeconds);
}
