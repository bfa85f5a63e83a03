using CaptionDaemon.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace CaptionDaemon.Plugins.Audio.Tests;

public sealed class AudioPluginTests
{
    [Fact]
    public void Register_AddsFourSingletonSourceFactories_KeyedByTypeName()
    {
        var services = new ServiceCollection();
        new AudioPlugin().Register(services);

        var factories = services.Where(d => d.ServiceType == typeof(IAudioSourceFactory)).ToList();
        Assert.All(factories, d => Assert.Equal(ServiceLifetime.Singleton, d.Lifetime));
        Assert.All(factories, d => Assert.True(d.ImplementationType is { IsPublic: false, IsSealed: true }, $"{d.ImplementationType} should be internal and sealed"));
        var names = factories.Select(d => ((IAudioSourceFactory)Activator.CreateInstance(d.ImplementationType!, nonPublic: true)!).TypeName).Order();
        Assert.Equal(["ffmpeg", "tcp", "udp", "wav"], names);
    }

    [Fact]
    public void Assembly_ExportsOnlyThePluginEntryPoint()
    {
        Assert.Equal([typeof(AudioPlugin)], typeof(AudioPlugin).Assembly.GetExportedTypes());
    }
}
