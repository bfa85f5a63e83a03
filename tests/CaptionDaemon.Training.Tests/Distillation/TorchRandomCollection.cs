namespace CaptionDaemon.Training.Tests.Distillation;

/// <summary>
/// The distillation tests seed and draw from libtorch's global random generator (weight initialisation, random
/// tensors), which every test class shares; run in parallel they would change what the determinism tests of other
/// classes (resume, export parity) draw. This collection runs on its own, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchRandomCollection
{
    public const string Name = "Distillation (libtorch's global random generator)";
}
