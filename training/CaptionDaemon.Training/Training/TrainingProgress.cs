using System.Diagnostics;
using System.Globalization;

namespace CaptionDaemon.Training.Training;

/// <summary>
/// The progress line of a training epoch on standard error: epoch, step, running loss, time per step and ETA. On a
/// terminal the line is rewritten in place with <c>\r</c>; redirected to a file or journal, a plain line is written at
/// most every <see cref="PlainInterval"/>, so logs stay readable.
/// </summary>
internal sealed class TrainingProgress
{
    private static readonly TimeSpan _plainInterval = TimeSpan.FromSeconds(30);

    private readonly TextWriter _writer;
    private readonly bool _rewrite;
    private readonly Stopwatch _epochClock = new();
    private readonly Lock _lock = new();
    private TimeSpan _lastWrite;
    private int _lastLength;

    public TrainingProgress(TextWriter writer, bool isTerminal)
    {
        _writer = writer;
        _rewrite = isTerminal;
    }

    public static TimeSpan PlainInterval => _plainInterval;

    public void StartEpoch()
    {
        _epochClock.Restart();
        _lastWrite = TimeSpan.Zero;
        _lastLength = 0;
    }

    /// <summary>Reports that <paramref name="step"/> of <paramref name="steps"/> steps of the epoch is done.</summary>
    public void Step(int epoch, int epochs, int step, int steps, double loss, double learningRate)
    {
        var elapsed = _epochClock.Elapsed;
        var perStep = elapsed / step;
        var line = string.Create(
            CultureInfo.InvariantCulture,
            $"epoch {epoch}/{epochs}  step {step}/{steps}  loss {loss:0.0000}  lr {learningRate:0.0e+0}  {perStep.TotalSeconds:0.00} s/step  ETA {Format(perStep * (steps - step))}");
        if (_rewrite)
        {
            // Pad over the previous line's tail, which a shorter line would leave visible.
            _writer.Write("\r" + line.PadRight(_lastLength));
            _lastLength = line.Length;
            if (step == steps)
            {
                _writer.WriteLine();
            }
        }
        else if (step == steps || step == 1 || elapsed - _lastWrite >= _plainInterval)
        {
            _writer.WriteLine(line);
            _lastWrite = elapsed;
        }

        _writer.Flush();
    }

    /// <summary>A message on its own line (validation results, checkpoints); safe to call from several threads.</summary>
    public void Message(string message)
    {
        lock (_lock)
        {
            _writer.WriteLine(message);
            _writer.Flush();
        }
    }

    internal static string Format(TimeSpan time) =>
        time.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)time.TotalHours}h{time.Minutes:00}m")
            : string.Create(CultureInfo.InvariantCulture, $"{time.Minutes}m{time.Seconds:00}s");
}
