using System.Text.RegularExpressions;

namespace CaptionDaemon.Plugins.Audio.Ffmpeg;

/// <summary>
/// Hides the user:password of URLs (rtsp://admin:secret@camera/...) before text goes to logs and MQTT status,
/// which are far less private than the configuration file.
/// </summary>
internal static partial class UrlCredentials
{
    public static string Redact(string text) => UserInfo().Replace(text, "://***@");

    [GeneratedRegex(@"://[^/@\s]+@")]
    private static partial Regex UserInfo();
}
