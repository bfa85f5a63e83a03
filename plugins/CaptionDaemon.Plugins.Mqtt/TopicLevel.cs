using System.Text;

namespace CaptionDaemon.Plugins.Mqtt;

/// <summary>Source ids as MQTT topic levels and as Home Assistant ids.</summary>
internal static class TopicLevel
{
    /// <summary>
    /// One topic level for a source id: <c>+</c>, <c>#</c> and <c>/</c> (wildcards and the level separator), NUL and
    /// <c>%</c> itself are percent-encoded (<c>a/b</c> becomes <c>a%2Fb</c>), so that distinct ids stay distinct.
    /// </summary>
    public static string Escape(string sourceId)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourceId);
        if (sourceId.AsSpan().IndexOfAny("+#/%\0") < 0)
        {
            return sourceId;
        }

        var builder = new StringBuilder(sourceId.Length + 8);
        foreach (var c in sourceId)
        {
            _ = c switch
            {
                '+' => builder.Append("%2B"),
                '#' => builder.Append("%23"),
                '/' => builder.Append("%2F"),
                '%' => builder.Append("%25"),
                '\0' => builder.Append("%00"),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    /// <summary>An id of <c>[a-zA-Z0-9_-]</c> only, as Home Assistant wants node and object ids; others become <c>_</c>.</summary>
    public static string HomeAssistantId(string value)
    {
        var chars = value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_').ToArray();
        return chars.Length == 0 ? "_" : new string(chars);
    }

    /// <summary>A configured topic prefix: one or more levels, no wildcards, no leading or trailing separator.</summary>
    public static bool IsValidPrefix(string prefix) =>
        prefix.Length > 0 && prefix.AsSpan().IndexOfAny("+#\0") < 0 && prefix[0] != '/' && prefix[^1] != '/' && !prefix.Contains("//", StringComparison.Ordinal);
}
