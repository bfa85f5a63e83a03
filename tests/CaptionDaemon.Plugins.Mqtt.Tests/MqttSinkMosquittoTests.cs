using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using CaptionDaemon.Contracts;
using CaptionDaemon.Tests.Mqtt;
using Xunit.Abstractions;

namespace CaptionDaemon.Plugins.Mqtt.Tests;

/// <summary>The sink against a real mosquitto, watched by real <c>mosquitto_sub</c> processes.</summary>
public sealed partial class MqttSinkMosquittoTests(ITestOutputHelper output)
{
    [Fact]
    public async Task PublishAsync_MosquittoSub_SeesCaptionTopicAndPayloadShapeInOrder()
    {
        using var broker = await MosquittoBroker.StartAsync();
        using var subscriber = await MosquittoSubscriber.StartAsync(broker, "captiond/#");
        await using var sink = MqttTestSinks.Create(output, broker.Port, ("HomeAssistant:Enabled", "false"));
        await MqttTestSinks.WaitConnectedAsync(sink);

        await sink.PublishStatusAsync(new SourceStatus("kitchen", SourceState.Online, null, DateTimeOffset.UtcNow), CancellationToken.None);
        await sink.PublishAsync([.. Enumerable.Range(1, 4).Select(i => MqttTestSinks.Caption("kitchen", i))], CancellationToken.None);

        await subscriber.WaitForAsync(s => s.PayloadsOf("captiond/kitchen/caption").Count == 4, "4 captions");
        Assert.Contains("online", subscriber.PayloadsOf("captiond/status"));
        Assert.Contains("online", subscriber.PayloadsOf("captiond/kitchen/status"));
        var payloads = subscriber.PayloadsOf("captiond/kitchen/caption").Select(p => JsonDocument.Parse(p).RootElement).ToList();
        Assert.Equal([1L, 2, 3, 4], payloads.Select(p => p.GetProperty("seq").GetInt64()));
        foreach (var payload in payloads)
        {
            Assert.Equal(["source", "seq", "run", "start", "end", "text", "confidence", "model", "latency_ms", "labels"], payload.EnumerateObject().Select(p => p.Name));
            Assert.Matches(Iso8601Utc(), payload.GetProperty("start").GetString());
            Assert.Matches(Iso8601Utc(), payload.GetProperty("end").GetString());
            Assert.Equal(JsonValueKind.Number, payload.GetProperty("confidence").ValueKind);
            Assert.Equal(JsonValueKind.Number, payload.GetProperty("latency_ms").ValueKind);
        }
    }

    [Fact]
    public async Task DisposeAsync_AfterStates_RetainsOfflineAndEachSourceState()
    {
        using var broker = await MosquittoBroker.StartAsync();
        var sink = MqttTestSinks.Create(output, broker.Port, ("HomeAssistant:Enabled", "false"));
        await MqttTestSinks.WaitConnectedAsync(sink);
        await sink.PublishStatusAsync(new SourceStatus("hall/door", SourceState.Error, "ffmpeg exited with 1", DateTimeOffset.UtcNow), CancellationToken.None);
        await sink.PublishStatusAsync(new SourceStatus("kitchen", SourceState.Reconnecting, "connection refused", DateTimeOffset.UtcNow), CancellationToken.None);

        await sink.DisposeAsync();

        // A subscriber that comes later gets the retained messages only.
        using var late = await MosquittoSubscriber.StartAsync(broker, "captiond/#");
        await late.WaitForAsync(s => s.Lines.Count == 3, "3 retained messages");
        Assert.Equal(["offline"], late.PayloadsOf("captiond/status"));
        Assert.Equal(["error: ffmpeg exited with 1"], late.PayloadsOf("captiond/hall%2Fdoor/status"));
        Assert.Equal(["reconnecting: connection refused"], late.PayloadsOf("captiond/kitchen/status"));
    }

    [Fact]
    public async Task HomeAssistant_SourceSeen_DiscoverySentAndResentWhenHomeAssistantComesOnline()
    {
        using var broker = await MosquittoBroker.StartAsync();
        using var subscriber = await MosquittoSubscriber.StartAsync(broker, "homeassistant/#");
        await using var sink = MqttTestSinks.Create(output, broker.Port, ("ClientId", "captiond-ha-test"));
        await MqttTestSinks.WaitConnectedAsync(sink);
        const string ConfigTopic = "homeassistant/event/testnode/hall_door/config";

        await sink.PublishAsync([MqttTestSinks.Caption("hall/door", 1)], CancellationToken.None);
        await subscriber.WaitForAsync(s => s.PayloadsOf(ConfigTopic).Count >= 1, "the discovery");
        var sent = subscriber.PayloadsOf(ConfigTopic).Count;
        await broker.WaitForLogAsync("Sending SUBACK to captiond-ha-test"); // subscribed to homeassistant/status
        await broker.PublishAsync("homeassistant/status", "online");

        await subscriber.WaitForAsync(s => s.PayloadsOf(ConfigTopic).Count > sent, "the discovery again");
        var config = JsonDocument.Parse(subscriber.PayloadsOf(ConfigTopic)[^1]).RootElement;
        Assert.Equal("captiond/hall%2Fdoor/caption", config.GetProperty("state_topic").GetString());
        Assert.Equal(["caption"], config.GetProperty("event_types").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["captiond/status", "captiond/hall%2Fdoor/status"], config.GetProperty("availability").EnumerateArray().Select(a => a.GetProperty("topic").GetString()));
        Assert.Equal("captiond_testnode_hall_door", config.GetProperty("unique_id").GetString());
        Assert.Equal(["captiond_testnode"], config.GetProperty("device").GetProperty("identifiers").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("'event_type': (value_json.labels[0].label if value_json.labels else 'caption')", config.GetProperty("value_template").GetString(), StringComparison.Ordinal);
        Assert.Contains("'labels': value_json.labels", config.GetProperty("value_template").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(config.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Connect_PasswordFileAndRightCredentials_Connects()
    {
        var directory = Directory.CreateTempSubdirectory("captiond-passwd-").FullName;
        var passwords = MosquittoBroker.WritePasswordFile(directory, "captiond", "s3cret:pw");
        using var broker = await MosquittoBroker.StartAsync($"allow_anonymous false\npassword_file {passwords}");
        using var subscriber = await MosquittoSubscriber.StartAsync(broker, "captiond/#", "-u", "captiond", "-P", "s3cret:pw");

        await using var sink = MqttTestSinks.Create(output, broker.Port, ("Url", $"mqtt://captiond:s3cret%3Apw@127.0.0.1:{broker.Port}"));
        await MqttTestSinks.WaitConnectedAsync(sink);
        await sink.PublishAsync([MqttTestSinks.Caption("kitchen", 1)], CancellationToken.None);

        await subscriber.WaitForAsync(s => s.PayloadsOf("captiond/kitchen/caption").Count == 1, "the caption");
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Connect_WrongPassword_RefusedAndPublishThrowsSinkUnavailable()
    {
        var directory = Directory.CreateTempSubdirectory("captiond-passwd-").FullName;
        var passwords = MosquittoBroker.WritePasswordFile(directory, "captiond", "right");
        using var broker = await MosquittoBroker.StartAsync($"allow_anonymous false\npassword_file {passwords}");

        await using var sink = MqttTestSinks.Create(output, broker.Port, ("Username", "captiond"), ("Password", "wrong"));
        await Poll.UntilAsync(() => sink.LastConnectError is not null, TimeSpan.FromSeconds(20), "a refused connection");

        Assert.False(sink.IsConnected);
        Assert.Equal(0, sink.Connections);
        await Assert.ThrowsAsync<SinkUnavailableException>(() => sink.PublishAsync([MqttTestSinks.Caption("kitchen", 1)], CancellationToken.None));
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Connect_TlsWithCaFile_ConnectsAndWithoutItRefusesTheCertificate()
    {
        var directory = Directory.CreateTempSubdirectory("captiond-tls-").FullName;
        var (caPath, certPath, keyPath) = WriteCertificates(directory);
        using var broker = await MosquittoBroker.StartAsync(listenerConfig: $"certfile {certPath}\nkeyfile {keyPath}");
        var url = $"mqtts://127.0.0.1:{broker.Port}";

        await using (var untrusting = MqttTestSinks.Create(output, broker.Port, ("Url", url)))
        {
            await Poll.UntilAsync(() => untrusting.LastConnectError is not null, TimeSpan.FromSeconds(20), "a refused certificate");
            Assert.Equal(0, untrusting.Connections);
        }

        await using var sink = MqttTestSinks.Create(output, broker.Port, ("Url", url), ("Tls:CaFile", caPath));
        await MqttTestSinks.WaitConnectedAsync(sink);
        await sink.PublishAsync([MqttTestSinks.Caption("kitchen", 1)], CancellationToken.None);
        Directory.Delete(directory, recursive: true);
    }

    private static (string Ca, string Cert, string Key) WriteCertificates(string directory)
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=captiond test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = serverRequest.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(12), [1, 2, 3, 4]);

        var caPath = Path.Combine(directory, "ca.pem");
        var certPath = Path.Combine(directory, "server.pem");
        var keyPath = Path.Combine(directory, "server.key");
        File.WriteAllText(caPath, ca.ExportCertificatePem());
        File.WriteAllText(certPath, server.ExportCertificatePem());
        File.WriteAllText(keyPath, serverKey.ExportPkcs8PrivateKeyPem());
        return (caPath, certPath, keyPath);
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")]
    private static partial Regex Iso8601Utc();
}
