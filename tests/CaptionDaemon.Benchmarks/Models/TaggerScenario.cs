using System.CommandLine;
using System.Globalization;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CaptionDaemon.Benchmarks.Models;

/// <summary>
/// Scenario <c>tagger</c>: for each tagging encoder size, its parameters, TorchSharp forward milliseconds per 10 s window
/// (evaluation mode, no gradients) at several batch sizes, and the milliseconds of one tagger training step (forward,
/// BCE, backward through <see cref="SafeConvolution"/>, AdamW) at a batch of 10 s windows. Wall and process CPU time,
/// since on a shared machine the wall time depends on the neighbours. Weights are random: speed does not depend on them.
/// </summary>
internal static class TaggerScenario
{
    // Held for the process: no temporary Scalar reaches libtorch (Models/HeldScalars.cs).
    private static readonly Scalar s_level = 0.1.ToScalar();
    private static readonly Scalar s_positive = 0.95.ToScalar();

    public static Command CreateCommand()
    {
        var sizesOption = new Option<string[]>("--sizes") { Description = "Encoder sizes.", DefaultValueFactory = _ => ["small", "medium", "large"], AllowMultipleArgumentsPerToken = true };
        var batchesOption = new Option<int[]>("--batches") { Description = "Forward batch sizes.", DefaultValueFactory = _ => [1, 16], AllowMultipleArgumentsPerToken = true };
        var trainBatchOption = new Option<int>("--train-batch") { Description = "Windows per training step (0: no step).", DefaultValueFactory = _ => 16 };
        var threadsOption = new Option<int>("--threads") { Description = "Torch threads.", DefaultValueFactory = _ => 2 };
        var secondsOption = new Option<double>("--seconds") { Description = "Minimum measuring time per forward figure.", DefaultValueFactory = _ => 3.0 };
        var labelsOption = new Option<int>("--labels") { Description = "Labels of the classifier.", DefaultValueFactory = _ => 190 };

        var command = new Command("tagger", "Parameters, forward ms per 10 s window and train-step ms of the tagging encoder sizes (TorchSharp).");
        foreach (var option in new Option[] { sizesOption, batchesOption, trainBatchOption, threadsOption, secondsOption, labelsOption })
        {
            command.Options.Add(option);
        }

        var probeOption = new Option<bool>("--layers") { Description = "Time single layer kinds instead (depthwise and pointwise convolution on the first stage's map)." };
        command.Options.Add(probeOption);
        command.SetAction(parse =>
        {
            torch.set_num_threads(parse.GetValue(threadsOption));
            if (parse.GetValue(probeOption))
            {
                ProbeLayers();
                return 0;
            }

            var labels = Enumerable.Range(0, parse.GetValue(labelsOption)).Select(i => "label" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
            foreach (var size in parse.GetValue(sizesOption)!)
            {
                Run(TaggingEncoderConfig.Named(size, labels), parse.GetValue(batchesOption)!, parse.GetValue(trainBatchOption), parse.GetValue(secondsOption), parse.GetValue(threadsOption));
            }

            return 0;
        });
        return command;
    }

    private static void ProbeLayers()
    {
        foreach (var (channels, height, width) in new[] { (64, 32, 500), (192, 8, 125), (640, 4, 62) })
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var x = randn([1, channels, height, width]);
            using var depthwise = nn.Conv2d(channels, channels, 3, padding: 1, groups: channels, bias: false);
            using var pointwise = nn.Conv2d(channels, channels, 1, bias: false);
            using var full = nn.Conv2d(channels, channels, 3, padding: 1, bias: false);
            var d = Timing.Measure(() => { using var s = NewDisposeScope(); depthwise.forward(x); }, minSeconds: 1).WallMs;
            var p = Timing.Measure(() => { using var s = NewDisposeScope(); pointwise.forward(x); }, minSeconds: 1).WallMs;
            var f = Timing.Measure(() => { using var s = NewDisposeScope(); full.forward(x); }, minSeconds: 1).WallMs;
            var pw = pointwise.weight.detach().reshape(channels, channels);
            var mm = Timing.Measure(() => { using var s = NewDisposeScope(); matmul(pw, x.reshape(1, channels, -1)).reshape(1, channels, height, width); }, minSeconds: 1).WallMs;
            var w = depthwise.weight.detach();
            var shifted = Timing.Measure(() => { using var s = NewDisposeScope(); ShiftedDepthwise(x, w); }, minSeconds: 1).WallMs;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{channels},{height},{width}]: depthwise conv {d:0.00} ms, shifted sum {shifted:0.00} ms, pointwise {p:0.00} ms (as matmul {mm:0.00} ms), full 3x3 {f:0.00} ms"));
        }
    }

    private static Tensor ShiftedDepthwise(Tensor x, Tensor weight)
    {
        var (h, w) = (x.shape[2], x.shape[3]);
        var padded = nn.functional.pad(x, [1, 1, 1, 1]);
        Tensor? sum = null;
        for (var dy = 0; dy < 3; dy++)
        {
            for (var dx = 0; dx < 3; dx++)
            {
                var term = padded.narrow(2, dy, h).narrow(3, dx, w) * weight.narrow(2, dy, 1).narrow(3, dx, 1).reshape(1, -1, 1, 1);
                sum = sum is null ? term : sum.Plus(term);
            }
        }

        return sum!;
    }

    private static void Run(TaggingEncoderConfig config, int[] batches, int trainBatch, double seconds, int threads)
    {
        random.manual_seed(1);
        using var encoder = new TaggingEncoder(config);
        var samples = config.Frontend.SampleRate * 10;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{config.Size}: {encoder.ParameterCount():N0} parameters ({config.Labels.Count} labels), {encoder.MemoryFrames(samples)} memory frames per 10 s; {threads} threads"));
        encoder.eval();
        foreach (var batch in batches)
        {
            using var audio = randn([batch, samples]).mul_(s_level);
            var (wall, cpu) = Timing.Measure(minSeconds: seconds, action: () =>
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                encoder.forward(audio);
            });
            var (frontWall, frontCpu) = Timing.Measure(minSeconds: seconds / 2, action: () =>
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                encoder.Frontend.forward(audio);
            });
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  forward batch {batch,2}: {wall / batch,7:0.0} ms/window wall, {cpu / batch,7:0.0} ms CPU (of which the front end {frontWall / batch:0.0} ms wall, {frontCpu / batch:0.0} ms CPU)"));
        }

        if (trainBatch > 0)
        {
            encoder.train();
            using var optimizer = new HeldScalarAdamW(encoder.parameters(), 1e-3);
            using var audio = randn([trainBatch, samples]).mul_(s_level);
            using var targets = rand([trainBatch, config.Labels.Count]).gt(s_positive).to_type(ScalarType.Float32);
            var (wall, cpu) = Timing.Measure(minRuns: 3, action: () =>
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var output = encoder.forward(audio);
                var loss = nn.functional.binary_cross_entropy_with_logits(output.Logits, targets);
                GuardedUpdate.Apply(optimizer, loss, encoder.parameters(), 5);
            });
            var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  train step batch {trainBatch}: {wall,7:0} ms wall, {cpu,7:0} ms CPU (load average {load}; {Environment.ProcessorCount} cores)"));
        }
    }
}
