using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace CaptionDaemon.Tests.EndToEnd;

/// <summary>A real HTTP endpoint on loopback for webhook sinks: answers every request with <see cref="Status"/> and keeps each body.</summary>
internal sealed class LoopbackHook : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<string> _bodies = new();
    private readonly Task _loop;
    private volatile int _status;

    public LoopbackHook(int status = 204)
    {
        _status = status;
        Url = $"http://127.0.0.1:{DaemonProcess.FreePort()}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    /// <summary>The status code every request gets from now on.</summary>
    public int Status
    {
        get => _status;
        set => _status = value;
    }

    public IReadOnlyCollection<string> Bodies => _bodies;

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The listener was closed under the loop: that is how it ends.
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
                _bodies.Enqueue(await reader.ReadToEndAsync());
            context.Response.StatusCode = _status;
            context.Response.Close();
        }
    }
}
