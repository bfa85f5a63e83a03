using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Ui;

/// <summary>
/// The live page on <c>Metrics:Listen</c>: <c>/</c> (HTML, CSS and script embedded in the assembly; nothing is fetched
/// from elsewhere), <c>/events</c> (Server-Sent Events: captions and levels), <c>/audio</c> (a window of a source's kept
/// audio as WAV). The page reads everything else (sources, model, sinks, problems) from <c>/healthz</c>.
/// </summary>
internal static class LivePage
{
    /// <summary>The longest stretch of audio one request may ask for.</summary>
    public static readonly TimeSpan MaxAudio = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan _keepAlive = TimeSpan.FromSeconds(15);

    private static readonly (string Path, string Resource, string ContentType)[] _files =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/page.css", "page.css", "text/css; charset=utf-8"),
        ("/page.js", "page.js", "text/javascript; charset=utf-8"),
        ("/favicon.ico", "favicon.svg", "image/svg+xml"),
    ];

    /// <summary>Registers the page's options (<c>Ui</c>, validated at start-up); all that <c>check-config</c> needs.</summary>
    public static IServiceCollection AddUiOptions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptionsWithValidateOnStart<UiOptions>().Bind(configuration.GetSection(UiOptions.SectionName));
        services.AddSingleton<IValidateOptions<UiOptions>, UiOptionsValidator>();
        return services;
    }

    /// <summary>
    /// Registers the page: its options, the <see cref="LiveFeed"/>, the <see cref="RecentAudio"/> rings and the
    /// <see cref="RemoteAccess"/> check. Needs <c>ModelRuntime</c> (the rings' sample rate) and <c>DaemonMetrics</c>.
    /// </summary>
    public static IServiceCollection AddLivePage(this IServiceCollection services, IConfiguration configuration, System.Net.IPEndPoint listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        services.AddUiOptions(configuration);
        services.AddSingleton<LiveFeed>();
        services.AddSingleton(sp => new RecentAudio(
            sp.GetRequiredService<IOptions<UiOptions>>(),
            sp.GetRequiredService<Scheduling.ModelRuntime>().SampleRate));
        services.AddSingleton(sp => new RemoteAccess(
            listen,
            sp.GetRequiredService<IOptions<UiOptions>>(),
            Hosting.DaemonConfiguration.StateDirectory(configuration),
            sp.GetRequiredService<ILogger<RemoteAccess>>()));
        services.AddHostedService(sp => sp.GetRequiredService<RemoteAccess>());
        return services;
    }

    /// <summary>Puts the credential check in front of every endpoint and maps the page's own.</summary>
    /// <remarks>Resolves nothing now: the options are validated when <c>run</c> starts, after the app is built.</remarks>
    public static void MapLivePage(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use((context, next) => context.RequestServices.GetRequiredService<RemoteAccess>().InvokeAsync(context, next));
        MapPageEndpoints(app, app.Lifetime.ApplicationStopping);
    }

    /// <summary>
    /// Maps <c>/</c>, its files, <c>/events</c> and <c>/audio</c>; the <see cref="LiveFeed"/> and <see cref="RecentAudio"/>
    /// come from the endpoints' services (also used by the <c>streams</c> benchmark).
    /// </summary>
    /// <param name="endpoints">Where to map them.</param>
    /// <param name="stopping">Ends the event streams when the daemon stops, so that they do not hold up its shutdown.</param>
    public static void MapPageEndpoints(IEndpointRouteBuilder endpoints, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        foreach (var (path, resource, contentType) in _files)
        {
            var bytes = Resource(resource);
            endpoints.MapGet(path, (HttpContext context) =>
            {
                SecurityHeaders(context.Response);
                return Results.Bytes(bytes, contentType);
            });
        }

        endpoints.MapGet("/events", (HttpContext context, LiveFeed feed, RecentAudio audio) => StreamEventsAsync(context, feed, audio, stopping));
        endpoints.MapGet("/audio", (HttpContext context, RecentAudio audio) => AudioAsync(context, audio));
    }

    private static void SecurityHeaders(HttpResponse response)
    {
        // Everything the page uses comes from this daemon; the audio it plays is fetched and handed over as a blob.
        response.Headers.ContentSecurityPolicy = "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; frame-ancestors 'none'";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.CacheControl = "no-cache";
    }

    private static byte[] Resource(string name)
    {
        var assembly = typeof(LivePage).Assembly;
        using var stream = assembly.GetManifestResourceStream("CaptionDaemon.Ui.Page." + name)
            ?? throw new InvalidOperationException($"The page's resource {name} is not embedded in {assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static async Task StreamEventsAsync(HttpContext context, LiveFeed feed, RecentAudio audio, CancellationToken stopping)
    {
        var response = context.Response;
        using var watcher = feed.Watch();
        if (watcher is null)
        {
            response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await response.WriteAsync($"captiond: {LiveFeed.MaxWatchers} pages already watch; close one\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        try
        {
            var hello = string.Create(CultureInfo.InvariantCulture, $"event: hello\ndata: {{\"keep_audio_seconds\":{audio.KeepSeconds}}}\n\n");
            await response.WriteAsync(hello, stop.Token).ConfigureAwait(false);
            await response.Body.FlushAsync(stop.Token).ConfigureAwait(false);
            var events = watcher.Events;
            while (!stop.IsCancellationRequested)
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                quiet.CancelAfter(_keepAlive);
                try
                {
                    if (!await events.WaitToReadAsync(quiet.Token).ConfigureAwait(false))
                        return;
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    // Nothing to say for a while: a comment keeps proxies from closing the stream and finds a gone client.
                    await response.WriteAsync(": keep-alive\n\n", stop.Token).ConfigureAwait(false);
                    await response.Body.FlushAsync(stop.Token).ConfigureAwait(false);
                    continue;
                }

                while (events.TryRead(out var message))
                    await response.WriteAsync(message, stop.Token).ConfigureAwait(false);
                await response.Body.FlushAsync(stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The page went away or the daemon stops: the stream simply ends.
        }
    }

    private static Task AudioAsync(HttpContext context, RecentAudio audio)
    {
        var query = context.Request.Query;
        var source = query["source"].ToString();
        if (!TryTime(query["start"].ToString(), out var start) || !TryTime(query["end"].ToString(), out var end) || end <= start || end - start > MaxAudio)
            return Text(context, StatusCodes.Status400BadRequest, $"expected /audio?source=ID&start=TIME&end=TIME, ISO 8601 UTC, at most {MaxAudio.TotalSeconds:0} s apart");
        if (!audio.Enabled)
            return Text(context, StatusCodes.Status404NotFound, "no audio is kept: Ui:KeepAudioSeconds is 0 (off by default, for privacy)");
        if (!audio.TryGet(source, out var ring) || ring is null)
            return Text(context, StatusCodes.Status404NotFound, $"no audio is kept for source '{source}'");
        switch (ring.Read(start, end, out var samples))
        {
            case RingReadResult.Gone:
                return Text(context, StatusCodes.Status410Gone, $"this window's audio has left the ring: only the last {audio.KeepSeconds:0.#} s of each source are kept (Ui:KeepAudioSeconds)");
            case RingReadResult.NotYet:
                return Text(context, StatusCodes.Status409Conflict, "this window has not been heard yet");
        }

        var wav = Wave(samples, ring.SampleRate);
        context.Response.ContentType = "audio/wav";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentLength = wav.Length;
        return context.Response.Body.WriteAsync(wav, context.RequestAborted).AsTask();
    }

    private static Task Text(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync($"captiond: {message}\n", context.RequestAborted);
    }

    private static bool TryTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    /// <summary>A 16-bit mono PCM WAV file of <paramref name="samples"/>.</summary>
    internal static byte[] Wave(ReadOnlySpan<short> samples, int sampleRate)
    {
        const int Header = 44;
        var data = samples.Length * 2;
        var wav = new byte[Header + data];
        var span = wav.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], Header - 8 + data);
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], sampleRate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 16);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], data);
        for (var i = 0; i < samples.Length; i++)
            BinaryPrimitives.WriteInt16LittleEndian(span[(Header + (2 * i))..], samples[i]);
        return wav;
    }
}
