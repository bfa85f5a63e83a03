namespace CaptionDaemon.Training.Tests;

/// <summary>Files the tests read from the repository itself: the test data and the shipped default bundle.</summary>
internal static class RepositoryPaths
{
    /// <summary>The folder holding CaptionDaemon.sln, found upwards from the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The shipped default bundle, models/default.</summary>
    public static string DefaultModel => Path.Combine(Root, "models", "default");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "CaptionDaemon.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No CaptionDaemon.sln above {AppContext.BaseDirectory}.");
    }
}
