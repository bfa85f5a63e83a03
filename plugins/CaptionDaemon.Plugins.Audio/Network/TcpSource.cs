using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Pcm;
using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Plugins.Audio.Network;

/// <summary>
/// Reads headerless PCM from a TCP stream, either accepting one sender at a time or dialling a server and redialling
/// with backoff. TCP splits frames anywhere, so the bytes of an incomplete frame are carried into the next read.
/// </summary>
internal sealed partial class TcpSource : IAudioSource
{
    private const int ReadBytes = 16_384;
    private readonly TcpEndPoint _endPoint;
    private readonly RawPcmFormat _pcm;
    private readonly TimeSpan _maxBackoff;
    private readonly ILogger _logger;
    private readonly ISourceStatusReporter _status;
    private readonly MalformedAudioTally _tally;
    private readonly LiveTimeline _timeline;
    private readonly byte[] _bytes;
    private readonly float[] _samples;
    private volatile IPEndPoint? _localEndPoint;

    public TcpSource(string id, TcpEndPoint endPoint, RawPcmFormat pcm, TimeSpan maxBackoff, ILogger logger, ISourceStatusReporter status)
        : this(id, endPoint, pcm, maxBackoff, logger, status, TimeProvider.System)
    {
    }

    /// <summary>With the clock that spaces the malformed-audio warnings and dates chunks after a gap.</summary>
    internal TcpSource(
        string id, TcpEndPoint endPoint, RawPcmFormat pcm, TimeSpan maxBackoff, ILogger logger, ISourceStatusReporter status, TimeProvider time)
    {
        Id = id;
        _endPoint = endPoint;
        _pcm = pcm;
        _maxBackoff = maxBackoff;
        _logger = logger;
        _status = status;
        _tally = new MalformedAudioTally(logger, TimeSpan.FromSeconds(10), time);
        _timeline = new LiveTimeline(pcm.Format.SampleRate, pcm.Format.Channels, time);
        // Whole frames per read, plus room for the carried remainder of one frame.
        _bytes = new byte[(ReadBytes / pcm.FrameBytes + 1) * pcm.FrameBytes];
        _samples = new float[_bytes.Length / SampleDecoder.BytesPerSample(pcm.Encoding)];
    }

    public string Id { get; }

    public AudioFormat Format => _pcm.Format;

    /// <summary>A connection that delivers nothing for this long is closed as stalled (<c>StallTimeoutSeconds</c>).</summary>
    internal TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>In Listen mode, the address actually bound (the real port when port 0 was configured); else null.</summary>
    internal IPEndPoint? LocalEndPoint => _localEndPoint;

    public IAsyncEnumerable<AudioChunk> ReadAsync(CancellationToken cancellationToken) =>
        _endPoint.Listen is { } listen ? AcceptAsync(listen, cancellationToken) : DialAsync(_endPoint.Host!, _endPoint.Port, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async IAsyncEnumerable<AudioChunk> AcceptAsync(IPEndPoint listen, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var listener = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (listen.Address.Equals(IPAddress.IPv6Any))
            listener.DualMode = true;
        listener.Bind(listen);
        listener.Listen(backlog: 4);
        _localEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        LogListening(_logger, _localEndPoint);
        while (true)
        {
            var connection = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var remote = connection.RemoteEndPoint?.ToString() ?? "?";
                LogSenderConnected(_logger, remote);
                ConfigureKeepAlive(connection);
                var outcome = new ConnectionOutcome();
                await foreach (var chunk in ReceiveAsync(connection, outcome, cancellationToken).ConfigureAwait(false))
                    yield return chunk;
                LogSenderDisconnected(_logger, remote, outcome.Error ?? "it closed the connection");
                var waiting = $"waiting for a sender on tcp {_localEndPoint}";
                _status.Report(SourceState.Reconnecting, outcome.Stalled ? $"{waiting} (sender {remote} stalled: {outcome.Error})" : waiting);
            }
            finally
            {
                connection.Dispose();
            }
        }
    }

    private async IAsyncEnumerable<AudioChunk> DialAsync(string host, int port, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var backoff = new ReconnectBackoff(_maxBackoff);
        while (true)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            string problem;
            try
            {
                string? connectError = null;
                try
                {
                    await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException ex)
                {
                    connectError = ex.Message;
                }

                if (connectError is null)
                {
                    LogConnected(_logger, host, port);
                    ConfigureKeepAlive(socket);
                    var outcome = new ConnectionOutcome();
                    await foreach (var chunk in ReceiveAsync(socket, outcome, cancellationToken).ConfigureAwait(false))
                        yield return chunk;
                    if (outcome.Delivered)
                        backoff.Reset();
                    problem = outcome.Error ?? "the server closed the connection";
                }
                else
                {
                    problem = connectError;
                }
            }
            finally
            {
                socket.Dispose();
            }

            var wait = backoff.Next();
            _status.Report(SourceState.Reconnecting, string.Create(CultureInfo.InvariantCulture,
                $"tcp {host}:{port}: {problem} (retrying in {wait.TotalSeconds:0} s)"));
            LogRetrying(_logger, host, port, problem, wait.TotalSeconds);
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Yields one connection's audio until the peer closes it or it fails; says which in <paramref name="outcome"/>.</summary>
    private async IAsyncEnumerable<AudioChunk> ReceiveAsync(
        Socket socket, ConnectionOutcome outcome, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var frameBytes = _pcm.FrameBytes;
        var bytesPerSample = SampleDecoder.BytesPerSample(_pcm.Encoding);
        var carried = 0;
        _timeline.Restart();
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            int received;
            stall.CancelAfter(StallTimeout);
            try
            {
                received = await socket.ReceiveAsync(_bytes.AsMemory(carried), SocketFlags.None, stall.Token).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                outcome.Error = ex.Message;
                received = 0;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Connected but silent: a sender that hung (or a half-open connection) must not hold the source.
                outcome.Error = string.Create(CultureInfo.InvariantCulture, $"no audio for {StallTimeout.TotalSeconds:0} s");
                outcome.Stalled = true;
                LogStalled(_logger, Id, StallTimeout.TotalSeconds);
                break;
            }

            if (!stall.TryReset())
                break; // cancelled just as data came: the source is stopping
            if (received == 0)
                break;

            var total = carried + received;
            var whole = total / frameBytes * frameBytes;
            carried = total - whole;
            if (whole == 0)
                continue;
            _tally.NonFinite(SampleDecoder.Decode(_pcm.Encoding, _bytes.AsSpan(0, whole), _samples));
            _tally.WarnIfDue();
            // Move the incomplete frame to the front now: the samples are decoded, the bytes are free.
            _bytes.AsSpan(whole, carried).CopyTo(_bytes);
            if (!outcome.Delivered)
            {
                outcome.Delivered = true;
                _status.Report(SourceState.Online);
            }
            var count = whole / bytesPerSample;
            yield return new AudioChunk(_samples.AsMemory(0, count), _timeline.Stamp(count));
        }

        if (carried > 0)
        {
            _tally.PartialFrame(carried);
            _tally.WarnIfDue();
        }
    }

    // A sender that vanishes without closing (power loss, cable) is noticed within about 30 s instead of never.
    private static void ConfigureKeepAlive(Socket socket)
    {
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 15);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 5);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for a PCM sender on tcp {EndPoint}")]
    private static partial void LogListening(ILogger logger, IPEndPoint endPoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Source {Source}: no audio for {Seconds} s (StallTimeoutSeconds); closing the connection")]
    private static partial void LogStalled(ILogger logger, string source, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sender {Remote} connected")]
    private static partial void LogSenderConnected(ILogger logger, string remote);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sender {Remote} disconnected: {Reason}")]
    private static partial void LogSenderDisconnected(ILogger logger, string remote, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to tcp {Host}:{Port}")]
    private static partial void LogConnected(ILogger logger, string host, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "tcp {Host}:{Port}: {Problem}; retrying in {Seconds} s")]
    private static partial void LogRetrying(ILogger logger, string host, int port, string problem, double seconds);

    /// <summary>How one connection ended, filled in by <see cref="ReceiveAsync"/> (an iterator cannot return a value).</summary>
    private sealed class ConnectionOutcome
    {
        public bool Delivered { get; set; }

        public string? Error { get; set; }

        public bool Stalled { get; set; }
    }
}
