using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Outputs.Jsonl;
using CaptionDaemon.Plugins.Outputs.Webhook;
using Microsoft.Extensions.DependencyInjection;

namespace CaptionDaemon.Plugins.Outputs;

/// <summary>
/// Registers the <c>jsonl</c> sink (one JSON caption per line, to a file or standard output) and the <c>webhook</c>
/// sink (captions POSTed as JSON to an HTTP endpoint).
/// </summary>
public sealed class OutputsPlugin : ICaptionDaemonPlugin
{
    /// <inheritdoc />
    public void Register(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<ICaptionSinkFactory, JsonlSinkFactory>();
        services.AddSingleton<ICaptionSinkFactory, WebhookSinkFactory>();
    }
}
