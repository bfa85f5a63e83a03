using System.Net;
using CaptionDaemon.Ui;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Benchmarks.Streams;

/// <summary>
/// N live pages held open during a <c>streams</c> run: the daemon's own page endpoints on Kestrel (loopback, a free
/// port) over the run's <see cref="LiveFeed"/>, and N HTTP clients reading <c>/events</c> as a browser's EventSource
/// does. The clients run in this process, so their (small) cost of reading counts in the run's CPU as well.
/// </summary>
internal sealed class PageWatchers : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _readers = [];
    private long _eventsReceived;

    private PageWatchers(WebApplication app, HttpClient http)
    {
        _app = app;
        _http = http;
    }

    /// <summary>Events (captions and levels) all the clients received so far.</summary>
    public long EventsReceived => Interlocked.Read(ref _eventsReceived);

    /// <summary>Serves the page over <paramref name="feed"/> and connects <paramref name="clients"/> event-stream clients.</summary>
    public static async Task<PageWatchers> StartAsync(LiveFeed feed, RecentAudio audio, int clients, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton(feed);
        builder.Services.AddSingleton(audio);
        var app = builder.Build();
        LivePage.MapPageEndpoints(app, app.Lifetime.ApplicationStopping);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var watchers = new PageWatchers(app, new HttpClient { BaseAddress = new Uri(address), Timeout = Timeout.InfiniteTimeSpan });
        for (var i = 0; i < clients; i++)
            watchers._readers.Add(Task.Run(() => watchers.ReadAsync(watchers._stop.Token), CancellationToken.None));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (feed.WatcherCount < clients)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Only {feed.WatcherCount} of {clients} page clients connected to {address}/events.");
            await Task.Delay(50, cancellationToken);
        }

        return watchers;
    }

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync("/events", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                    Interlocked.Increment(ref _eventsReceived);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run ended: the page closes.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_readers);
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stop.Dispose();
    }
}
