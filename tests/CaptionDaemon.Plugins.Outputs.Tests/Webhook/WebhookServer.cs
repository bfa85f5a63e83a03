using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace CaptionDaemon.Plugins.Outputs.Tests.Webhook;

/// <summary>
/// A real HTTP server on a free loopback port (HttpListener) that records every request and answers with the
/// scripted responses in order, then with 200.
/// </summary>
internal sealed class WebhookServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Channel<ReceivedRequest> _received = Channel.CreateUnbounded<ReceivedRequest>();
    private readonly ConcurrentQueue<ScriptedResponse> _script = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public WebhookServer()
    {
        (_listener, Url) = StartOnFreePort();
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>The server's address, e.g. <c>http://127.0.0.1:41234/hook</c>.</summary>
    public Uri Url { get; }

    public void Answer(int status, string body = "", TimeSpan delay = default) => _script.Enqueue(new ScriptedResponse(status, body, delay));

    /// <summary>The next request the server received, waiting up to 10 s for it.</summary>
    public async Task<ReceivedRequest> NextRequestAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _received.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>Whether a request arrived that nobody has taken yet.</summary>
    public bool HasUnreadRequests => _received.Reader.TryPeek(out _);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private static (HttpListener Listener, Uri Url) StartOnFreePort()
    {
        // HttpListener cannot bind port 0: take a port the kernel just handed out, and try again if it was taken since.
        for (var attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();

            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return (listener, new Uri($"http://127.0.0.1:{port}/hook"));
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                listener.Close();
            }
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                // The listener was closed by DisposeAsync.
                return;
            }

            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        try
        {
            using var reader = new StreamReader(context.Request.InputStream);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers.AllKeys.Where(key => key is not null)
                .ToDictionary(key => key!, key => context.Request.Headers[key]!, StringComparer.OrdinalIgnoreCase);
            await _received.Writer.WriteAsync(new ReceivedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, headers, body));

            var response = _script.TryDequeue(out var scripted) ? scripted : new ScriptedResponse(200, string.Empty, TimeSpan.Zero);
            if (response.Delay > TimeSpan.Zero)
            {
                await Task.Delay(response.Delay, _stop.Token);
            }

            context.Response.StatusCode = response.Status;
            var bytes = System.Text.Encoding.UTF8.GetBytes(response.Body);
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // The server is closing (a delayed answer that the client gave up on).
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away (a timed-out request); the test looks at what the client saw.
        }
    }

    private sealed record ScriptedResponse(int Status, string Body, TimeSpan Delay);
}

internal sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);
