using System.Globalization;
using System.Net;
using CaptionDaemon.Contracts;
using Microsoft.Extensions.Configuration;

namespace CaptionDaemon.Plugins.Audio.Settings;

/// <summary>
/// Reads one source's settings and fails with a <see cref="PluginConfigurationException"/> whose message names the
/// full key (<c>Sources:kitchen:SampleRate</c>) and the bad value, so that a user can find the line to fix.
/// </summary>
internal sealed class SourceSettings
{
    private readonly IConfigurationSection _section;

    public SourceSettings(IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        _section = section;
    }

    /// <summary>The full configuration path of a key, e.g. <c>Sources:kitchen:Path</c>.</summary>
    public string PathOf(string key) => _section.Path + ":" + key;

    public PluginConfigurationException Invalid(string key, string problem) => new($"{PathOf(key)}: {problem}");

    public string? OptionalString(string key)
    {
        var value = _section[key];
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    public string RequiredString(string key, string example) =>
        OptionalString(key) ?? throw Invalid(key, $"required, was missing (e.g. {example})");

    public bool Boolean(string key, bool defaultValue)
    {
        var value = OptionalString(key);
        if (value is null)
            return defaultValue;
        return bool.TryParse(value, out var result)
            ? result
            : throw Invalid(key, $"must be true or false, was '{value}'");
    }

    public int Integer(string key, int defaultValue, int min, int max)
    {
        var value = OptionalString(key);
        return value is null ? Check(key, defaultValue, min, max) : ParseInteger(key, value, min, max);
    }

    public int RequiredInteger(string key, int min, int max, string example)
    {
        var value = OptionalString(key) ?? throw Invalid(key, $"required, was missing (e.g. {example})");
        return ParseInteger(key, value, min, max);
    }

    /// <summary>One of a fixed set of words, case-insensitive; returns the word as spelled in <paramref name="allowed"/>.</summary>
    public string? OneOf(string key, params string[] allowed)
    {
        var value = OptionalString(key);
        if (value is null)
            return null;
        foreach (var word in allowed)
        {
            if (string.Equals(word, value, StringComparison.OrdinalIgnoreCase))
                return word;
        }
        throw Invalid(key, $"must be one of {string.Join(", ", allowed)}, was '{value}'");
    }

    /// <summary>An array of strings (<c>Key:0</c>, <c>Key:1</c>, ...), in index order; empty when absent.</summary>
    public IReadOnlyList<string> StringArray(string key)
    {
        var section = _section.GetSection(key);
        if (section.Value is { Length: > 0 } scalar)
            throw Invalid(key, $"must be an array of strings (e.g. [\"-rtsp_transport\", \"tcp\"]), was the single value '{scalar}'");
        var items = new List<(int Index, string Value)>();
        foreach (var child in section.GetChildren())
        {
            if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                throw Invalid(key, $"must be an array of strings, has the named entry '{child.Key}'");
            if (child.Value is null)
                throw Invalid(key + ":" + child.Key, "must be a string, was an object or null");
            items.Add((index, child.Value));
        }
        items.Sort((a, b) => a.Index.CompareTo(b.Index));
        return items.ConvertAll(i => i.Value);
    }

    /// <summary>
    /// A local address to listen on: <c>port</c>, <c>:port</c>, <c>host:port</c> or <c>[v6]:port</c>, where host is an IP
    /// address, <c>*</c> or <c>localhost</c>. Without a host it listens on every IPv4 address (0.0.0.0).
    /// </summary>
    public IPEndPoint ListenEndPoint(string key, string example)
    {
        var value = RequiredString(key, example);
        var (host, port) = SplitHostPort(key, value, allowMissingHost: true);
        IPAddress address;
        if (host.Length == 0 || host == "*")
            address = IPAddress.Any;
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
            address = IPAddress.Loopback;
        else if (!IPAddress.TryParse(host, out address!))
            throw Invalid(key, $"the host must be an IP address, '*' or 'localhost' (a name is not resolved for listening), was '{value}'");
        return new IPEndPoint(address, port);
    }

    /// <summary>A remote <c>host:port</c> (host may be a name, resolved at each connection attempt).</summary>
    public (string Host, int Port) RemoteEndPoint(string key, string example)
    {
        var value = RequiredString(key, example);
        var (host, port) = SplitHostPort(key, value, allowMissingHost: false);
        if (port == 0)
            throw Invalid(key, $"the port must be 1-65535, was '{value}'");
        return (host, port);
    }

    private (string Host, int Port) SplitHostPort(string key, string value, bool allowMissingHost)
    {
        string host;
        string portText;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= value.Length || value[close + 1] != ':')
                throw Invalid(key, $"must be [address]:port for IPv6, was '{value}'");
            host = value[1..close];
            portText = value[(close + 2)..];
        }
        else
        {
            var colon = value.LastIndexOf(':');
            if (colon < 0)
            {
                host = string.Empty;
                portText = value;
            }
            else
            {
                host = value[..colon];
                portText = value[(colon + 1)..];
                if (host.Contains(':', StringComparison.Ordinal))
                    throw Invalid(key, $"an IPv6 address must be written in brackets, e.g. [::]:5004, was '{value}'");
            }
        }
        if (host.Length == 0 && !allowMissingHost)
            throw Invalid(key, $"must be host:port, e.g. 192.168.1.20:5004, was '{value}'");
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > IPEndPoint.MaxPort)
            throw Invalid(key, $"the port must be a number 0-65535, was '{value}'");
        return (host, port);
    }

    private int ParseInteger(string key, string value, int min, int max)
    {
        if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var result))
            throw Invalid(key, $"must be a whole number, was '{value}'");
        return Check(key, result, min, max);
    }

    private int Check(string key, int value, int min, int max) =>
        value >= min && value <= max
            ? value
            : throw Invalid(key, string.Create(CultureInfo.InvariantCulture, $"must be {min}-{max}, was {value}"));
}
