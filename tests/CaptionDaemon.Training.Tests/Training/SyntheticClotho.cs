using System.Globalization;
using CaptionDaemon.Training.Tests.Data;

namespace CaptionDaemon.Training.Tests.Training;

/// <summary>
/// A small data set in the Clotho layout made by ffmpeg: tones captioned "a tone beeps" and pink noise captioned
/// "noise hisses" (two captions per clip), 3 s each, in the development, validation and evaluation splits.
/// One per test class (xunit class fixture); the files are real WAV files decoded by the real decoder.
/// </summary>
public sealed class SyntheticClotho : IDisposable
{
    private readonly TestFiles _files = new();

    public SyntheticClotho()
    {
        Write("development", 8);
        Write("validation", 4);
        Write("evaluation", 2);
    }

    public string Root => _files.Root;

    public string NewOutputDirectory() => _files.PathOf(Path.Combine("runs", Guid.NewGuid().ToString("N")));

    public void Dispose() => _files.Dispose();

    private void Write(string split, int clips)
    {
        var lines = new List<string> { "file_name,caption_1,caption_2" };
        for (var i = 0; i < clips; i++)
        {
            var name = FormattableString.Invariant($"{split}_{i:00}.wav");
            if (i % 2 == 0)
            {
                _files.Sine(Path.Combine(split, name), 3, frequency: 400 + (i * 60));
                lines.Add($"{name},A tone beeps.,a steady tone beeps");
            }
            else
            {
                _files.Ffmpeg(Path.Combine(split, name), "-f", "lavfi", "-i", string.Create(CultureInfo.InvariantCulture, $"anoisesrc=color=pink:amplitude=0.5:sample_rate=16000:duration=3:seed={i + 1}"));
                lines.Add($"{name},Noise hisses.,loud noise hisses");
            }
        }

        File.WriteAllLines(_files.PathOf($"clotho_captions_{split}.csv"), lines);
    }
}
