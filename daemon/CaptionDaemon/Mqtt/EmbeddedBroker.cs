using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace CaptionDaemon.Mqtt;

/// <summary>Settings of the MQTT broker the daemon runs in-process (configuration section <see cref="SectionName"/>).</summary>
internal sealed class EmbeddedBrokerOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Broker";

    /// <summary>Run the broker; off when captions go to an external broker only.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The address to listen on: an IP address, <c>localhost</c>, <c>0.0.0.0</c> or <c>::</c> for all.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one (see <see cref="EmbeddedBroker.Endpoint"/>).</summary>
    public int Port { get; set; } = 1883;

    /// <summary>With <see cref="Password"/>: the only credentials the broker accepts.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Accept clients without credentials even when the broker listens beyond loopback or has credentials.</summary>
    public bool AllowAnonymous { get; set; }

    internal bool HasCredentials => !string.IsNullOrEmpty(Username);

    /// <summary>The address to bind, or null (with a reason) when <see cref="Host"/> is not one.</summary>
    internal IPAddress? ParseHost(out string? error)
    {
        error = null;
        var host = Host.Trim();
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        if (host is "*" or "")
        {
            return IPAddress.Any;
        }

        if (IPAddress.TryParse(host.Trim('[', ']'), out var address))
        {
            return address;
        }

        error = $"{SectionName}:Host: must be an IP address to listen on (e.g. 127.0.0.1, 0.0.0.0, ::1) or 'localhost', was '{Host}'";
        return null;
    }
}

/// <summary>
/// Validates <see cref="EmbeddedBrokerOptions"/> at start-up: a broker reachable beyond this machine must not accept
/// anyone by accident.
/// </summary>
internal sealed class EmbeddedBrokerOptionsValidator : IValidateOptions<EmbeddedBrokerOptions>
{
    public ValidateOptionsResult Validate(string? name, EmbeddedBrokerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        const string Section = EmbeddedBrokerOptions.SectionName;
        var address = options.ParseHost(out var hostError);
        if (hostError is not null)
        {
            failures.Add(hostError);
        }

        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"{Section}:Port: must be 0-65535 (0 picks a free port), was {options.Port}");
        }

        if (string.IsNullOrEmpty(options.Username) != string.IsNullOrEmpty(options.Password))
        {
            failures.Add($"{Section}:Username and {Section}:Password: set both or neither");
        }

        if (address is not null && !IPAddress.IsLoopback(address) && !options.HasCredentials && !options.AllowAnonymous)
        {
            failures.Add(
                $"{Section}:Host is '{options.Host}', reachable beyond this machine, but {Section}:Username and {Section}:Password are not set: " +
                $"set them, or set {Section}:AllowAnonymous to true to accept anyone who can reach the port, or listen on 127.0.0.1");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// The default broker: an MQTTnet server in the daemon's process, on 127.0.0.1:1883 unless configured, so that one
/// command runs everything. Retained messages and persistent sessions live in memory.
/// </summary>
internal sealed partial class EmbeddedBroker : IHostedService, IAsyncDisposable
{
    /// <summary>The CONNECT packet behind <see cref="ValidatingConnectionEventArgs"/> (MQTTnet 5 keeps it private): see <see cref="AssignClientId"/>.</summary>
    private static readonly FieldInfo? ConnectPacketField =
        typeof(ValidatingConnectionEventArgs).GetField("_connectPacket", BindingFlags.Instance | BindingFlags.NonPublic) is { } field && field.FieldType == typeof(MqttConnectPacket) ? field : null;

    private readonly EmbeddedBrokerOptions _options;
    private readonly ILogger _logger;
    private MqttServer? _server;

    public EmbeddedBroker(IOptions<EmbeddedBrokerOptions> options, ILogger<EmbeddedBroker> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Where the broker listens once started (the chosen port when <c>Port</c> was 0), else null.</summary>
    public IPEndPoint? Endpoint { get; private set; }

    /// <exception cref="OptionsValidationException">The settings are wrong or unsafe; the message names the keys.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled || _server is not null)
        {
            return;
        }

        var validation = new EmbeddedBrokerOptionsValidator().Validate(null, _options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(EmbeddedBrokerOptions.SectionName, typeof(EmbeddedBrokerOptions), validation.Failures);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var address = _options.ParseHost(out _)!;
        var port = _options.Port == 0 ? FreePort(address) : _options.Port;
        var factory = new MqttServerFactory();
        var builder = factory.CreateServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointPort(port)
            .WithPersistentSessions();
        // MQTTnet listens on IPv4 and IPv6 unless the other family's address is IPAddress.None.
        builder = address.AddressFamily == AddressFamily.InterNetworkV6
            ? builder.WithDefaultEndpointBoundIPAddress(IPAddress.None).WithDefaultEndpointBoundIPV6Address(address)
            : builder.WithDefaultEndpointBoundIPAddress(address).WithDefaultEndpointBoundIPV6Address(IPAddress.None);

        var server = factory.CreateMqttServer(builder.Build());
        server.ValidatingConnectionAsync += ValidateConnectionAsync;
        try
        {
            await server.StartAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            server.Dispose();
            throw new InvalidOperationException($"The embedded MQTT broker cannot listen on {address}:{port} ({ex.Message}); see {EmbeddedBrokerOptions.SectionName}:Host and :Port.", ex);
        }

        _server = server;
        Endpoint = new IPEndPoint(address, port);
        LogListening(_logger, Endpoint.ToString(), _options.HasCredentials ? "required" : "not required");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var server = _server;
        if (server is null)
        {
            return;
        }

        _server = null;
        Endpoint = null;
        try
        {
            await server.StopAsync(new MqttServerStopOptions()).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            server.Dispose();
        }

        LogStopped(_logger);
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    private Task ValidateConnectionAsync(ValidatingConnectionEventArgs args)
    {
        if (string.IsNullOrEmpty(args.ClientId) && !AssignClientId(args))
        {
            args.ReasonCode = MqttConnectReasonCode.ClientIdentifierNotValid;
            LogRefused(_logger, "(empty)", args.RemoteEndPoint?.ToString() ?? "?", "an empty client id; give the client one");
            return Task.CompletedTask;
        }

        if (string.IsNullOrEmpty(args.UserName))
        {
            // Anonymous clients: fine on loopback without credentials configured, or when explicitly allowed.
            if (_options.HasCredentials && !_options.AllowAnonymous)
            {
                args.ReasonCode = MqttConnectReasonCode.NotAuthorized;
                LogRefused(_logger, args.ClientId, args.RemoteEndPoint?.ToString() ?? "?", "no credentials");
            }

            return Task.CompletedTask;
        }

        if (_options.HasCredentials && !(SameSecret(args.UserName, _options.Username!) && SameSecret(args.Password ?? string.Empty, _options.Password!)))
        {
            args.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
            LogRefused(_logger, args.ClientId, args.RemoteEndPoint?.ToString() ?? "?", "wrong username or password");
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Gives a client that sent an empty client id one of its own, as MQTT allows for clean sessions (3.1.1 §3.1.3
    /// and 5.0 §3.1.3.1): <c>mosquitto_sub</c> and paho's defaults send none. MQTTnet assigns it for MQTT 5 from
    /// <see cref="ValidatingConnectionEventArgs.AssignedClientIdentifier"/>, but refuses MQTT 3.1.1 clients outright;
    /// for those the id is written into the CONNECT packet the event holds privately (checked by a test with a real
    /// <c>mosquitto_sub</c>; if MQTTnet moves the field, such clients are refused as before).
    /// </summary>
    /// <returns>False when the id cannot be assigned (an MQTT 3.1.1 client, had MQTTnet moved the field).</returns>
    private static bool AssignClientId(ValidatingConnectionEventArgs args)
    {
        var id = "captiond-auto-" + Guid.NewGuid().ToString("N")[..12];
        if (args.ChannelAdapter.PacketFormatterAdapter.ProtocolVersion == MqttProtocolVersion.V500)
        {
            args.AssignedClientIdentifier = id;
            return true;
        }

        // MQTT 3.1.1 allows an empty id only with a clean session; MQTTnet's decoder has already closed the connection
        // of a client that sent one without it.
        if (ConnectPacketField?.GetValue(args) is not MqttConnectPacket packet)
        {
            return false;
        }

        packet.ClientId = id;
        return true;
    }

    private static bool SameSecret(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    private static int FreePort(IPAddress address)
    {
        // MQTTnet does not expose the port it bound, so port 0 is resolved here; another process could take the port
        // in between, which StartAsync then reports.
        using var listener = new TcpListener(address, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded MQTT broker listening on mqtt://{Endpoint} (credentials {Credentials})")]
    private static partial void LogListening(ILogger logger, string endpoint, string credentials);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded MQTT broker stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Embedded MQTT broker refused client {ClientId} from {Endpoint}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string clientId, string endpoint, string reason);
}
