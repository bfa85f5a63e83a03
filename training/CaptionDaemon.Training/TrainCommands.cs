using System.CommandLine;

namespace CaptionDaemon.Training;

/// <summary>The subcommands of captiond-train; each feature folder contributes its own.</summary>
internal static class TrainCommands
{
    public static IEnumerable<Command> All()
    {
        yield return Data.DataCommand.Create();
        yield return Evaluation.ScoreCommand.Create();
        yield return Evaluation.EvalCommand.Create();
        yield return Calibration.CalibrateCommand.Create();
        yield return Training.TrainCommand.Create();
        yield return Tagging.TagCommand.Create();
        yield return Distillation.DistillCommand.Create();
        yield return Incremental.IncrementalCommand.Create();
        // reproduce kd lives with the distillation code; the incremental comparison joins it under the same verb.
        var reproduce = Distillation.ReproduceCommand.Create();
        reproduce.Subcommands.Add(Incremental.IncrementalReproduceCommand.Create());
        yield return reproduce;
        yield return Export.ExportCommand.Create();
    }
}
