using System.Text.RegularExpressions;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Settings;
using Microsoft.Extensions.Configuration;

namespace CaptionDaemon.Plugins.Audio.Ffmpeg;

/// <summary>
/// <c>ffmpeg</c>: anything ffmpeg reads, as 16 kHz mono. Settings: <c>Input</c> (required), <c>InputFormat</c> (<c>-f</c>
/// before <c>-i</c>), <c>InputOptions</c> (array), <c>Realtime</c> (false; adds <c>-re</c>), <c>Restart</c> (always |
/// on-failure | never; default always, on-failure for a plain file), <c>FfmpegPath</c> (ffmpeg on PATH),
/// <c>MaxBackoffSeconds</c> (60), <c>StallTimeoutSeconds</c> (30; ffmpeg is killed and restarted when it delivers
/// nothing for this long, e.g. a camera that stops sending without closing the connection; 0 turns it off).
/// </summary>
internal sealed partial class FfmpegSourceFactory : IAudioSourceFactory, ISettingsValidator
{
    public string TypeName => "ffmpeg";

    public IReadOnlyCollection<string> SettingKeys { get; } =
        ["Input", "InputFormat", "InputOptions:*", "Realtime", "Restart", "FfmpegPath", "MaxBackoffSeconds", "StallTimeoutSeconds"];

    public void Validate(IConfigurationSection settings) => _ = Read(settings);

    public IAudioSource Create(AudioSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new FfmpegSource(context.Id, Read(context.Settings), context.Logger, context.Status);
    }

    private static FfmpegOptions Read(IConfigurationSection section)
    {
        var settings = new SourceSettings(section);
        var input = settings.RequiredString("Input", "rtsp://camera.local/stream, default (with InputFormat alsa) or /srv/audio/door.mp3");
        var inputFormat = settings.OptionalString("InputFormat");
        var inputOptions = settings.StringArray("InputOptions");
        var realtime = settings.Boolean("Realtime", false);
        var isFile = IsPlainFile(input, inputFormat);
        var restart = settings.OneOf("Restart", "always", "on-failure", "never") switch
        {
            "always" => RestartPolicy.Always,
            "on-failure" => RestartPolicy.OnFailure,
            "never" => RestartPolicy.Never,
            _ => isFile ? RestartPolicy.OnFailure : RestartPolicy.Always,
        };
        var maxBackoff = TimeSpan.FromSeconds(settings.Integer("MaxBackoffSeconds", 60, 1, 3600));
        var stallTimeout = TimeSpan.FromSeconds(settings.Integer("StallTimeoutSeconds", 30, 0, 3600));
        var ffmpegPath = Locate(settings, settings.OptionalString("FfmpegPath") ?? "ffmpeg");
        if (isFile)
        {
            var path = input.StartsWith("file:", StringComparison.Ordinal) ? input[5..] : input;
            if (!File.Exists(path))
                throw settings.Invalid("Input", $"no such file: {Path.GetFullPath(path)}");
        }

        return new FfmpegOptions(ffmpegPath, input, inputFormat, inputOptions, realtime, restart, maxBackoff, stallTimeout);
    }

    /// <summary>
    /// A plain file is a path (no URL scheme but <c>file:</c>), with no <c>-f</c> (devices such as alsa and pulse need
    /// one) and not an SDP file (which describes a network stream).
    /// </summary>
    internal static bool IsPlainFile(string input, string? inputFormat) =>
        inputFormat is null
        && (!UrlScheme().IsMatch(input) || input.StartsWith("file:", StringComparison.Ordinal))
        && !input.EndsWith(".sdp", StringComparison.OrdinalIgnoreCase);

    private static string Locate(SourceSettings settings, string ffmpeg)
    {
        if (ffmpeg.Contains('/', StringComparison.Ordinal))
        {
            var full = Path.GetFullPath(ffmpeg);
            return File.Exists(full)
                ? full
                : throw settings.Invalid("FfmpegPath", $"no such file: {full} (install ffmpeg, e.g. apt-get install ffmpeg, or give the path of its executable)");
        }
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, ffmpeg);
            if (File.Exists(candidate))
                return candidate;
        }
        throw settings.Invalid("FfmpegPath", $"'{ffmpeg}' was not found on PATH (install ffmpeg, e.g. apt-get install ffmpeg, or give the path of its executable)");
    }

    // Two or more characters so that nothing like a drive letter counts; "hw:0" counts, but devices come with InputFormat.
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]+:")]
    private static partial Regex UrlScheme();
}
