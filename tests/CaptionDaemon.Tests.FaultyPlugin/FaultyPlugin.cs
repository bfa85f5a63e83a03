using System.Runtime.CompilerServices;
using CaptionDaemon.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace CaptionDaemon.Tests.FaultyPlugin;

/// <summary>
/// Registers a source type <c>faulty</c> that delivers <c>Chunks</c> chunks of a tone and then throws, and a sink type
/// <c>faulty</c> that throws on its first batch: a plugin that fails at run time.
/// </summary>
public sealed class FaultyPlugin : ICaptionDaemonPlugin
{
    public void Register(IServiceCollection services)
    {
        services.AddSingleton<IAudioSourceFactory, FaultySourceFactory>();
        services.AddSingleton<ICaptionSinkFactory, FaultySinkFactory>();
    }
}

internal sealed class FaultySourceFactory : IAudioSourceFactory
{
    public string TypeName => "faulty";

    public IAudioSource Create(AudioSourceContext context) =>
        new FaultySource(context.Id, int.Parse(context.Settings["Chunks"] ?? "10", System.Globalization.CultureInfo.InvariantCulture));
}

internal sealed class FaultySource(string id, int chunks) : IAudioSource
{
    public string Id => id;

    public AudioFormat Format => AudioFormat.Mono16k;

    public async IAsyncEnumerable<AudioChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = new float[1600];
        for (var i = 0; i < buffer.Length; i++)
            buffer[i] = 0.3f * MathF.Sin(2 * MathF.PI * 440 * i / 16000f);
        for (var i = 0; i < chunks; i++)
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            yield return new AudioChunk(buffer);
        }
        throw new InvalidOperationException("faulty source: simulated device failure");
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

internal sealed class FaultySinkFactory : ICaptionSinkFactory
{
    public string TypeName => "faulty";

    public ICaptionSink Create(CaptionSinkContext context) => new FaultySink(context.Name);
}

internal sealed class FaultySink(string name) : ICaptionSink
{
    public string Name => name;

    public Task PublishAsync(IReadOnlyList<Caption> captions, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("faulty sink: simulated bug");

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
