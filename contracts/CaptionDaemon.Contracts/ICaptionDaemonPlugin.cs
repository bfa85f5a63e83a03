using Microsoft.Extensions.DependencyInjection;

namespace CaptionDaemon.Contracts;

/// <summary>
/// The one entry point of a plugin assembly: a public class with a parameterless constructor that registers the
/// plugin's factories, e.g. <c>services.AddSingleton&lt;IAudioSourceFactory, MySourceFactory&gt;()</c>.
/// </summary>
/// <remarks>
/// Each plugin is loaded from its own folder into its own AssemblyLoadContext; this contracts assembly and the
/// Microsoft.Extensions abstractions are shared with the host, everything else the plugin ships is its own.
/// </remarks>
public interface ICaptionDaemonPlugin
{
    /// <summary>Adds the plugin's <see cref="IAudioSourceFactory"/> and <see cref="ICaptionSinkFactory"/> services.</summary>
    void Register(IServiceCollection services);
}
