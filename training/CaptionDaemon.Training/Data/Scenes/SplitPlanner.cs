namespace CaptionDaemon.Training.Data.Scenes;

/// <summary>
/// Assigns every recording to exactly one split, so that validation and test clips are made of recordings the model
/// never heard in training. Held-out recordings are taken round-robin over categories, first from categories that keep
/// at least two recordings for training, then from those that keep one, and only then (for tiny libraries) from
/// categories with a single recording: a category seen only in a held-out split cannot be learnt, so that is avoided
/// as long as possible, and the held-out splits still cover as many categories as they can.
/// </summary>
internal static class SplitPlanner
{
    public static IReadOnlyDictionary<string, string> Assign(
        IReadOnlyList<SourceSound> sounds, double validationFraction, double testFraction, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(validationFraction);
        ArgumentOutOfRangeException.ThrowIfNegative(testFraction);
        if (validationFraction + testFraction >= 1)
        {
            throw new ArgumentException($"--val-fraction + --test-fraction must be below 1 (got {validationFraction} + {testFraction}).");
        }

        var random = new Random(seed);
        // Each category's recordings in a seeded random order; categories sorted by size (largest first) then name.
        var categories = sounds
            .GroupBy(s => s.Category, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Queue: new Queue<SourceSound>(g.OrderBy(s => s.Id, StringComparer.Ordinal).OrderBy(_ => random.Next()))))
            .OrderByDescending(c => c.Queue.Count)
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .ToList();

        var splits = sounds.ToDictionary(s => s.Id, _ => ClothoDataset.Development, StringComparer.Ordinal);
        var targets = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            [ClothoDataset.Validation] = Target(sounds.Count, validationFraction),
            [ClothoDataset.Evaluation] = Target(sounds.Count, testFraction),
        };
        var given = targets.Keys.ToDictionary(k => k, _ => 0, StringComparer.Ordinal);
        var sizes = categories.ToDictionary(c => c.Name, c => c.Queue.Count, StringComparer.Ordinal);
        var turn = 0;
        foreach (var keepForTraining in new[] { 2, 1, 0 })
        {
            var progress = true;
            while (progress && given.Any(g => g.Value < targets[g.Key]))
            {
                progress = false;
                foreach (var (name, queue) in categories)
                {
                    var open = targets.Keys.Where(k => given[k] < targets[k]).ToList();
                    if (open.Count == 0)
                    {
                        break;
                    }

                    // The last phase only fills splits that would otherwise be empty.
                    if (keepForTraining == 0 && open.All(k => given[k] > 0))
                    {
                        break;
                    }

                    if (queue.Count <= keepForTraining || (keepForTraining > 0 && sizes[name] <= keepForTraining))
                    {
                        continue;
                    }

                    var split = open[turn++ % open.Count];
                    if (keepForTraining == 0 && given[split] > 0)
                    {
                        split = open.First(k => given[k] == 0);
                    }

                    splits[queue.Dequeue().Id] = split;
                    given[split]++;
                    progress = true;
                }
            }
        }

        return splits;
    }

    private static int Target(int count, double fraction)
        => fraction <= 0 ? 0 : Math.Max(1, (int)Math.Round(count * fraction, MidpointRounding.AwayFromZero));
}
