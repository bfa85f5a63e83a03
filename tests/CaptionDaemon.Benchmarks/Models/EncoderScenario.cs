using System.CommandLine;
using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Export.Layers;
using CaptionDaemon.Training.Models;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using DataType = CaptionDaemon.Training.Export.Onnx.TensorProto.Types.DataType;

namespace CaptionDaemon.Benchmarks.Models;

/// <summary>
/// Scenario <c>encoder</c>: milliseconds per 10 s window of the exported encoder graph in ONNX Runtime (CPU) at several
/// batch sizes, split into the log-mel front end (DFT convolution, mel matrix, log) and the rest (CNN and projection),
/// for the student or teacher preset or any channel list. Weights are random: speed does not depend on them. Prints the
/// process CPU time too, because wall time on a shared machine depends on the neighbours.
/// </summary>
internal static class EncoderScenario
{
    public static Command CreateCommand()
    {
        var presetOption = new Option<string>("--preset") { Description = "student or teacher.", DefaultValueFactory = _ => "student" };
        var channelsOption = new Option<int[]?>("--channels") { Description = "Override the CNN channels, e.g. 16 32 64 128.", AllowMultipleArgumentsPerToken = true };
        var convsOption = new Option<int?>("--convs-per-block") { Description = "Override the convolutions per block." };
        var batchesOption = new Option<int[]>("--batches") { Description = "Batch sizes.", DefaultValueFactory = _ => [1, 8], AllowMultipleArgumentsPerToken = true };
        var secondsOption = new Option<double>("--seconds") { Description = "Minimum measuring time per configuration.", DefaultValueFactory = _ => 5.0 };
        var threadsOption = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0 = all cores).", DefaultValueFactory = _ => 0 };

        var command = new Command("encoder", "ms per 10 s window of the exported encoder (front end vs CNN) in ONNX Runtime.");
        foreach (var option in new Option[] { presetOption, channelsOption, convsOption, batchesOption, secondsOption, threadsOption })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            var config = parse.GetValue(presetOption) == "teacher" ? CaptionModelConfig.Teacher(5000) : CaptionModelConfig.Student(5000);
            if (parse.GetValue(channelsOption) is { Length: > 0 } channels)
            {
                config = config with { EncoderChannels = channels };
            }

            if (parse.GetValue(convsOption) is { } convs)
            {
                config = config with { ConvsPerBlock = convs };
            }

            var threads = parse.GetValue(threadsOption) is > 0 and var t ? t : Environment.ProcessorCount;
            Run(config, parse.GetValue(batchesOption)!, parse.GetValue(secondsOption), threads);
            return 0;
        });
        return command;
    }

    private static void Run(CaptionModelConfig config, int[] batches, double seconds, int threads)
    {
        using var model = new CaptionModel(config);
        model.eval();
        var counts = model.CountParameters();
        Console.WriteLine($"channels [{string.Join(",", config.EncoderChannels)}] x{config.ConvsPerBlock}, d {config.DModel}: encoder {counts.Encoder:N0} parameters, total {counts.Total:N0} (vocab {config.VocabSize}); {threads} threads");

        var frontend = new OnnxGraphBuilder();
        var image = LogMelFrontendExporter.Export(frontend, model.Frontend, frontend.Input("audio", DataType.Float, "batch", "samples"), "frontend");
        frontend.OutputOfAnyShape("log_mel", image, DataType.Float);

        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var encoderSession = new InferenceSession(CaptionGraphs.Encoder(model).ToByteArray(), options);
        using var frontendSession = new InferenceSession(frontend.Build("frontend", "benchmark").ToByteArray(), options);
        var samples = config.SampleRate * 10;
        var random = new Random(1);
        Console.WriteLine($"{"batch",5} {"encoder ms/window",18} {"(CPU ms)",9} {"front end ms/window",20} {"(CPU ms)",9} {"windows/s",10}");
        foreach (var batch in batches)
        {
            var audio = new float[batch * samples];
            for (var i = 0; i < audio.Length; i++)
            {
                audio[i] = (float)((random.NextDouble() * 2) - 1) * 0.3f;
            }

            var (whole, wholeCpu) = Measure(encoderSession, audio, batch, samples, seconds);
            var (front, frontCpu) = Measure(frontendSession, audio, batch, samples, seconds);
            Console.WriteLine($"{batch,5} {whole / batch,18:F2} {wholeCpu / batch,9:F2} {front / batch,20:F2} {frontCpu / batch,9:F2} {1000 * batch / whole,10:F1}");
        }
    }

    /// <summary>Mean wall and process CPU milliseconds per run: on a shared machine the CPU time says what the graph costs.</summary>
    private static (double Wall, double Cpu) Measure(InferenceSession session, float[] audio, int batch, int samples, double seconds)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(audio, [batch, samples]);
        using var runOptions = new RunOptions();
        string[] inputNames = ["audio"];
        OrtValue[] inputs = [input];
        void RunOnce()
        {
            using var outputs = session.Run(runOptions, inputNames, inputs, session.OutputNames);
        }

        return Timing.Measure(RunOnce, minSeconds: seconds);
    }
}
