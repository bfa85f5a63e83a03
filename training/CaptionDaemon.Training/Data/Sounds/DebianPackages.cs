using System.Formats.Tar;
using System.Globalization;

namespace CaptionDaemon.Training.Data.Sounds;

/// <summary>A member wanted from a package: <paramref name="Matches"/> tests a path relative to the package root (no "./").</summary>
/// <remarks>A request for one exact path says so in <paramref name="ExactName"/>, so that thousands of them are looked up, not each tried.</remarks>
internal sealed record MemberRequest(string Key, Func<string, bool> Matches, string? ExactName = null)
{
    /// <summary>A request for exactly <paramref name="name"/>.</summary>
    public static MemberRequest Exact(string key, string name) => new(key, n => n == name, name);
}

/// <summary>What apt knows about a package before it is downloaded.</summary>
internal sealed record DebianPackageInfo(string Name, string Version, long SizeBytes);

/// <summary>A problem with apt or dpkg for one package; the message names the package and quotes the tool.</summary>
internal sealed class DebianPackageException : Exception
{
    public DebianPackageException()
        : base("A Debian package could not be fetched.")
    {
    }

    public DebianPackageException(string message)
        : base(message)
    {
    }

    public DebianPackageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Gets files out of Debian packages without installing them: <c>apt-cache show</c> for the size, <c>apt-get download</c>
/// for the .deb, and <c>dpkg-deb --fsys-tarfile</c> piped into <see cref="TarReader"/>, which picks exactly the wanted
/// members from the stream (no second tool, no full extraction of a 600 MB game package).
/// </summary>
internal static class DebianPackages
{
    /// <summary>Size and version of the candidate version apt would download.</summary>
    public static async Task<DebianPackageInfo> ShowAsync(string package, CancellationToken cancellationToken)
    {
        var result = await ExternalTool.RunAsync("apt-cache", ["show", "--no-all-versions", package], null, cancellationToken);
        if (result.ExitCode != 0 || result.StandardOutput.Trim().Length == 0)
        {
            throw new DebianPackageException(
                $"apt does not know package '{package}' (apt-cache show: {ExternalTool.Tail(result.StandardError)}); run 'apt-get update' first, and check that the Debian 12 main archive is in the sources.");
        }

        string? version = null;
        long? size = null;
        foreach (var line in result.StandardOutput.Split('\n'))
        {
            if (line.StartsWith("Version:", StringComparison.Ordinal))
            {
                version ??= line["Version:".Length..].Trim();
            }
            else if (line.StartsWith("Size:", StringComparison.Ordinal)
                && long.TryParse(line["Size:".Length..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var bytes))
            {
                size ??= bytes;
            }
        }

        return version is null || size is null
            ? throw new DebianPackageException($"apt-cache show '{package}' printed no Version or Size field.")
            : new DebianPackageInfo(package, version, size.Value);
    }

    /// <summary>Downloads the .deb into <paramref name="directory"/> unless it is already there; returns its path.</summary>
    public static async Task<string> DownloadAsync(DebianPackageInfo package, string directory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        // apt names the file <name>_<version with ':' escaped as %3a>_<arch>.deb.
        var prefix = $"{package.Name}_{package.Version.Replace(":", "%3a", StringComparison.Ordinal)}_";
        var existing = FindDeb(directory, prefix);
        if (existing is not null)
        {
            return existing;
        }

        var result = await ExternalTool.RunAsync("apt-get", ["download", "-q", package.Name], directory, cancellationToken);
        var deb = FindDeb(directory, prefix);
        if (result.ExitCode != 0 || deb is null)
        {
            throw new DebianPackageException(
                $"apt-get download {package.Name} failed (exit code {result.ExitCode}): {ExternalTool.Tail(result.StandardError)}");
        }

        return deb;
    }

    /// <summary>The regular files of a package (paths from the package root, no "./"); links are left out, they name files listed anyway.</summary>
    public static async Task<IReadOnlyList<string>> ListAsync(string debPath, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        using var process = ExternalTool.Start("dpkg-deb", ["--fsys-tarfile", debPath]);
        using var registration = cancellationToken.Register(() => ExternalTool.Kill(process));
        var stderrTask = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await using var tar = new TarReader(process.StandardOutput.BaseStream, leaveOpen: true);
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                {
                    names.Add(Normalize(entry.Name));
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
        {
            ExternalTool.Kill(process);
            throw new DebianPackageException($"Cannot read the file system of '{debPath}': {ex.Message} (dpkg-deb: {ExternalTool.Tail(await stderrTask)}); delete the file to download it again.", ex);
        }

        await process.WaitForExitAsync(CancellationToken.None);
        var errors = await stderrTask;
        cancellationToken.ThrowIfCancellationRequested();
        return process.ExitCode == 0
            ? names
            : throw new DebianPackageException($"dpkg-deb --fsys-tarfile '{debPath}' failed (exit code {process.ExitCode}): {ExternalTool.Tail(errors)}");
    }

    /// <summary>
    /// Extracts into <paramref name="destination"/> (keeping paths relative to the package root) the first member that
    /// each request matches. Symbolic and hard links are followed inside the package. Returns, per request key that was
    /// satisfied, the extracted file; requests that matched nothing are absent.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, string>> ExtractAsync(
        string debPath, IReadOnlyCollection<MemberRequest> requests, string destination, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        var pending = requests.ToList();
        // A link's target may come before the link in the archive, so a second pass looks for the targets.
        for (var pass = 0; pass < 3 && pending.Count > 0; pass++)
        {
            pending = await ExtractPassAsync(debPath, pending, destination, found, cancellationToken);
        }

        return found;
    }

    /// <summary>One read through the package; returns the requests that turned out to be links, now aimed at their targets.</summary>
    private static async Task<List<MemberRequest>> ExtractPassAsync(
        string debPath,
        List<MemberRequest> pending,
        string destination,
        Dictionary<string, string> found,
        CancellationToken cancellationToken)
    {
        var open = new HashSet<MemberRequest>(pending, ReferenceEqualityComparer.Instance);
        var exact = pending.Where(r => r.ExactName is not null).GroupBy(r => r.ExactName!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var patterns = pending.Where(r => r.ExactName is null).ToList();
        var links = new List<MemberRequest>();
        using var process = ExternalTool.Start("dpkg-deb", ["--fsys-tarfile", debPath]);
        using var registration = cancellationToken.Register(() => ExternalTool.Kill(process));
        var stderrTask = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var stoppedEarly = false;
        try
        {
            await using var tar = new TarReader(process.StandardOutput.BaseStream, leaveOpen: true);
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                var name = Normalize(entry.Name);
                var matched = exact.TryGetValue(name, out var byName) ? new List<MemberRequest>(byName) : [];
                matched.AddRange(patterns.Where(r => r.Matches(name)));
                if (matched.Count == 0)
                {
                    continue;
                }

                if (entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink)
                {
                    var target = entry.EntryType == TarEntryType.HardLink
                        ? Normalize(entry.LinkName)
                        : ResolveLink(name, entry.LinkName);
                    links.AddRange(matched.Select(r => MemberRequest.Exact(r.Key, target)));
                }
                else if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                {
                    var file = Path.Combine(destination, name);
                    Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                    await entry.ExtractToFileAsync(file, overwrite: true, cancellationToken);
                    foreach (var request in matched)
                    {
                        found[request.Key] = file;
                    }
                }
                else
                {
                    continue;
                }

                foreach (var request in matched)
                {
                    open.Remove(request);
                    patterns.Remove(request);
                    if (request.ExactName is { } exactName && exact.TryGetValue(exactName, out var same))
                    {
                        same.Remove(request);
                    }
                }

                if (open.Count == 0)
                {
                    // Everything wanted is out; the rest of a large package need not be decompressed.
                    stoppedEarly = true;
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
        {
            ExternalTool.Kill(process);
            var stderr = await stderrTask;
            throw new DebianPackageException(
                $"Cannot read the file system of '{debPath}': {ex.Message} (dpkg-deb: {ExternalTool.Tail(stderr)}); delete the file to download it again.",
                ex);
        }
        finally
        {
            if (stoppedEarly || cancellationToken.IsCancellationRequested)
            {
                ExternalTool.Kill(process);
            }
        }

        await process.WaitForExitAsync(CancellationToken.None);
        var errors = await stderrTask;
        cancellationToken.ThrowIfCancellationRequested();
        if (!stoppedEarly && process.ExitCode != 0)
        {
            throw new DebianPackageException(
                $"dpkg-deb --fsys-tarfile '{debPath}' failed (exit code {process.ExitCode}): {ExternalTool.Tail(errors)}; delete the file to download it again.");
        }

        return links;
    }

    /// <summary>Paths in a .deb's tar start with "./"; the catalog's do not.</summary>
    private static string Normalize(string name)
    {
        var trimmed = name.StartsWith("./", StringComparison.Ordinal) ? name[2..] : name;
        return trimmed.TrimStart('/');
    }

    /// <summary>A symbolic link's target as a path from the package root.</summary>
    private static string ResolveLink(string linkPath, string target)
    {
        if (target.StartsWith('/'))
        {
            return Normalize(target);
        }

        var parts = new List<string>(linkPath.Split('/')[..^1]);
        foreach (var part in target.Split('/'))
        {
            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }
            }
            else if (part is not "." and not "")
            {
                parts.Add(part);
            }
        }

        return string.Join('/', parts);
    }

    private static string? FindDeb(string directory, string prefix)
        => Directory.EnumerateFiles(directory, prefix + "*.deb").Order(StringComparer.Ordinal).FirstOrDefault();
}
