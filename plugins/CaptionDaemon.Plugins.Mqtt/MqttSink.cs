using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;
using CaptionDaemon.Contracts;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace CaptionDaemon.Plugins.Mqtt;

/// <summary>
/// Publishes captions (QoS 1, <c>&lt;prefix&gt;/&lt;source&gt;/caption</c>), retained source states, levels
/// (<c>&lt;prefix&gt;/&lt;source&gt;/level</c>, at most every <c>HomeAssistant:LevelIntervalSeconds</c>) and Home Assistant
/// discovery to one broker. A monitor loop keeps the connection (ping, else reconnect, then wait); on every connection
/// it announces <c>&lt;prefix&gt;/status</c> = <c>online</c> (the Will says <c>offline</c>), the latest state of every
/// known source and the discovery, and a few seconds later clears the retained states and discovery of sources that no
/// longer exist. While disconnected, <see cref="PublishAsync"/> throws <see cref="SinkUnavailableException"/> and the
/// host keeps the captions in its outbox.
/// </summary>
internal sealed partial class MqttSink : ICaptionSink, ISourceStatusSink, ISourceDescriptionSink, ISourceLevelSink, ISinkAvailability
{
    private const string Online = "online";
    private const string Offline = "offline";

    /// <summary>How long after connecting the sink waits for the retained messages and the sources' states before it clears stale ones.</summary>
    internal static readonly TimeSpan StaleGrace = TimeSpan.FromSeconds(5);

    private readonly MqttSinkSettings _settings;
    private readonly ILogger _logger;
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _clientOptions;
    private readonly string _daemonStatusTopic;
    private readonly string _homeAssistantStatusTopic;
    private readonly string _discoveryFilter;
    private readonly string _statusFilter;
    private readonly ConcurrentDictionary<string, byte> _retainedSeen = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly ConcurrentDictionary<string, PublishedSource> _sources = new(StringComparer.Ordinal);
    // Serializes what is retained (states, discovery) between the pump and the monitor, so the latest always wins.
    private readonly SemaphoreSlim _retainedLock = new(1, 1);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private readonly ArrayBufferWriter<byte> _captionBuffer = new(512);
    private readonly ArrayBufferWriter<byte> _discoveryBuffer = new(1024);
    private readonly Task _monitor;
    // Completed (and replaced) at every connection: the host's pump waits on it to deliver as soon as the broker is back.
    private volatile TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _rediscover;
    private long _staleCheckAt = long.MaxValue;
    private int _connections;
    private bool _disposed;

    public MqttSink(string name, MqttSinkSettings settings, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(logger);
        Name = name;
        _settings = settings;
        _logger = logger;
        _daemonStatusTopic = $"{settings.TopicPrefix}/status";
        _homeAssistantStatusTopic = $"{settings.HomeAssistantPrefix}/status";
        _discoveryFilter = $"{settings.HomeAssistantPrefix}/+/{settings.HomeAssistantNodeId}/+/config";
        _statusFilter = $"{settings.TopicPrefix}/+/status";
        _clientOptions = BuildClientOptions(settings);
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageReceivedAsync;
        _monitor = Task.Run(() => MonitorAsync(_stop.Token));
    }

    public string Name { get; }

    /// <summary>True while connected to the broker.</summary>
    public bool IsConnected => _client.IsConnected;

    /// <summary>How many times the sink has connected (1 after the first connection, 2 after the first reconnection...).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Why the last connection attempt failed, or null after a successful one.</summary>
    public string? LastConnectError { get; private set; }

    /// <inheritdoc/>
    public Task WaitUntilAvailableAsync(CancellationToken cancellationToken)
    {
        // Read before the check: a connection made in between has completed this one.
        var connected = _connected;
        return _client.IsConnected ? Task.CompletedTask : connected.Task.WaitAsync(cancellationToken);
    }

    public async Task PublishAsync(IReadOnlyList<Caption> captions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(captions);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_client.IsConnected)
        {
            throw new SinkUnavailableException($"Not connected to {_settings.BrokerDisplay}");
        }

        try
        {
            foreach (var caption in captions)
            {
                var source = Known(caption.SourceId);
                if (_settings.HomeAssistantEnabled && source.AnnouncedIn != Connections)
                {
                    await _retainedLock.WaitAsync(cancellationToken).ConfigureAwait(false);
                    try
                    {
                        await AnnounceAsync(source, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        _retainedLock.Release();
                    }
                }

                var message = new MqttApplicationMessageBuilder()
                    .WithTopic(source.CaptionTopic)
                    .WithPayload(MqttPayloads.Caption(caption, _captionBuffer))
                    .WithContentType("application/json")
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                    .Build();
                var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
                CheckPublished(result, source.CaptionTopic);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (IsConnectionProblem(ex))
        {
            throw new SinkUnavailableException($"Lost the connection to {_settings.BrokerDisplay}: {ex.Message}", ex);
        }
    }

    public Task PublishStatusAsync(SourceStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        return UpdateRetainedAsync(status.SourceId, async source =>
        {
            source.Status = MqttPayloads.Status(status);
            if (!_client.IsConnected)
            {
                return; // kept: the next connection publishes the latest state of every source
            }

            await PublishRetainedAsync(source.StatusTopic, source.Status, cancellationToken).ConfigureAwait(false);
            if (_settings.HomeAssistantEnabled && source.AnnouncedIn != Connections)
            {
                await AnnounceAsync(source, cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken);
    }

    public Task PublishDescriptionAsync(SourceDescription description, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(description);
        return UpdateRetainedAsync(description.SourceId, async source =>
        {
            source.Labels = description.Labels;
            source.AnnouncedIn = 0; // the event types changed: announce again
            if (_settings.HomeAssistantEnabled && _client.IsConnected)
            {
                await AnnounceAsync(source, cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Changes what is retained for a source under <see cref="_retainedLock"/>. A lost connection is not the pump's to
    /// retry: the change is kept, and the next connection publishes every source's latest state and discovery.
    /// </summary>
    private async Task UpdateRetainedAsync(string sourceId, Func<PublishedSource, Task> update, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var source = Known(sourceId);
        await _retainedLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await update(source).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (IsConnectionProblem(ex))
        {
            LogStatusDeferred(_logger, Name, sourceId, ex.Message);
        }
        finally
        {
            _retainedLock.Release();
        }
    }

    public async Task PublishLevelAsync(SourceLevel level, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(level);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_settings.LevelInterval <= TimeSpan.Zero || !_client.IsConnected)
        {
            return; // levels are the latest only: one that cannot go now is replaced by the next
        }

        var source = Known(level.SourceId);
        if (source.LevelSentAt is { } sent && _time.GetElapsedTime(sent) < _settings.LevelInterval)
        {
            return;
        }

        try
        {
            var message = new MqttApplicationMessageBuilder()
                .WithTopic(source.LevelTopic)
                .WithPayload(MqttPayloads.Level(level))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce)
                .Build();
            await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            source.LevelSentAt = _time.GetTimestamp();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (IsConnectionProblem(ex))
        {
            LogStatusDeferred(_logger, Name, level.SourceId, ex.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _monitor.ConfigureAwait(false);
        if (_client.IsConnected)
        {
            using var timeout = new CancellationTokenSource(_settings.Timeout);
            try
            {
                // Said cleanly: a normal disconnection does not fire the Will.
                await PublishRetainedAsync(_daemonStatusTopic, Offline, timeout.Token).ConfigureAwait(false);
                var options = new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build();
                await _client.DisconnectAsync(options, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsConnectionProblem(ex))
            {
                // The broker went away while we said goodbye: it publishes the Will (offline) instead.
                LogGoodbyeFailed(_logger, Name, ex.Message);
            }
        }

        _client.ApplicationMessageReceivedAsync -= OnMessageReceivedAsync;
        _client.Dispose();
        _stop.Dispose();
        _retainedLock.Dispose();
    }

    private async Task MonitorAsync(CancellationToken cancellationToken)
    {
        var connected = false;
        var failureLogged = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (await _client.TryPingAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (_rediscover)
                    {
                        _rediscover = false;
                        await AnnounceAllAsync(cancellationToken).ConfigureAwait(false);
                    }

                    if (_time.GetTimestamp() >= Interlocked.Read(ref _staleCheckAt))
                    {
                        Interlocked.Exchange(ref _staleCheckAt, long.MaxValue);
                        await RemoveStaleAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                else
                {
                    if (connected)
                    {
                        connected = false;
                        LogConnectionLost(_logger, Name, _settings.BrokerDisplay);
                    }

                    var result = await _client.ConnectAsync(_clientOptions, cancellationToken).ConfigureAwait(false);
                    if (result.ResultCode != MqttClientConnectResultCode.Success)
                    {
                        throw new MqttCommunicationException($"The broker refused the connection: {result.ResultCode} {result.ReasonString}".TrimEnd());
                    }

                    await OnConnectedAsync(cancellationToken).ConfigureAwait(false);
                    Interlocked.Exchange(ref _connected, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                    connected = true;
                    failureLogged = false;
                    LastConnectError = null;
                    LogConnected(_logger, Name, _settings.BrokerDisplay, _settings.ClientId);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // An unreachable or refusing broker is retried for ever (that is what outages look like); logged once
                // per outage, and the host's outbox keeps the captions meanwhile.
                LastConnectError = ex.Message;
                if (!failureLogged)
                {
                    failureLogged = true;
                    LogConnectFailed(_logger, Name, _settings.BrokerDisplay, ex.Message);
                }
                else
                {
                    LogConnectRetryFailed(_logger, ex, Name, _settings.BrokerDisplay, ex.Message);
                }
            }

            try
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                wait.CancelAfter(_settings.ReconnectDelay);
                await _wake.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false);
                _wake.Reader.TryRead(out _);
            }
            catch (OperationCanceledException)
            {
                // The delay elapsed, or the sink is stopping (checked by the loop).
            }
        }
    }

    /// <summary>
    /// Counts the connection and announces everything, holding <see cref="_retainedLock"/> throughout: whoever sees the
    /// new connection count publishes after this, so a state is not sent twice by a race with the announcement.
    /// </summary>
    private async Task OnConnectedAsync(CancellationToken cancellationToken)
    {
        await _retainedLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Interlocked.Increment(ref _connections);
            await PublishRetainedAsync(_daemonStatusTopic, Online, cancellationToken).ConfigureAwait(false);
            // The retained states (and discovery) of earlier runs arrive on these: what no current source owns is
            // cleared once the sources have had time to say who they are.
            _retainedSeen.Clear();
            await _client.SubscribeAsync(_statusFilter, MqttQualityOfServiceLevel.AtLeastOnce, cancellationToken).ConfigureAwait(false);
            if (_settings.HomeAssistantEnabled)
            {
                // Home Assistant says "online" here when it (re)starts and then needs the discovery again.
                await _client.SubscribeAsync(_homeAssistantStatusTopic, MqttQualityOfServiceLevel.AtLeastOnce, cancellationToken).ConfigureAwait(false);
                await _client.SubscribeAsync(_discoveryFilter, MqttQualityOfServiceLevel.AtLeastOnce, cancellationToken).ConfigureAwait(false);
            }

            Interlocked.Exchange(ref _staleCheckAt, _time.GetTimestamp() + (long)(StaleGrace.TotalSeconds * _time.TimestampFrequency));
            await AnnounceAllLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _retainedLock.Release();
        }
    }

    /// <summary>Clears the retained states and discovery that an earlier run left for sources that no longer exist.</summary>
    private async Task RemoveStaleAsync(CancellationToken cancellationToken)
    {
        await _retainedLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = _sources.Values.SelectMany(s => s.RetainedTopics).ToHashSet(StringComparer.Ordinal);
            foreach (var topic in _retainedSeen.Keys.Where(t => !current.Contains(t)).Order(StringComparer.Ordinal))
            {
                // An empty retained message deletes the retained one; for a discovery topic it removes the entity.
                var message = new MqttApplicationMessageBuilder()
                    .WithTopic(topic)
                    .WithPayload(Array.Empty<byte>())
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                    .WithRetainFlag()
                    .Build();
                var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
                CheckPublished(result, topic);
                _retainedSeen.TryRemove(topic, out _);
                LogStaleRemoved(_logger, Name, topic);
            }
        }
        finally
        {
            _retainedLock.Release();
        }
    }

    /// <summary>Publishes the latest state and (when enabled) the discovery of every known source.</summary>
    private async Task AnnounceAllAsync(CancellationToken cancellationToken)
    {
        await _retainedLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await AnnounceAllLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _retainedLock.Release();
        }
    }

    /// <summary><see cref="AnnounceAllAsync"/> for a caller that holds <see cref="_retainedLock"/>.</summary>
    private async Task AnnounceAllLockedAsync(CancellationToken cancellationToken)
    {
        foreach (var source in _sources.Values)
        {
            if (source.Status is { } status)
            {
                await PublishRetainedAsync(source.StatusTopic, status, cancellationToken).ConfigureAwait(false);
            }

            if (_settings.HomeAssistantEnabled)
            {
                await AnnounceAsync(source, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Home Assistant discovery of one source (event, caption sensor, level sensor); the caller holds <see cref="_retainedLock"/>.</summary>
    private async Task AnnounceAsync(PublishedSource source, CancellationToken cancellationToken)
    {
        var connection = Connections;
        await PublishDiscoveryAsync(source.EventDiscoveryTopic, MqttPayloads.HomeAssistantEvent(_settings, source, _discoveryBuffer), cancellationToken).ConfigureAwait(false);
        await PublishDiscoveryAsync(source.CaptionDiscoveryTopic, MqttPayloads.HomeAssistantCaptionSensor(_settings, source, _discoveryBuffer), cancellationToken).ConfigureAwait(false);
        await PublishDiscoveryAsync(source.LevelDiscoveryTopic, MqttPayloads.HomeAssistantLevelSensor(_settings, source, _discoveryBuffer), cancellationToken).ConfigureAwait(false);
        source.AnnouncedIn = connection;
    }

    private async Task PublishDiscoveryAsync(string topic, byte[] payload, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag()
            .Build();
        var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        CheckPublished(result, topic);
    }

    private async Task PublishRetainedAsync(string topic, string payload, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag()
            .Build();
        var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        CheckPublished(result, topic);
    }

    private Task OnMessageReceivedAsync(MqttApplicationMessageReceivedEventArgs args)
    {
        var message = args.ApplicationMessage;
        if (message.Retain && message.Payload.Length > 0 && !string.Equals(message.Topic, _homeAssistantStatusTopic, StringComparison.Ordinal))
        {
            _retainedSeen.TryAdd(message.Topic, 0);
            return Task.CompletedTask;
        }

        if (string.Equals(message.Topic, _homeAssistantStatusTopic, StringComparison.Ordinal)
            && string.Equals(Encoding.UTF8.GetString(message.Payload).Trim(), Online, StringComparison.OrdinalIgnoreCase))
        {
            // Not published from here: this handler runs on the client's receive loop, which must stay free to
            // receive the PUBACKs. The monitor loop re-sends the discovery.
            _rediscover = true;
            _wake.Writer.TryWrite(true);
        }

        return Task.CompletedTask;
    }

    private PublishedSource Known(string sourceId) => _sources.GetOrAdd(sourceId, static (id, settings) => new PublishedSource(id, settings), _settings);

    private void CheckPublished(MqttClientPublishResult result, string topic)
    {
        switch (result.ReasonCode)
        {
            case MqttClientPublishReasonCode.Success:
            case MqttClientPublishReasonCode.NoMatchingSubscribers:
                return;
            case MqttClientPublishReasonCode.QuotaExceeded:
            case MqttClientPublishReasonCode.UnspecifiedError:
            case MqttClientPublishReasonCode.ImplementationSpecificError:
            case MqttClientPublishReasonCode.PacketIdentifierInUse:
                throw new SinkUnavailableException($"{_settings.BrokerDisplay} did not take {topic}: {result.ReasonCode} {result.ReasonString}".TrimEnd());
            default:
                // NotAuthorized, TopicNameInvalid, PayloadFormatInvalid: retrying cannot help; the host disables the sink.
                throw new InvalidOperationException($"{_settings.BrokerDisplay} refused {topic}: {result.ReasonCode} {result.ReasonString}".TrimEnd());
        }
    }

    private static bool IsConnectionProblem(Exception ex) =>
        ex is MqttCommunicationException or IOException or SocketException or OperationCanceledException or ObjectDisposedException;

    private static MqttClientOptions BuildClientOptions(MqttSinkSettings settings)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(settings.Host, settings.Port)
            .WithClientId(settings.ClientId)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(true)
            .WithTimeout(settings.Timeout)
            .WithWillTopic($"{settings.TopicPrefix}/status")
            .WithWillPayload(Offline)
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        builder = settings.KeepAlive > TimeSpan.Zero ? builder.WithKeepAlivePeriod(settings.KeepAlive) : builder.WithNoKeepAlive();
        if (settings.Username is not null)
        {
            builder = builder.WithCredentials(settings.Username, settings.Password is null ? null : Encoding.UTF8.GetBytes(settings.Password));
        }

        if (settings.UseTls)
        {
            builder = builder.WithTlsOptions(tls => tls
                .UseTls()
                .WithTargetHost(settings.Host)
                .WithCertificateValidationHandler(args => IsTrusted(settings, args)));
        }

        return builder.Build();
    }

    private static bool IsTrusted(MqttSinkSettings settings, MqttClientCertificateValidationEventArgs args)
    {
        if (settings.AllowUntrustedCertificates || args.SslPolicyErrors == SslPolicyErrors.None)
        {
            return true;
        }

        // Only an unknown root may be overridden by Tls:CaFile; a wrong host name or a missing certificate may not.
        if (settings.TrustedCertificates is null || args.Certificate is null || args.SslPolicyErrors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(settings.TrustedCertificates);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (args.Chain is not null)
        {
            foreach (var element in args.Chain.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        var certificate = args.Certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(args.Certificate.GetRawCertData());
        return chain.Build(certificate);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT sink {Sink} connected to {Broker} as {ClientId}")]
    private static partial void LogConnected(ILogger logger, string sink, string broker, string clientId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT sink {Sink} lost its connection to {Broker}; reconnecting")]
    private static partial void LogConnectionLost(ILogger logger, string sink, string broker);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT sink {Sink} cannot connect to {Broker}: {Reason}; retrying")]
    private static partial void LogConnectFailed(ILogger logger, string sink, string broker, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "MQTT sink {Sink} still cannot connect to {Broker}: {Reason}")]
    private static partial void LogConnectRetryFailed(ILogger logger, Exception exception, string sink, string broker, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "MQTT sink {Sink}: state of {Source} kept for the next connection ({Reason})")]
    private static partial void LogStatusDeferred(ILogger logger, string sink, string source, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT sink {Sink} cleared {Topic}: no current source owns it")]
    private static partial void LogStaleRemoved(ILogger logger, string sink, string topic);

    [LoggerMessage(Level = LogLevel.Debug, Message = "MQTT sink {Sink} could not say offline before disconnecting ({Reason}); the Will says it")]
    private static partial void LogGoodbyeFailed(ILogger logger, string sink, string reason);
}
