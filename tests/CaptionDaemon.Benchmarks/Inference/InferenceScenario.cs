using System.CommandLine;
using System.Text.Json;
using CaptionDaemon.Inference;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Models;

namespace CaptionDaemon.Benchmarks.Inference;

/// <summary>
/// Scenario <c>inference</c>: milliseconds per window (encoder + decoding to the end token) for a bundle, with
/// ONNX Runtime batched (greedy and beam 3 at several batch sizes) and, on the same weights, TorchSharp eager in the
/// style of the paper's release (one clip at a time, the whole prefix re-run at every step, no key/value cache).
/// ORT rows also split the time into encoder and decoder steps and give the managed bytes allocated per decoder step
/// (the captioner's own figures for each call). <c>--provider cuda</c> runs ORT on the GPU (the Gpu flavour) and
/// <c>--parity</c> first checks that its captions and label probabilities match the CPU's on the same clips.
/// </summary>
internal static class InferenceScenario
{
    public static Command CreateCommand()
    {
        var bundleOption = new Option<DirectoryInfo>("--bundle") { Description = "Bundle folder (its checkpoint/ holds the TorchSharp weights).", Required = true };
        var audioOption = new Option<DirectoryInfo?>("--audio") { Description = "Folder of audio clips to caption; default: the bundle's samples/." };
        var jsonOption = new Option<FileInfo?>("--json") { Description = "Write the figures to this JSON file." };
        var batchesOption = new Option<int[]>("--batches") { Description = "ORT batch sizes.", DefaultValueFactory = _ => [1, 8, 32], AllowMultipleArgumentsPerToken = true };
        var secondsOption = new Option<double>("--seconds") { Description = "Minimum measuring time per configuration.", DefaultValueFactory = _ => 5.0 };
        var threadsOption = new Option<int>("--threads") { Description = "Threads for both engines (0 = all cores).", DefaultValueFactory = _ => 0 };
        var skipTorchOption = new Option<bool>("--skip-torchsharp") { Description = "Measure ONNX Runtime only." };
        var providerOption = ProviderOption.Create();
        var parityOption = new Option<bool>("--parity") { Description = "Before timing, caption the clips on the CPU and on --provider and compare captions and label probabilities; exit 1 when they differ beyond the tolerance." };

        var command = new Command("inference", "ms per 10 s window: ORT batched vs paper-style TorchSharp, greedy and beam 3.");
        command.Options.Add(bundleOption);
        command.Options.Add(audioOption);
        command.Options.Add(jsonOption);
        command.Options.Add(batchesOption);
        command.Options.Add(secondsOption);
        command.Options.Add(threadsOption);
        command.Options.Add(skipTorchOption);
        command.Options.Add(providerOption);
        command.Options.Add(parityOption);
        command.SetAction(parse =>
        {
            var bundleDir = parse.GetValue(bundleOption)!.FullName;
            var audioDir = parse.GetValue(audioOption)?.FullName ?? Path.Combine(bundleDir, "samples");
            var threads = parse.GetValue(threadsOption) is > 0 and var t ? t : Environment.ProcessorCount;
            var preference = parse.GetValue(providerOption);
            ProviderParity? parity;
            string provider;
            List<Row> results;
            try
            {
                parity = parse.GetValue(parityOption) ? ProviderParity.Measure(bundleDir, audioDir, preference, threads) : null;
                (provider, results) = Run(bundleDir, audioDir, parse.GetValue(batchesOption)!, parse.GetValue(secondsOption), threads, !parse.GetValue(skipTorchOption), preference);
            }
            catch (ExecutionProviderException e)
            {
                // --provider cuda on a machine or build without CUDA: the reason names what is missing.
                Console.Error.WriteLine(e.Message);
                return 2;
            }

            var json = parse.GetValue(jsonOption);
            if (json is not null)
            {
                var document = new { scenario = "inference", machine = MachineDescription(), threads, provider, parity, results };
                File.WriteAllText(json.FullName, JsonSerializer.Serialize(document, _jsonOptions));
                Console.WriteLine($"wrote {json.FullName}");
            }

            return parity is { Holds: false } ? 1 : 0;
        });
        return command;
    }

    private static readonly JsonSerializerOptions _jsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    internal sealed record Row(
        string Engine, string Decode, int Batch, double MsPerWindow, double MeanTokens,
        double? EncoderMsPerWindow = null, double? DecoderMsPerWindow = null, double? BytesPerStep = null)
    {
        public double WindowsPerSecond => 1000 / MsPerWindow;
    }

    private static (string Provider, List<Row> Rows) Run(
        string bundleDir, string audioDir, int[] batches, double seconds, int threads, bool torch, ExecutionProviderPreference preference)
    {
        using var bundle = CaptionBundle.Load(bundleDir, new CaptionerOptions { ExecutionProvider = preference, IntraOpThreads = threads });
        var provider = bundle.ExecutionProvider.ToString().ToLowerInvariant();
        var windowSamples = bundle.WindowSamples;
        var clips = LoadClips(audioDir, bundle.Manifest.SampleRate, windowSamples);
        Console.WriteLine($"bundle {bundle.Manifest.Name}: {bundle.Manifest.Parameters.Total:N0} parameters, {clips.Count} clips from {audioDir}, {threads} threads, provider in use: {provider}");
        Console.WriteLine($"{"engine",-24} {"decode",-7} {"batch",5} {"ms/window",10} {"windows/s",10} {"tokens",7} {"encoder ms",11} {"decoder ms",11} {"bytes/step",11}");

        var rows = new List<Row>();
        using var captioner = bundle.CreateCaptioner();
        foreach (var (name, options) in new[] { ("greedy", DecodeOptions.Greedy), ("beam3", DecodeOptions.Default) })
        {
            foreach (var batch in batches)
            {
                var input = new float[batch * windowSamples];
                for (var i = 0; i < batch; i++)
                {
                    clips[i % clips.Count].CopyTo(input.AsSpan(i * windowSamples));
                }

                double tokens = 0;
                var calls = 0;
                DecodeStatistics sum = default;
                var ms = Measure(seconds, () =>
                {
                    tokens = captioner.Caption(input, batch, options).Average(r => r.TokenIds.Count + (r.Ended ? 1 : 0));
                    var s = captioner.LastStatistics;
                    sum = calls++ == 0 ? default : sum with { Steps = sum.Steps + s.Steps, AllocatedBytes = sum.AllocatedBytes + s.AllocatedBytes, Encode = sum.Encode + s.Encode, Decode = sum.Decode + s.Decode };
                }) / batch;
                var windows = (double)(calls - 1) * batch; // the first call warms up and is not counted, as in Timing.Measure
                rows.Add(Print(new Row(
                    "ort", name, batch, ms, tokens, sum.Encode.TotalMilliseconds / windows, sum.Decode.TotalMilliseconds / windows, (double)sum.AllocatedBytes / sum.Steps)));
            }
        }

        if (torch)
        {
            var checkpoint = Path.Combine(bundleDir, CaptionDaemon.Training.Export.BundleExporter.CheckpointDirectoryName);
            if (!Directory.Exists(checkpoint))
            {
                throw new DirectoryNotFoundException($"{bundleDir} has no checkpoint/ folder; the TorchSharp baseline needs the trainer's weights.");
            }

            TorchSharp.torch.set_num_threads(threads);
            using var model = CaptionModel.LoadCheckpoint(checkpoint);
            var maxTokens = bundle.Manifest.MaxCaptionTokens;
            var clip = 0;
            foreach (var (name, beam) in new[] { ("greedy", 1), ("beam3", 3) })
            {
                double tokens = 0;
                var ms = Measure(seconds, () => tokens = PaperStyleDecoder.Caption(model, clips[clip++ % clips.Count], beam, maxTokens));
                rows.Add(Print(new Row("torchsharp-paper-style", name, 1, ms, tokens)));
            }
        }

        foreach (var decode in new[] { "greedy", "beam3" })
        {
            var baseline = rows.FirstOrDefault(r => r.Engine != "ort" && r.Decode == decode);
            var best = rows.Where(r => r.Engine == "ort" && r.Decode == decode).MinBy(r => r.MsPerWindow);
            if (baseline is not null && best is not null)
            {
                Console.WriteLine($"{decode}: ORT batch {best.Batch} is {baseline.MsPerWindow / best.MsPerWindow:F1}x faster per window than paper-style TorchSharp");
            }
        }

        return (provider, rows);
    }

    private static Row Print(Row row)
    {
        Console.WriteLine($"{row.Engine,-24} {row.Decode,-7} {row.Batch,5} {row.MsPerWindow,10:F2} {row.WindowsPerSecond,10:F1} {row.MeanTokens,7:F1} {row.EncoderMsPerWindow,11:F2} {row.DecoderMsPerWindow,11:F2} {row.BytesPerStep,11:F1}");
        return row;
    }

    private static double Measure(double seconds, Action action) => Timing.Measure(action, minSeconds: seconds).WallMs;

    internal static List<float[]> LoadClips(string audioDir, int sampleRate, int windowSamples)
    {
        if (!Directory.Exists(audioDir))
        {
            throw new DirectoryNotFoundException($"Audio folder {audioDir} does not exist (pass --audio DIR).");
        }

        var files = Directory.EnumerateFiles(audioDir).Where(AudioFiles.IsAudio).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            throw new FileNotFoundException($"No audio files in {audioDir}.");
        }

        return files.Select(file =>
        {
            var window = new float[windowSamples];
            var samples = AudioDecoder.Decode(file, sampleRate);
            samples.AsSpan(0, Math.Min(samples.Length, windowSamples)).CopyTo(window);
            return window;
        }).ToList();
    }

    private static string MachineDescription() =>
        $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}";
}
