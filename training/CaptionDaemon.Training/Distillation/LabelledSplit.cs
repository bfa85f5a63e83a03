namespace CaptionDaemon.Training.Distillation;

/// <summary>Which training clips keep their human captions when labels are made scarce (<c>--labelled-fraction</c>).</summary>
internal static class LabelledSplit
{
    /// <summary>How many of <paramref name="count"/> clips stay labelled at <paramref name="fraction"/>: round(F x N), at least one.</summary>
    public static int LabelledCount(int count, double fraction) =>
        Math.Clamp((int)Math.Round(fraction * count, MidpointRounding.AwayFromZero), 1, Math.Max(1, count));

    /// <summary>
    /// round(<paramref name="fraction"/> x <paramref name="count"/>) clips (at least one), drawn by a shuffle seeded with
    /// <paramref name="seed"/>: the same seed and count always give the same clips, whatever else the run does. Both
    /// lists are in ascending order.
    /// </summary>
    public static (int[] Labelled, int[] Others) Choose(int count, double fraction, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (fraction is <= 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The labelled fraction must be in (0, 1].");
        }

        var keep = LabelledCount(count, fraction);
        var order = Enumerable.Range(0, count).ToArray();
        // Its own stream (not the epoch's), so that the choice does not depend on the schedule or the model; not
        // HashCode.Combine, which is seeded per process.
        new Random(unchecked((seed * 1_000_003) + 0x1abe11ed)).Shuffle(order);
        var labelled = order[..keep];
        var rest = order[keep..];
        Array.Sort(labelled);
        Array.Sort(rest);
        return (labelled, rest);
    }
}
