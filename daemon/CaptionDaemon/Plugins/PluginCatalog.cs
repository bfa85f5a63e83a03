using System.Reflection;
using CaptionDaemon.Contracts;

namespace CaptionDaemon.Plugins;

/// <summary>What happened to one plugin folder.</summary>
/// <param name="Name">The plugin's folder name (also its main assembly's name).</param>
/// <param name="Path">The main assembly.</param>
/// <param name="Loaded">Whether it loaded and registered its factories.</param>
/// <param name="Error">Why it did not, when it did not.</param>
/// <param name="SourceTypes">The source type names it registered.</param>
/// <param name="SinkTypes">The sink type names it registered.</param>
internal sealed record PluginReport(string Name, string Path, bool Loaded, string? Error, IReadOnlyList<string> SourceTypes, IReadOnlyList<string> SinkTypes);

/// <summary>
/// Loads every plugin under the plugin folders, each into its own <see cref="PluginLoadContext"/>, and keeps the
/// source and sink factories by type name. A plugin that fails (missing assembly, a type that does not load, a
/// registration that throws, a duplicate type name) is reported and skipped; the others load.
/// </summary>
internal sealed partial class PluginCatalog
{
    private readonly Dictionary<string, (IAudioSourceFactory Factory, string Plugin)> _sources = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (ICaptionSinkFactory Factory, string Plugin)> _sinks = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<PluginReport> _reports = [];

    private PluginCatalog()
    {
    }

    public IReadOnlyList<PluginReport> Reports => _reports;

    public IReadOnlyCollection<string> SourceTypes => _sources.Keys;

    public IReadOnlyCollection<string> SinkTypes => _sinks.Keys;

    /// <summary>Loads the plugins of every folder in order; a folder that does not exist is reported in the log only.</summary>
    public static PluginCatalog Load(IEnumerable<string> directories, ILogger logger)
    {
        var catalog = new PluginCatalog();
        foreach (var directory in directories)
        {
            if (!Directory.Exists(directory))
            {
                LogNoFolder(logger, directory);
                continue;
            }
            foreach (var folder in Directory.EnumerateDirectories(directory).Order(StringComparer.Ordinal))
                catalog.LoadFolder(folder, logger);
        }
        return catalog;
    }

    /// <summary>The factory for a source type, and the plugin that registered it.</summary>
    public bool TryGetSourceFactory(string type, out IAudioSourceFactory factory, out string plugin)
    {
        var found = _sources.TryGetValue(type, out var entry);
        (factory, plugin) = found ? entry : (null!, string.Empty);
        return found;
    }

    /// <summary>The factory for a sink type, and the plugin that registered it.</summary>
    public bool TryGetSinkFactory(string type, out ICaptionSinkFactory factory, out string plugin)
    {
        var found = _sinks.TryGetValue(type, out var entry);
        (factory, plugin) = found ? entry : (null!, string.Empty);
        return found;
    }

    private void LoadFolder(string folder, ILogger logger)
    {
        var name = System.IO.Path.GetFileName(folder);
        var path = System.IO.Path.Combine(folder, name + ".dll");
        try
        {
            if (!File.Exists(path))
                throw new FileNotFoundException($"a plugin folder must hold its main assembly named after the folder, {name}.dll");
            var context = new PluginLoadContext(path);
            var assembly = context.LoadFromAssemblyPath(path);
            // GetTypes() now, not later: a plugin built against a missing or different dependency fails here, at
            // start-up, where it is reported, instead of at its first use.
            var entryTypes = LoadableTypes(assembly)
                .Where(t => typeof(ICaptionDaemonPlugin).IsAssignableFrom(t) && t is { IsAbstract: false, IsPublic: true })
                .ToList();
            if (entryTypes.Count == 0)
                throw new InvalidOperationException($"{name}.dll has no public class implementing {nameof(ICaptionDaemonPlugin)}");

            // Register into a collection of its own first, so a plugin that throws half-way leaves nothing behind.
            var services = new ServiceCollection();
            foreach (var type in entryTypes)
            {
                var plugin = (ICaptionDaemonPlugin)(Activator.CreateInstance(type)
                    ?? throw new InvalidOperationException($"could not create {type.FullName}"));
                plugin.Register(services);
            }
            using var provider = services.BuildServiceProvider();
            var sources = provider.GetServices<IAudioSourceFactory>().ToList();
            var sinks = provider.GetServices<ICaptionSinkFactory>().ToList();
            var clash = sources.Select(f => f.TypeName).Where(_sources.ContainsKey)
                .Concat(sinks.Select(f => f.TypeName).Where(_sinks.ContainsKey))
                .FirstOrDefault();
            if (clash is not null)
            {
                var owner = _sources.TryGetValue(clash, out var s) ? s.Plugin : _sinks[clash].Plugin;
                throw new InvalidOperationException($"type name '{clash}' is already registered by plugin {owner}");
            }
            foreach (var factory in sources)
                _sources[factory.TypeName] = (factory, name);
            foreach (var factory in sinks)
                _sinks[factory.TypeName] = (factory, name);
            // The factories outlive the provider that created them: plugins register factories as plain singletons.
            _reports.Add(new PluginReport(name, path, true, null, [.. sources.Select(f => f.TypeName)], [.. sinks.Select(f => f.TypeName)]));
            LogLoaded(logger, name, path, string.Join(", ", sources.Select(f => f.TypeName).Concat(sinks.Select(f => f.TypeName))));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A broken plugin must not take the daemon down: it is reported (log, `captiond plugins`, metric) and skipped.
            var message = Describe(ex);
            _reports.Add(new PluginReport(name, path, false, message, [], []));
            LogFailed(logger, name, path, message);
        }
    }

    private static Type[] LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            var first = ex.LoaderExceptions.FirstOrDefault(e => e is not null);
            throw new InvalidOperationException($"its types do not load: {first?.Message ?? ex.Message}", ex);
        }
    }

    private static string Describe(Exception ex) =>
        ex is TargetInvocationException { InnerException: { } inner } ? inner.Message : ex.Message;

    [LoggerMessage(Level = LogLevel.Debug, Message = "No plugin folder at {Directory}")]
    private static partial void LogNoFolder(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Plugin {Plugin} loaded from {Path}: {Types}")]
    private static partial void LogLoaded(ILogger logger, string plugin, string path, string types);

    [LoggerMessage(Level = LogLevel.Error, Message = "Plugin {Plugin} from {Path} is disabled: {Error}")]
    private static partial void LogFailed(ILogger logger, string plugin, string path, string error);
}
