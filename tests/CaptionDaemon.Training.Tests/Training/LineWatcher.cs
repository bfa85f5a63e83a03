namespace CaptionDaemon.Training.Tests.Training;

/// <summary>A writer that calls an action once a line starting with a prefix is written: a test's way to stop a run at a given log line.</summary>
internal sealed class LineWatcher(string prefix, Action action) : StringWriter
{
    public override void WriteLine(string? value)
    {
        base.WriteLine(value);
        if (value?.StartsWith(prefix, StringComparison.Ordinal) == true)
        {
            action();
        }
    }
}
