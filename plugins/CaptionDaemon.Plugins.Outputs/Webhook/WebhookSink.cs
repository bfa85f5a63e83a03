using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Shared;

namespace CaptionDaemon.Plugins.Outputs.Webhook;

/// <summary>POSTs captions as JSON to an HTTP endpoint.</summary>
/// <remarks>
/// 2xx: delivered. No answer in time, no connection, 5xx, 408 and 429: <see cref="SinkUnavailableException"/>, the
/// host keeps the captions and retries. Any other status (4xx, an unfollowed 3xx) means the request or the settings
/// are wrong and retrying cannot help: <see cref="InvalidOperationException"/>, which makes the host disable the sink.
/// </remarks>
internal sealed class WebhookSink : ICaptionSink
{
    // How much of an error response's body goes into the exception message.
    private const int BodyExcerptBytes = 512;

    private readonly HttpClient _client;
    private readonly Uri _url;
    private readonly TimeSpan _timeout;
    private readonly bool _batch;
    private readonly PayloadBuffer _body = new(16 * 1024);
    private readonly Utf8JsonWriter _writer;
    private readonly byte[] _excerpt = new byte[BodyExcerptBytes];

    // Unbatched: the last caption delivered before a POST of the same batch failed; the host retries the whole batch
    // and this lets the retry start after it instead of sending the endpoint duplicates.
    private Caption? _deliveredBeforeFailure;

    public WebhookSink(string name, HttpClient client, Uri url, TimeSpan timeout, bool batch)
    {
        Name = name;
        _client = client;
        _url = url;
        _timeout = timeout;
        _batch = batch;
        _writer = new Utf8JsonWriter(_body, CaptionWireFormat.WriterOptions);

        // The query may hold a token; messages and logs show the URL without it.
        DisplayUrl = url.GetLeftPart(UriPartial.Path);
    }

    public string Name { get; }

    /// <summary>The URL as messages show it: without its query.</summary>
    public string DisplayUrl { get; }

    public async Task PublishAsync(IReadOnlyList<Caption> captions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(captions);
        if (captions.Count == 0)
        {
            return;
        }

        if (_batch)
        {
            _body.Clear();
            _writer.Reset(_body);
            // A JSON array of captions, each exactly as MQTT and jsonl write it.
            _writer.WriteStartArray();
            for (var i = 0; i < captions.Count; i++)
            {
                CaptionWireFormat.Write(_writer, captions[i]);
            }

            _writer.WriteEndArray();
            _writer.Flush();
            await PostAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var next = FirstUndelivered(captions);
        try
        {
            for (; next < captions.Count; next++)
            {
                _body.Clear();
                _writer.Reset(_body);
                CaptionWireFormat.Write(_writer, captions[next]);
                _writer.Flush();
                await PostAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // After a failure, remember what was delivered so that the host's retry of this batch skips it.
            _deliveredBeforeFailure = next > 0 && next < captions.Count ? captions[next - 1] : null;
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return _writer.DisposeAsync();
    }

    private int FirstUndelivered(IReadOnlyList<Caption> captions)
    {
        if (_deliveredBeforeFailure is null)
        {
            return 0;
        }

        for (var i = 0; i < captions.Count; i++)
        {
            if (ReferenceEquals(captions[i], _deliveredBeforeFailure))
            {
                return i + 1;
            }
        }

        return 0;
    }

    private async Task PostAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        try
        {
            using var content = new ReadOnlyMemoryContent(_body.Written);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = content };
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is >= 200 and <= 299)
            {
                return;
            }

            var excerpt = await ReadExcerptAsync(response, deadline.Token).ConfigureAwait(false);
            var answer = $"{status} ({response.ReasonPhrase}){(excerpt.Length > 0 ? ": " + excerpt : string.Empty)}";
            if (status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests)
            {
                throw new SinkUnavailableException($"Webhook {DisplayUrl} answered {answer}");
            }

            throw new InvalidOperationException(
                $"Webhook {DisplayUrl} rejected the captions with {answer}. A {status} says that the request or the sink's settings are wrong; retrying cannot help.");
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            // Report the caller's token, not the linked deadline's, so the host sees its own cancellation.
            throw new OperationCanceledException(ex.Message, ex, cancellationToken);
        }
        catch (OperationCanceledException ex)
        {
            throw new SinkUnavailableException($"Webhook {DisplayUrl} did not answer within {_timeout.TotalSeconds} s", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new SinkUnavailableException($"Webhook {DisplayUrl} is unreachable: {ex.Message}", ex);
        }
    }

    private async Task<string> ReadExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var length = 0;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                int read;
                while (length < _excerpt.Length && (read = await stream.ReadAsync(_excerpt.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    length += read;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            // The body only decorates the message; the status code decides what happens to the captions.
        }

        // Cut at a character boundary: the excerpt may end inside a multi-byte character.
        return Encoding.UTF8.GetString(_excerpt, 0, length).Trim().TrimEnd('\uFFFD');
    }
}
