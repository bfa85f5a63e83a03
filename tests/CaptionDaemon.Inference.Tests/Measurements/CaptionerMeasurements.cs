using System.Diagnostics;
using System.Globalization;
using CaptionDaemon.Inference.Tests.Fixtures;
using CaptionDaemon.Training.Models;
using Xunit.Abstractions;

namespace CaptionDaemon.Inference.Tests.Measurements;

/// <summary>Runs only when CAPTIOND_MEASURE=1 (skipped otherwise): a measurement, not a check.</summary>
internal sealed class MeasurementFactAttribute : FactAttribute
{
    public MeasurementFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("CAPTIOND_MEASURE") != "1")
        {
            Skip = "Measurement; set CAPTIOND_MEASURE=1 to run it.";
        }
    }
}

/// <summary>
/// Speed of a Student-size random bundle: ms per window for greedy and beam 3 at batch 1, 8 and 32, and the managed
/// bytes allocated per decoder step. Random weights rarely emit &lt;end&gt;, so every window decodes to the maximum length.
/// </summary>
public sealed class CaptionerMeasurements(ITestOutputHelper output)
{
    [MeasurementFact]
    public void Measure_StudentBundle_MsPerWindowAndBytesPerStep()
    {
        using var exported = ExportedBundleFixture.Export(CaptionModelConfig.Student(1000), windowSeconds: 10.0, seed: 3);
        using var bundle = CaptionBundle.Load(exported.Directory, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });
        using var captioner = bundle.CreateCaptioner();
        var lines = new List<string>
        {
            $"bundle: Student (d {bundle.Manifest.Architecture.DModel}, {bundle.Manifest.Architecture.DecoderLayers} layers, vocab "
                + $"{bundle.Manifest.Architecture.VocabSize}), window {bundle.Manifest.WindowSeconds} s, max tokens {bundle.Manifest.MaxCaptionTokens}, "
                + $"{Environment.ProcessorCount} cores, provider {bundle.ExecutionProvider}",
            "batch beam  runs  ms/window  encoder ms/window  decoder ms/window  steps  bytes/step",
        };
        var audio = TestAudio.Windows(32, bundle.WindowSamples, bundle.Manifest.SampleRate, seed: 1);
        foreach (var batch in new[] { 1, 8, 32 })
        {
            foreach (var beam in new[] { 1, 3 })
            {
                var options = DecodeOptions.Default with { Beam = beam };
                var input = audio.AsSpan(0, batch * bundle.WindowSamples);
                captioner.Caption(input, batch, options); // warm-up: buffers and bindings for this size
                var runs = batch == 32 ? 3 : batch == 8 ? 5 : 10;
                var watch = Stopwatch.StartNew();
                TimeSpan encode = default, decode = default;
                long bytes = 0, steps = 0;
                for (var i = 0; i < runs; i++)
                {
                    captioner.Caption(input, batch, options);
                    var s = captioner.LastStatistics;
                    encode += s.Encode;
                    decode += s.Decode;
                    bytes += s.AllocatedBytes;
                    steps += s.Steps;
                }

                var windows = (double)runs * batch;
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{batch,5} {beam,4} {runs,5} {watch.Elapsed.TotalMilliseconds / windows,10:F1} {encode.TotalMilliseconds / windows,18:F1} "
                    + $"{decode.TotalMilliseconds / windows,18:F1} {steps / runs,6} {(double)bytes / steps,11:F1}"));
            }
        }

        foreach (var line in lines)
        {
            output.WriteLine(line);
        }

        var report = Environment.GetEnvironmentVariable("CAPTIOND_MEASURE_OUT");
        if (!string.IsNullOrEmpty(report))
        {
            File.WriteAllLines(report, lines);
        }
    }
}
