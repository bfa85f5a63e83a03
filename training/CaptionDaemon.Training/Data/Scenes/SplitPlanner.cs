namespace CaptionDaemon.Training.Data.Scenes;

/// <summary>
/// Assigns every recording to exactly one split, so that validation and test clips are made of recordings the model
/// never heard in training. Held-out recordings are taken round-robin over categories, first from categories that keep
/// at least two recordings for training, then from those that keep one, and only then (for tiny libraries) from
/// categories with a single recording: a category seen only in a held-out split cannot be learnt, so that is avoided
/// as long as possible, and the held-out splits still cover as many categories as they can. Within a category, a
/// recording whose caption words all occur in the captions of recordings left for training is preferred, so that
/// held-out captions use words the model can know ("a door closes" is not held out if it is the only closing door).
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
            .Select(g => (Name: g.Key, Queue: g.OrderBy(s => s.Id, StringComparer.Ordinal).OrderBy(_ => random.Next()).ToList()))
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
        var trainingWords = sounds.SelectMany(Words).GroupBy(w => w, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var turn = 0;
        // Strict passes hold out only recordings whose words stay covered by training; the relaxed passes after them
        // take any recording, so that small libraries still reach the split sizes.
        foreach (var (keepForTraining, strict) in new[] { (2, true), (1, true), (2, false), (1, false), (0, false) })
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

                    var index = queue.FindIndex(s => Words(s).All(w => trainingWords[w] >= 2));
                    if (index < 0 && strict)
                    {
                        continue;
                    }

                    var split = open[turn++ % open.Count];
                    if (keepForTraining == 0 && given[split] > 0)
                    {
                        split = open.First(k => given[k] == 0);
                    }

                    var chosen = queue[Math.Max(index, 0)];
                    queue.Remove(chosen);
                    foreach (var word in Words(chosen))
                    {
                        trainingWords[word]--;
                    }

                    splits[chosen.Id] = split;
                    given[split]++;
                    progress = true;
                }
            }
        }

        return splits;
    }

    private static IEnumerable<string> Words(SourceSound sound)
        => sound.Entry.Caption.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal);

    private static int Target(int count, double fraction)
        => fraction <= 0 ? 0 : Math.Max(1, (int)Math.Round(count * fraction, MidpointRounding.AwayFromZero));
}
