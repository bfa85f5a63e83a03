using System.CommandLine;
using CaptionDaemon.Training.Data.Scenes;
using CaptionDaemon.Training.Data.Sounds;

namespace CaptionDaemon.Training.Data;

/// <summary><c>captiond-train data ...</c>: get training sounds and build data sets from them.</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "Training data: fetch real recordings from Debian packages, render instrument phrases from soundfonts, generate captioned scenes, cache log-mel features.");
        command.Subcommands.Add(SoundFetchCommand.Create());
        command.Subcommands.Add(MusicCommand.Create());
        command.Subcommands.Add(SceneCommand.Create());
        command.Subcommands.Add(Sounds.Labelling.CatalogCommand.Create());
        command.Subcommands.Add(Training.Features.FeaturesCommand.Create());
        return command;
    }
}
