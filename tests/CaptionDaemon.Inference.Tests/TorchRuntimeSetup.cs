using System.Runtime.CompilerServices;
using CaptionDaemon.Training.Models;

namespace CaptionDaemon.Inference.Tests;

/// <summary>
/// Runs the trainer's native Torch settings (<see cref="TorchRuntime"/>) before any test, so that a test that calls
/// TorchSharp directly, before touching a trainer type, gets the same libtorch behaviour as the trainer.
/// </summary>
internal static class TorchRuntimeSetup
{
    [ModuleInitializer]
    internal static void Initialize() => RuntimeHelpers.RunModuleConstructor(typeof(TorchRuntime).Module.ModuleHandle);
}
