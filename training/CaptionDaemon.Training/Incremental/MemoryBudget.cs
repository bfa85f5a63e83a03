using System.Globalization;

namespace CaptionDaemon.Training.Incremental;

/// <summary>The size of the rehearsal memory: a number of clips, or a percentage of all training clips seen so far.</summary>
internal readonly record struct MemoryBudget(int Clips, double Percent)
{
    public static MemoryBudget None => new(0, 0);

    public bool IsPercent => Percent > 0;

    public bool IsEmpty => Clips == 0 && Percent == 0;

    /// <summary><c>N</c> (clips) or <c>P%</c> (of the clips seen so far).</summary>
    /// <exception cref="ArgumentException">Neither form, or negative, or above 100%.</exception>
    public static MemoryBudget Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim();
        if (value.EndsWith('%'))
        {
            if (double.TryParse(value[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) && percent is >= 0 and <= 100)
            {
                return new MemoryBudget(0, percent);
            }
        }
        else if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var clips) && clips >= 0)
        {
            return new MemoryBudget(clips, 0);
        }

        throw new ArgumentException($"--memory must be a clip count (e.g. 40) or a percentage of the clips seen so far (e.g. 1%), not '{text}'.");
    }

    /// <summary>Clips the memory may hold after <paramref name="seenClips"/> training clips (a percentage keeps at least one clip).</summary>
    public int ClipsFor(int seenClips) =>
        IsPercent ? Math.Max(1, (int)Math.Round(seenClips * Percent / 100, MidpointRounding.AwayFromZero)) : Clips;

    public override string ToString() =>
        IsPercent ? string.Create(CultureInfo.InvariantCulture, $"{Percent}%") : Clips.ToString(CultureInfo.InvariantCulture);
}
