using System.CommandLine;
using CaptionDaemon.Benchmarks.Inference;
using CaptionDaemon.Benchmarks.Models;

namespace CaptionDaemon.Benchmarks;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("CaptionDaemon benchmarks: each scenario prints its figures and can write them as JSON.");
        root.Subcommands.Add(InferenceScenario.CreateCommand());
        root.Subcommands.Add(Training.TrainStepScenario.CreateCommand());
        root.Subcommands.Add(EncoderScenario.CreateCommand());
        root.Subcommands.Add(TaggerScenario.CreateCommand());
        root.Subcommands.Add(Streams.StreamsScenario.CreateCommand());
        root.Subcommands.Add(Streams.FloodScenario.CreateCommand());
        root.Subcommands.Add(Audio.NAudioScenario.CreateCommand());
        return root.Parse(args).Invoke();
    }
}
