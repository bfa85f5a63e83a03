namespace CaptionDaemon.Training.Incremental;

/// <summary>
/// Chooses the rehearsal memory per category, as iCaRL does (Rebuffi et al. 2017): the budget is shared equally by the
/// categories seen so far (what one category cannot use goes to the others); a category that has new clips gets its
/// exemplars chosen afresh from its old exemplars and new clips, either at random or by herding on the pooled encoder
/// embeddings; a category without new clips keeps the first of its old exemplars in their stored order, so an exemplar
/// set only shrinks from its end.
/// </summary>
internal static class MemorySelection
{
    public const string Random = "random";
    public const string Herding = "herding";

    public static readonly string[] Methods = [Random, Herding];

    /// <summary>One candidate: its category, whether it is an old exemplar (then its rank in the old memory) or a new clip.</summary>
    internal readonly record struct Candidate(string Category, int OldRank);

    /// <summary>
    /// Indices of <paramref name="candidates"/> to keep, grouped by category (categories in ordinal order) and within a
    /// category in selection order. <paramref name="embeddings"/> (one per candidate) are needed for herding only;
    /// candidates with <c>OldRank &lt; 0</c> are new clips.
    /// </summary>
    public static int[] Select(IReadOnlyList<Candidate> candidates, int budget, string method, IReadOnlyList<float[]>? embeddings, int seed)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfNegative(budget);
        if (!Methods.Contains(method))
        {
            throw new ArgumentException($"--memory-selection must be one of {string.Join(", ", Methods)}, not '{method}'.", nameof(method));
        }

        if (method == Herding && (embeddings is null || embeddings.Count != candidates.Count))
        {
            throw new ArgumentException("Herding needs one embedding per candidate.", nameof(embeddings));
        }

        var categories = candidates
            .Select((c, i) => (c.Category, Index: i))
            .GroupBy(c => c.Category, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Members: g.Select(c => c.Index).ToArray()))
            .ToArray();
        var quotas = Quotas(categories.Select(c => c.Members.Length).ToArray(), budget);
        var selected = new List<int>(budget);
        for (var c = 0; c < categories.Length; c++)
        {
            var (name, members) = categories[c];
            var quota = quotas[c];
            if (quota == 0)
            {
                continue;
            }

            if (members.All(i => candidates[i].OldRank >= 0))
            {
                selected.AddRange(members.OrderBy(i => candidates[i].OldRank).Take(quota));
            }
            else if (method == Random)
            {
                // A generator per category, seeded by the seed and the category name, so adding a category does not
                // change what the others draw.
                var order = (int[])members.Clone();
                new System.Random(unchecked((seed * 1_000_003) + StableHash(name))).Shuffle(order);
                selected.AddRange(order.Take(quota));
            }
            else
            {
                var herded = Herd(members.Select(i => embeddings![i]).ToArray(), quota);
                selected.AddRange(herded.Select(k => members[k]));
            }
        }

        return [.. selected];
    }

    /// <summary>
    /// iCaRL's herding: with L2-normalised features φ and their mean μ, the k-th pick is the unpicked x minimising
    /// ||μ - (φ(x) + Σ earlier picks) / k||, so the running mean of the picks follows the class mean. Returns up to
    /// <paramref name="count"/> indices in pick order.
    /// </summary>
    public static int[] Herd(IReadOnlyList<float[]> features, int count)
    {
        ArgumentNullException.ThrowIfNull(features);
        var n = features.Count;
        count = Math.Min(count, n);
        if (count <= 0)
        {
            return [];
        }

        var dim = features[0].Length;
        var normalised = features.Select(f =>
        {
            var norm = Math.Sqrt(f.Sum(v => (double)v * v));
            return f.Select(v => norm > 0 ? v / norm : 0.0).ToArray();
        }).ToArray();
        var mean = new double[dim];
        foreach (var f in normalised)
        {
            for (var d = 0; d < dim; d++)
            {
                mean[d] += f[d] / n;
            }
        }

        var sum = new double[dim];
        var taken = new bool[n];
        var picks = new int[count];
        for (var k = 1; k <= count; k++)
        {
            var best = -1;
            var bestDistance = double.PositiveInfinity;
            for (var i = 0; i < n; i++)
            {
                if (taken[i])
                {
                    continue;
                }

                var distance = 0.0;
                for (var d = 0; d < dim; d++)
                {
                    var diff = mean[d] - ((sum[d] + normalised[i][d]) / k);
                    distance += diff * diff;
                }

                if (distance < bestDistance)
                {
                    bestDistance = distance;
                    best = i;
                }
            }

            taken[best] = true;
            picks[k - 1] = best;
            for (var d = 0; d < dim; d++)
            {
                sum[d] += normalised[best][d];
            }
        }

        return picks;
    }

    /// <summary>An equal share of <paramref name="budget"/> per category (the remainder to the first ones), capped by its size, with what a category cannot use handed on to the rest.</summary>
    internal static int[] Quotas(IReadOnlyList<int> sizes, int budget)
    {
        var quotas = new int[sizes.Count];
        var left = Math.Min(budget, sizes.Sum());
        while (left > 0)
        {
            var open = Enumerable.Range(0, sizes.Count).Where(c => quotas[c] < sizes[c]).ToArray();
            var share = left / open.Length;
            var extra = left % open.Length;
            for (var k = 0; k < open.Length; k++)
            {
                var c = open[k];
                var give = Math.Min(sizes[c] - quotas[c], share + (k < extra ? 1 : 0));
                quotas[c] += give;
                left -= give;
            }
        }

        return quotas;
    }

    private static int StableHash(string text)
    {
        // string.GetHashCode is randomised per process; the memory must be the same on every run.
        var hash = 17;
        foreach (var ch in text)
        {
            hash = unchecked((hash * 31) + ch);
        }

        return hash;
    }
}
