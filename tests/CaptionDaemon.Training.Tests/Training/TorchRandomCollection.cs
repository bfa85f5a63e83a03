namespace CaptionDaemon.Training.Tests.Training;

/// <summary>
/// Tests that compare two training runs draw from libtorch's global random generator (weight initialisation, dropout),
/// which every test class shares: a torch test of another class running alongside would change what they draw. This
/// collection runs on its own, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchRandomCollection
{
    public const string Name = "libtorch's global random generator";
}
