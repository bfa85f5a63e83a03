using CaptionDaemon.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Plugins.Outputs.Jsonl;

/// <summary>
/// <c>"Type": "jsonl"</c>: appends one JSON caption per line to <c>Path</c> (a file; a relative path is taken under
/// the sink's state directory; parent directories are created) or writes them to standard output when <c>Path</c>
/// is <c>-</c>. <c>FlushEachBatch</c> (default true) writes every batch before the host counts it as delivered.
/// </summary>
internal sealed partial class JsonlSinkFactory : ICaptionSinkFactory, ISettingsValidator
{
    public const string StandardOutput = "-";

    public string TypeName => "jsonl";

    public IReadOnlyCollection<string> SettingKeys { get; } = ["Path", "FlushEachBatch"];

    public void Validate(IConfigurationSection settings) => _ = Read(settings);

    public ICaptionSink Create(CaptionSinkContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = context.Settings;
        var (path, flushEachBatch) = Read(settings);

        if (path == StandardOutput)
        {
            LogWritingToStandardOutput(context.Logger, context.Name);
            return new JsonlSink(context.Name, file: null, StandardOutput, flushEachBatch, context.Logger);
        }

        var fullPath = Path.GetFullPath(path, context.StateDirectory);
        FileStream file;
        try
        {
            var directory = Path.GetDirectoryName(fullPath);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            // Not FileMode.Append: .NET then refuses to seek back, and the sink seeks to the end before every write
            // (another writer or a copytruncate rotation may have moved it) and cuts off a batch that failed halfway.
            // Unbuffered: the sink already holds the whole batch in one buffer.
            file = new FileStream(fullPath, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.Write,
                Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = 0,
            });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new PluginConfigurationException(
                $"{SinkSettings.Key(settings, "Path")}: cannot open \"{fullPath}\" for appending: {ex.Message}", ex);
        }

        LogAppendingToFile(context.Logger, context.Name, fullPath);
        return new JsonlSink(context.Name, file, fullPath, flushEachBatch, context.Logger);
    }

    private static (string Path, bool FlushEachBatch) Read(IConfigurationSection settings) =>
        (SinkSettings.GetRequiredString(settings, "Path", "a file to append captions to, or \"-\" for standard output"),
         SinkSettings.GetBoolean(settings, "FlushEachBatch", defaultValue: true));

    [LoggerMessage(Level = LogLevel.Information, Message = "Sink {Sink} appends captions as JSON lines to {Path}")]
    private static partial void LogAppendingToFile(ILogger logger, string sink, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sink {Sink} writes captions as JSON lines to standard output")]
    private static partial void LogWritingToStandardOutput(ILogger logger, string sink);
}
