using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CaptionDaemon.Contracts;
using Microsoft.Extensions.Configuration;

namespace CaptionDaemon.Plugins.Mqtt;

/// <summary>The settings of one <c>mqtt</c> sink, read from its configuration section.</summary>
internal sealed class MqttSinkSettings
{
    public const int DefaultPort = 1883;
    public const int DefaultTlsPort = 8883;

    /// <summary>The keys <see cref="FromConfiguration"/> reads.</summary>
    public static IReadOnlyList<string> Keys { get; } =
    [
        "Url", "Username", "Password", "ClientId", "TopicPrefix", "KeepAliveSeconds", "ReconnectDelaySeconds", "TimeoutSeconds",
        "Tls:CaFile", "Tls:AllowUntrustedCertificates", "HomeAssistant:Enabled", "HomeAssistant:Prefix", "HomeAssistant:NodeId",
        "LevelIntervalSeconds",
    ];

    public required string Host { get; init; }

    public required int Port { get; init; }

    public bool UseTls { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    public required string ClientId { get; init; }

    public string TopicPrefix { get; init; } = "captiond";

    public bool AllowUntrustedCertificates { get; init; }

    /// <summary>Certificates from <c>Tls:CaFile</c> trusted as roots for the broker's certificate.</summary>
    public X509Certificate2Collection? TrustedCertificates { get; init; }

    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the connection monitor waits between checks (and between reconnection attempts).</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a connect or a publication may take before the broker counts as unreachable.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public bool HomeAssistantEnabled { get; init; } = true;

    public string HomeAssistantPrefix { get; init; } = "homeassistant";

    public required string HomeAssistantNodeId { get; init; }

    /// <summary>At most one level per source this often on <c>&lt;prefix&gt;/&lt;source&gt;/level</c>; zero turns levels off.</summary>
    public TimeSpan LevelInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The broker as logs show it (no credentials).</summary>
    public string BrokerDisplay => $"{(UseTls ? "mqtts" : "mqtt")}://{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}:{Port}";

    /// <summary>Reads and checks the settings; throws <see cref="PluginConfigurationException"/> naming the key.</summary>
    public static MqttSinkSettings FromConfiguration(IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        string Key(string name) => $"{section.Path}:{name}";

        var url = section["Url"];
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new PluginConfigurationException($"{Key("Url")}: required, e.g. mqtt://127.0.0.1:1883 or mqtts://user:password@broker.example:8883");
        }

        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new PluginConfigurationException($"{Key("Url")}: not a URL like mqtt://host:1883, was '{url}'");
        }

        var useTls = uri.Scheme.ToLowerInvariant() switch
        {
            "mqtt" => false,
            "mqtts" => true,
            _ => throw new PluginConfigurationException($"{Key("Url")}: the scheme must be mqtt:// or mqtts:// (TLS), was '{uri.Scheme}://'"),
        };
        var port = uri.Port > 0 ? uri.Port : useTls ? DefaultTlsPort : DefaultPort;

        string? urlUser = null;
        string? urlPassword = null;
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            urlUser = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            urlPassword = colon < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }

        var username = NullIfEmpty(section["Username"]) ?? NullIfEmpty(urlUser);
        var password = NullIfEmpty(section["Password"]) ?? NullIfEmpty(urlPassword);
        if (password is not null && username is null)
        {
            throw new PluginConfigurationException($"{Key("Password")}: a password needs a username ({Key("Username")} or user:password@ in {Key("Url")})");
        }

        var hostName = HostName();
        var prefix = NullIfEmpty(section["TopicPrefix"]) ?? "captiond";
        if (!TopicLevel.IsValidPrefix(prefix))
        {
            throw new PluginConfigurationException($"{Key("TopicPrefix")}: must be topic levels without '+', '#', a leading, trailing or doubled '/', was '{prefix}'");
        }

        var haPrefix = NullIfEmpty(section["HomeAssistant:Prefix"]) ?? "homeassistant";
        if (!TopicLevel.IsValidPrefix(haPrefix))
        {
            throw new PluginConfigurationException($"{Key("HomeAssistant:Prefix")}: must be topic levels without '+', '#', a leading, trailing or doubled '/', was '{haPrefix}'");
        }

        var nodeId = NullIfEmpty(section["HomeAssistant:NodeId"]) ?? TopicLevel.HomeAssistantId(hostName);
        if (TopicLevel.HomeAssistantId(nodeId) != nodeId)
        {
            throw new PluginConfigurationException($"{Key("HomeAssistant:NodeId")}: only letters, digits, '_' and '-' are allowed, was '{nodeId}'");
        }

        var keepAlive = ReadInt(section, "KeepAliveSeconds", 30, 0, 65535);
        var reconnectDelay = ReadInt(section, "ReconnectDelaySeconds", 2, 1, 300);
        var timeout = ReadInt(section, "TimeoutSeconds", 10, 1, 600);
        var levelInterval = ReadInt(section, "LevelIntervalSeconds", 10, 0, 3600);

        return new MqttSinkSettings
        {
            Host = uri.IdnHost,
            Port = port,
            UseTls = useTls,
            Username = username,
            Password = password,
            // Unique per daemon process: two daemons on one broker (or a restart racing its predecessor's session) never
            // take over each other's connection.
            ClientId = NullIfEmpty(section["ClientId"]) ?? $"captiond-{hostName}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}",
            TopicPrefix = prefix,
            AllowUntrustedCertificates = ReadBool(section, "Tls:AllowUntrustedCertificates", false),
            TrustedCertificates = ReadCaFile(section, Key("Tls:CaFile")),
            KeepAlive = TimeSpan.FromSeconds(keepAlive),
            ReconnectDelay = TimeSpan.FromSeconds(reconnectDelay),
            Timeout = TimeSpan.FromSeconds(timeout),
            HomeAssistantEnabled = ReadBool(section, "HomeAssistant:Enabled", true),
            HomeAssistantPrefix = haPrefix,
            HomeAssistantNodeId = nodeId,
            LevelInterval = TimeSpan.FromSeconds(levelInterval),
        };
    }

    private static string HostName()
    {
        var name = Environment.MachineName;
        return string.IsNullOrWhiteSpace(name) ? "localhost" : name.ToLowerInvariant();
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static int ReadInt(IConfigurationSection section, string key, int fallback, int min, int max)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new PluginConfigurationException($"{section.Path}:{key}: must be a whole number from {min} to {max}, was '{text}'");
        }

        return value;
    }

    private static bool ReadBool(IConfigurationSection section, string key, bool fallback)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return bool.TryParse(text, out var value)
            ? value
            : throw new PluginConfigurationException($"{section.Path}:{key}: must be true or false, was '{text}'");
    }

    private static X509Certificate2Collection? ReadCaFile(IConfigurationSection section, string key)
    {
        var path = NullIfEmpty(section["Tls:CaFile"]);
        if (path is null)
        {
            return null;
        }

        try
        {
            var certificates = new X509Certificate2Collection();
            certificates.ImportFromPemFile(path);
            return certificates.Count > 0
                ? certificates
                : throw new PluginConfigurationException($"{key}: '{path}' holds no PEM certificate");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new PluginConfigurationException($"{key}: cannot read PEM certificates from '{path}': {ex.Message}", ex);
        }
    }
}
