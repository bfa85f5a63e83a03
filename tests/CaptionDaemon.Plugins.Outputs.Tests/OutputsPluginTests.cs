using CaptionDaemon.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace CaptionDaemon.Plugins.Outputs.Tests;

public sealed class OutputsPluginTests
{
    [Fact]
    public void Register_Services_AddsTheJsonlAndWebhookSinkFactories()
    {
        var services = new ServiceCollection();

        new OutputsPlugin().Register(services);

        var typeNames = services
            .Where(descriptor => descriptor.ServiceType == typeof(ICaptionSinkFactory))
            .Select(descriptor => ((ICaptionSinkFactory)Activator.CreateInstance(descriptor.ImplementationType!)!).TypeName)
            .Order(StringComparer.Ordinal);
        Assert.Equal(["jsonl", "webhook"], typeNames);
        Assert.All(services, descriptor => Assert.Equal(ServiceLifetime.Singleton, descriptor.Lifetime));
    }
}
