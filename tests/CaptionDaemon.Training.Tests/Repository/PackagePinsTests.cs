using System.Xml.Linq;

namespace CaptionDaemon.Training.Tests.Repository;

/// <summary>Central package management: every version pinned in Directory.Packages.props is referenced by a project.</summary>
public sealed class PackagePinsTests
{
    [Fact]
    public void DirectoryPackagesProps_EveryPin_IsReferencedByAProjectOrBuildFile()
    {
        var root = RepositoryPaths.Root;
        var pinned = XDocument.Load(Path.Combine(root, "Directory.Packages.props"))
            .Descendants("PackageVersion").Select(e => (string)e.Attribute("Include")!).ToArray();
        var buildFiles = Directory.EnumerateFiles(root, "*.csproj", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "build"), "*.*"))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"));
        var referenced = buildFiles
            .SelectMany(f => XDocument.Load(f).Descendants("PackageReference").Select(e => (string?)e.Attribute("Include")))
            .OfType<string>()
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

        var unused = pinned.Where(p => !referenced.Contains(p)).ToArray();

        Assert.NotEmpty(pinned);
        Assert.True(unused.Length == 0, "pinned but referenced by no project: " + string.Join(", ", unused));
    }
}
