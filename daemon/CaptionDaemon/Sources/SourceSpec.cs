using System.Globalization;
using System.Text;

namespace CaptionDaemon.Sources;

/// <summary>
/// Turns a <c>--source</c> argument into configuration for one source, e.g. <c>mic</c>, <c>rtsp://cam/stream</c>,
/// <c>file:x.wav</c>, <c>udp://0.0.0.0:5004?rate=16000</c>, or any of them named: <c>kitchen=mic</c>.
/// </summary>
internal static class SourceSpec
{
    /// <summary>Parses a spec into a source id and its settings (keys relative to the source's section).</summary>
    /// <exception cref="FormatException">The spec is not understood; the message says what would be.</exception>
    public static (string Id, IReadOnlyDictionary<string, string?> Settings) Parse(string spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        string? id = null;
        var body = spec.Trim();
        var eq = body.IndexOf('=', StringComparison.Ordinal);
        var scheme = body.IndexOf(':', StringComparison.Ordinal);
        if (eq > 0 && (scheme < 0 || eq < scheme))
        {
            id = body[..eq];
            body = body[(eq + 1)..];
        }

        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        string defaultId;
        if (body is "mic" || body.StartsWith("mic:", StringComparison.Ordinal))
        {
            settings["Type"] = "ffmpeg";
            settings["InputFormat"] = "alsa";
            settings["Input"] = body.Length > 4 ? body[4..] : "default";
            defaultId = "mic";
        }
        else if (body is "pulse" || body.StartsWith("pulse:", StringComparison.Ordinal))
        {
            settings["Type"] = "ffmpeg";
            settings["InputFormat"] = "pulse";
            settings["Input"] = body.Length > 6 ? body[6..] : "default";
            defaultId = "mic";
        }
        else if (TryNetwork(body, settings, out defaultId))
        {
        }
        else if (body.Contains("://", StringComparison.Ordinal))
        {
            settings["Type"] = "ffmpeg";
            settings["Input"] = body;
            defaultId = Uri.TryCreate(body, UriKind.Absolute, out var uri) ? uri.Host : "stream";
        }
        else
        {
            var path = body.StartsWith("file:", StringComparison.Ordinal) ? body[5..] : body;
            if (path.Length == 0)
                throw new FormatException($"--source '{spec}': a file source needs a path, e.g. file:/srv/audio/door.wav");
            path = Path.GetFullPath(path);
            var isWav = path.EndsWith(".wav", StringComparison.OrdinalIgnoreCase);
            settings["Type"] = isWav ? "wav" : "ffmpeg";
            settings[isWav ? "Path" : "Input"] = path;
            if (!isWav)
                settings["Realtime"] = "true";
            defaultId = Path.GetFileNameWithoutExtension(path);
        }

        return (Sanitize(id ?? defaultId), settings);
    }

    /// <summary>A source id usable as an MQTT topic level and a metric label: lower-case letters, digits, '-' and '_'.</summary>
    public static string Sanitize(string id)
    {
        var sb = new StringBuilder(id.Length);
        foreach (var c in id.ToLowerInvariant())
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        var result = sb.ToString().Trim('_');
        return result.Length == 0 ? "source" : result;
    }

    private static bool TryNetwork(string body, Dictionary<string, string?> settings, out string defaultId)
    {
        defaultId = string.Empty;
        string type;
        string key;
        if (body.StartsWith("udp://", StringComparison.OrdinalIgnoreCase))
            (type, key) = ("udp", "Listen");
        else if (body.StartsWith("tcp-listen://", StringComparison.OrdinalIgnoreCase))
            (type, key) = ("tcp", "Listen");
        else if (body.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase))
            (type, key) = ("tcp", "Connect");
        else
            return false;

        var rest = body[(body.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var query = string.Empty;
        var q = rest.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }
        settings["Type"] = type;
        settings[key] = rest;
        settings["SampleRate"] = "16000";
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : string.Empty;
            switch (kv[0].ToLowerInvariant())
            {
                case "rate":
                    settings["SampleRate"] = value;
                    break;
                case "channels":
                    settings["Channels"] = value;
                    break;
                case "encoding":
                    settings["Encoding"] = value;
                    break;
                default:
                    throw new FormatException(string.Create(CultureInfo.InvariantCulture,
                        $"--source '{body}': unknown option '{kv[0]}' (known: rate, channels, encoding)"));
            }
        }
        var port = rest.LastIndexOf(':');
        defaultId = type + "-" + (port >= 0 ? rest[(port + 1)..] : rest);
        return true;
    }
}
