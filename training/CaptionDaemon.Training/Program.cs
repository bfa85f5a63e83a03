using System.CommandLine;
using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Sounds;
using CaptionDaemon.Training.Training;
using CaptionDaemon.Training.Training.Features;

namespace CaptionDaemon.Training;

internal static class Program
{
    private static int Main(string[] args) => Run(args, Console.Error);

    /// <summary>
    /// Runs a command line. A failure that is the user's to fix (a missing bundle, data in the wrong layout, an audio file
    /// that does not decode) is one line on <paramref name="error"/> and exit code 1, not a stack trace.
    /// </summary>
    internal static int Run(string[] args, TextWriter error)
    {
        var root = new RootCommand("captiond-train: build the captioning models that captiond runs.");
        foreach (var command in TrainCommands.All())
        {
            root.Subcommands.Add(command);
        }

        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (UserMessage(ex) is { } message)
        {
            error.WriteLine($"captiond-train: {message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C or SIGTERM: the command stopped where it was; what it had saved stays (training checkpoints every
            // --checkpoint-minutes and at epoch ends), so this is not a crash to report with a stack trace.
            error.WriteLine("captiond-train: stopped by a signal before it finished; a training run continues from its last checkpoint with --resume");
            return 130;
        }
    }

    /// <summary>
    /// The message of a failure that is the user's to fix, or null for a bug. Work spread over threads (Parallel.For in
    /// fetch, scenes, features) throws an <see cref="AggregateException"/>: it is the user's when every exception in it is,
    /// and its message is then the first one's (a missing ffmpeg fails every worker the same way).
    /// </summary>
    internal static string? UserMessage(Exception exception)
    {
        if (exception is AggregateException aggregate)
        {
            var inner = aggregate.Flatten().InnerExceptions;
            return inner.Count > 0 && inner.All(e => UserMessage(e) is not null) ? UserMessage(inner[0]) : null;
        }

        return exception is BundleException or DatasetFormatException or FeatureCacheException or TrainingException
            or AudioDecodeException or DebianPackageException or ExecutionProviderException or MissingToolException
            or FileNotFoundException or DirectoryNotFoundException
            ? exception.Message
            : null;
    }
}
