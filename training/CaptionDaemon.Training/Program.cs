using System.CommandLine;

namespace CaptionDaemon.Training;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("captiond-train: build the captioning models that captiond runs.");
        foreach (var command in TrainCommands.All())
        {
            root.Subcommands.Add(command);
        }

        return root.Parse(args).Invoke();
    }
}
