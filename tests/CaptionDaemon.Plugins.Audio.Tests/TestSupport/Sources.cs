using CaptionDaemon.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Plugins.Audio.Tests.TestSupport;

/// <summary>Creates sources the way the host does: through the plugin's registered factory and a configuration section.</summary>
public static class Sources
{
    public const string Id = "test";

    public static IAudioSourceFactory Factory(string typeName)
    {
        var services = new ServiceCollection();
        new AudioPlugin().Register(services);
        return services
            .Where(d => d.ServiceType == typeof(IAudioSourceFactory))
            .Select(d => (IAudioSourceFactory)Activator.CreateInstance(d.ImplementationType!, nonPublic: true)!)
            .Single(f => f.TypeName == typeName);
    }

    public static IAudioSource Create(string typeName, IReadOnlyDictionary<string, string?> settings, ILogger? logger = null, ISourceStatusReporter? status = null) =>
        Factory(typeName).Create(Context(settings, logger, status));

    public static AudioSourceContext Context(IReadOnlyDictionary<string, string?> settings, ILogger? logger = null, ISourceStatusReporter? status = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(kv => new KeyValuePair<string, string?>($"Sources:{Id}:{kv.Key}", kv.Value)))
            .Build();
        return new AudioSourceContext
        {
            Id = Id,
            Settings = configuration.GetSection($"Sources:{Id}"),
            Logger = logger ?? new RecordingLogger(),
            Status = status ?? new RecordingStatus(),
        };
    }
}
