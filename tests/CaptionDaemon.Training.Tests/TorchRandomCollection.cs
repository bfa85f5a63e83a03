namespace CaptionDaemon.Training.Tests;

/// <summary>
/// Tests that seed libtorch's global random generator and compare what they draw (two training runs, distillation
/// steps): every test class shares that generator, so a torch test of another class running alongside would change
/// what they draw. This collection runs on its own, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchRandomCollection
{
    public const string Name = "libtorch's global random generator";
}
