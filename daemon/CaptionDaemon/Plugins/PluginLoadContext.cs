using System.Reflection;
using System.Runtime.Loader;

namespace CaptionDaemon.Plugins;

/// <summary>
/// One plugin's assemblies. The contracts assembly and the Microsoft.Extensions abstractions come from the host
/// (so that <c>IAudioSource</c> is one type on both sides); everything else the plugin ships is loaded from its own
/// folder through its deps.json, so two plugins may carry different versions of the same library.
/// </summary>
internal sealed class PluginLoadContext : AssemblyLoadContext
{
    private static readonly HashSet<string> _hostAssemblies = HostAssemblyNames();
    private readonly AssemblyDependencyResolver _resolver;

    public PluginLoadContext(string mainAssemblyPath)
        : base(Path.GetFileNameWithoutExtension(mainAssemblyPath))
    {
        _resolver = new AssemblyDependencyResolver(mainAssemblyPath);
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (IsShared(assemblyName.Name))
            return null;
        var path = _resolver.ResolveAssemblyToPath(assemblyName);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }

    /// <summary>True for assemblies that must be the host's own: the plugin contract and the abstractions it uses.</summary>
    internal static bool IsShared(string? name) =>
        name is not null
        && (name == "CaptionDaemon.Contracts" || name.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal))
        && _hostAssemblies.Contains(name);

    private static HashSet<string> HostAssemblyNames()
    {
        var list = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? string.Empty;
        return list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);
    }
}
