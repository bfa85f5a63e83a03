using System.Globalization;
using CaptionDaemon.Contracts;

namespace CaptionDaemon.Sinks;

/// <summary>
/// Writes every caption to the log (the console, or the journal under systemd), so that a new user sees captions
/// at once. Category <c>captiond.captions</c>: set <c>Logging:LogLevel:captiond.captions</c> to <c>Warning</c> to mute it.
/// </summary>
internal sealed partial class CaptionLogSink(ILogger logger) : ICaptionSink
{
    public const string SinkName = "log";

    public string Name => SinkName;

    public Task PublishAsync(IReadOnlyList<Caption> captions, CancellationToken cancellationToken)
    {
        foreach (var caption in captions)
        {
            LogCaption(logger, caption.SourceId, caption.Start.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture),
                caption.End.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture), caption.Text, caption.Confidence);
        }
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "[{Source} {Start}-{End}] {Text} ({Confidence:0.00})")]
    private static partial void LogCaption(ILogger logger, string source, string start, string end, string text, double confidence);
}
