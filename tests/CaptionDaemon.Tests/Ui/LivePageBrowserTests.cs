using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CaptionDaemon.Tests.EndToEnd;
using CaptionDaemon.Tests.Scheduling;

namespace CaptionDaemon.Tests.Ui;

/// <summary>
/// The live page in a real browser: the built captiond binary with the shipped model, captioning real recordings
/// through its ffmpeg source in real time, and Debian's headless chromium loading the page from it.
/// </summary>
public sealed partial class LivePageBrowserTests : IDisposable
{
    private const string SourceId = "scenes";
    private static readonly TimeSpan _captionTimeout = TimeSpan.FromSeconds(90);

    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("page-");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public async Task Page_InHeadlessChromium_ShowsLiveCaptionsAMovingMeterAndPlaysTheirWindow()
    {
        // Three of the demo's real scenes one after the other, read by ffmpeg in real time and again when they end.
        var list = Path.Combine(_temp.FullName, "scenes.txt");
        await File.WriteAllLinesAsync(list, RepositoryFiles.Samples.Take(3).Select(f => $"file '{f}'"));
        var captions = Path.Combine(_temp.FullName, "captions.jsonl");
        var config = Path.Combine(_temp.FullName, "captiond.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Sources = new Dictionary<string, object>
            {
                [SourceId] = new { Type = "ffmpeg", Input = list, InputFormat = "concat", InputOptions = new[] { "-safe", "0" }, Realtime = true, Restart = "always" },
            },
            Sinks = new { file = new { Type = "jsonl", Path = captions } },
            Broker = new { Enabled = false },
            Ui = new { KeepAudioSeconds = 60 },
            StateDirectory = Path.Combine(_temp.FullName, "state"),
        }));
        var port = DaemonProcess.FreePort();
        var page = new Uri($"http://127.0.0.1:{port}/");
        await using var daemon = DaemonProcess.Start(["run", "--config", config, "--metrics", $"127.0.0.1:{port}"]);
        using var http = new HttpClient { BaseAddress = page };

        // Nobody watches yet: windows are captioned, and nothing is done for the page.
        await WaitForFileLineAsync(captions, daemon);
        var unwatched = await http.GetStringAsync("/metrics");
        Assert.True(Metric(unwatched, "captiond_windows_processed_total") > 0, unwatched);
        Assert.Equal(0, Metric(unwatched, "captiond_ui_events_total"));

        await using var chromium = await HeadlessChromium.StartAsync(TimeSpan.FromSeconds(30));
        await using var tab = await chromium.OpenPageAsync();
        await tab.SetViewportAsync(1280, 900, mobile: false);
        await tab.NavigateAsync(page);

        // A caption of the recording appears, the one the daemon published to its jsonl sink.
        var shown = (await tab.WaitForAsync("(() => { const c = document.querySelector('.caption'); return c ? [Number(c.dataset.seq), c.querySelector('.text').textContent] : null; })()", _captionTimeout, daemon.Output)).AsArray();
        var published = await PublishedAsync(captions, (long)shown[0]!.GetValue<double>());
        Assert.Equal(published[(long)shown[0]!.GetValue<double>()]["text"]!.GetValue<string>(), shown[1]!.GetValue<string>());
        Assert.Matches(@"^\d+(\.\d)?%$", (await tab.EvaluateAsync("document.querySelector('.caption .confidence').textContent"))!.GetValue<string>());
        Assert.NotEqual(string.Empty, (await tab.EvaluateAsync("document.querySelector('.caption time').dateTime"))!.GetValue<string>());

        // Newest first.
        var sequence = (await tab.WaitForAsync(
            "(() => { const s = [...document.querySelectorAll('.caption')].map(c => Number(c.dataset.seq)); return s.length >= 2 ? s : null; })()",
            _captionTimeout,
            daemon.Output)).AsArray().Select(n => n!.GetValue<double>()).ToList();
        Assert.Equal(sequence.OrderDescending(), sequence);

        // Each row carries its caption's labels, as the jsonl sink got them.
        var rows = (await tab.EvaluateAsync("[...document.querySelectorAll('.caption')].map(c => [Number(c.dataset.seq), [...c.querySelectorAll('.label')].map(l => l.textContent)])"))!.AsArray();
        published = await PublishedAsync(captions, sequence.Max(s => (long)s));
        foreach (var row in rows)
        {
            var shownLabels = row![1]!.AsArray().Select(l => l!.GetValue<string>().Split(' ')[0]).ToList();
            var labels = published[(long)row[0]!.GetValue<double>()]["labels"]!.AsArray().Select(l => l!["label"]!.GetValue<string>());
            Assert.Equal(labels, shownLabels);
        }

        // The level meter moves: levels of successive windows of the recording differ.
        var levels = new HashSet<string>(StringComparer.Ordinal);
        var widths = new HashSet<string>(StringComparer.Ordinal);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((levels.Count < 2 || widths.Count < 2) && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            var meter = await tab.EvaluateAsync($"(() => {{ const m = document.querySelector('[data-source=\"{SourceId}\"] .meter'); return m && m.dataset.dbfs ? [m.dataset.dbfs, m.querySelector('.bar').style.width] : null; }})()");
            if (meter is JsonArray pair)
            {
                levels.Add(pair[0]!.GetValue<string>());
                widths.Add(pair[1]!.GetValue<string>());
            }

            await Task.Delay(300);
        }

        Assert.True(levels.Count >= 2 && widths.Count >= 2, $"the meter did not move: levels {string.Join(", ", levels)}, widths {string.Join(", ", widths)}");
        Assert.All(levels, l => Assert.InRange(double.Parse(l, CultureInfo.InvariantCulture), -90, 0));

        // The source's status, the model and its execution provider, the sink and its outbox, from /healthz.
        await tab.WaitForAsync($"document.querySelector('[data-source=\"{SourceId}\"] .badge')?.textContent === 'online' ? true : null", TimeSpan.FromSeconds(10));
        var model = (await tab.EvaluateAsync("document.getElementById('model').textContent"))!.GetValue<string>();
        Assert.Contains(RepositoryFiles.DefaultModelName, model, StringComparison.Ordinal);
        Assert.Contains(" on cpu", model, StringComparison.Ordinal);
        var sink = (await tab.EvaluateAsync("[...document.querySelectorAll('#sinks tr[data-sink=\"file\"] td')].map(td => td.textContent)"))!.AsArray();
        Assert.Equal(["file", "jsonl", "running"], sink.Take(3).Select(c => c!.GetValue<string>()));
        Assert.Matches(@"^\d+$", sink[3]!.GetValue<string>());

        // Everything came from the daemon: no other origin was asked for anything.
        var foreign = (await tab.EvaluateAsync("performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin))"))!.AsArray();
        Assert.Empty(foreign);

        // With a page open, the daemon formats captions and levels for it.
        var watched = await http.GetStringAsync("/metrics");
        Assert.True(Metric(watched, "captiond_ui_events_total") > 0, watched);
        Assert.Equal(1, Metric(watched, "captiond_ui_pages"));

        // A caption row opens to play back its 10 s window from the kept audio.
        await tab.EvaluateAsync("document.querySelector('.caption summary').click()");
        var playback = (await tab.WaitForAsync(
            "(() => { const p = document.querySelector('.caption .playback'); const a = p.querySelector('audio');"
            + " return a ? (isFinite(a.duration) ? a.duration : null) : (p.textContent.startsWith('Loading') ? null : p.textContent); })()",
            TimeSpan.FromSeconds(30),
            daemon.Output))!;
        Assert.True(playback.GetValueKind() == JsonValueKind.Number, $"the caption's window did not play: {playback}");
        Assert.InRange(playback.GetValue<double>(), 9.99, 10.01);

        // A window whose audio has left the ring says so.
        var old = DateTimeOffset.UtcNow.AddHours(-2);
        using var gone = await http.GetAsync($"/audio?source={SourceId}&start={old:yyyy-MM-ddTHH:mm:ss.fffZ}&end={old.AddSeconds(10):yyyy-MM-ddTHH:mm:ss.fffZ}");
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        Assert.Contains("left the ring", await gone.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var wide = await tab.ScreenshotAsync();
        AssertScreenshot(wide, 1280, 900);
        await SaveAsync(wide, "live-page.png");

        // A phone: the page fits its width (nothing to scroll sideways) and still shows the captions.
        await tab.SetViewportAsync(390, 844, mobile: true);
        await tab.WaitForAsync("document.documentElement.scrollWidth <= window.innerWidth ? true : null", TimeSpan.FromSeconds(5),
            () => "scrollWidth exceeds the phone's width");
        Assert.True((await tab.EvaluateAsync("document.querySelector('.caption .text').getBoundingClientRect().right <= window.innerWidth"))!.GetValue<bool>());
        var narrow = await tab.ScreenshotAsync();
        AssertScreenshot(narrow, 390, 844);
        await SaveAsync(narrow, "live-page-phone.png");
    }

    /// <summary>The screenshot decodes, has the viewport's size and shows a page: many colours, no one colour nearly everywhere.</summary>
    private static void AssertScreenshot(byte[] png, int width, int height)
    {
        using var image = SkiaSharp.SKBitmap.Decode(png);
        Assert.NotNull(image);
        Assert.Equal((width, height), (image.Width, image.Height));
        var counts = new Dictionary<(byte, byte, byte), int>();
        for (var y = 0; y < image.Height; y += 2)
        {
            for (var x = 0; x < image.Width; x += 2)
            {
                var pixel = image.GetPixel(x, y);
                var rgb = (pixel.Red, pixel.Green, pixel.Blue);
                counts[rgb] = counts.GetValueOrDefault(rgb) + 1;
            }
        }

        var total = counts.Values.Sum();
        Assert.True(counts.Count >= 16, $"the screenshot has {counts.Count} colours: blank or nearly");
        Assert.True(counts.Values.Max() < total * 0.97, $"one colour covers {100.0 * counts.Values.Max() / total:F1}% of the screenshot");
    }

    /// <summary>Keeps a screenshot beside the test binaries, and where <c>CAPTIOND_PAGE_SCREENSHOTS</c> points (the README's).</summary>
    private static async Task SaveAsync(byte[] png, string name)
    {
        await File.WriteAllBytesAsync(Path.Combine(AppContext.BaseDirectory, name), png);
        if (Environment.GetEnvironmentVariable("CAPTIOND_PAGE_SCREENSHOTS") is { Length: > 0 } folder)
            await File.WriteAllBytesAsync(Path.Combine(folder, name), png);
    }

    /// <summary>The captions the jsonl sink wrote, by sequence number, once it has written <paramref name="seq"/> (the page may show a caption a moment before the sink delivers it).</summary>
    private static async Task<Dictionary<long, JsonNode>> PublishedAsync(string path, long seq)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var captions = File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!).ToDictionary(c => c["seq"]!.GetValue<long>());
            if (captions.ContainsKey(seq) || clock.Elapsed > TimeSpan.FromSeconds(15))
                return captions;
            await Task.Delay(100);
        }
    }

    private static async Task WaitForFileLineAsync(string path, DaemonProcess daemon)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < _captionTimeout)
        {
            if (File.Exists(path) && File.ReadLines(path).Any(l => l.Length > 0))
                return;
            if (daemon.HasExited)
                break;
            await Task.Delay(200);
        }

        throw new TimeoutException($"no caption reached {path}:\n{daemon.Output()}");
    }

    /// <summary>The sum of a metric's samples in Prometheus text; 0 when it is absent (a counter appears at its first increment).</summary>
    internal static double Metric(string exposition, string name) =>
        MetricLine().Matches(exposition)
            .Where(m => m.Groups["name"].Value == name)
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(?<name>[a-z_]+)(\{[^}]*\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex MetricLine();
}
