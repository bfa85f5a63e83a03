using System.CommandLine;
using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Training.Evaluation;

/// <summary><c>captiond-train score</c>: metrics of a file of candidate captions against a file of references.</summary>
internal static class ScoreCommand
{
    /// <summary>How many missing ids an error message lists before it only counts them.</summary>
    private const int ListedIds = 5;

    public static Command Create()
    {
        var candidates = new Option<string>("--candidates")
        {
            Description = "JSON lines {\"id\": .., \"caption\": \"..\"}: one candidate caption per item.",
            Required = true,
        };
        var references = new Option<string>("--references")
        {
            Description = "JSON lines {\"id\": .., \"captions\": [\"..\", ..]}: the reference captions of each item.",
            Required = true,
        };
        var command = new Command("score", "Print BLEU-1..4, ROUGE-L and CIDEr-D (pycocoevalcap conventions) of candidate captions as one JSON object.");
        command.Options.Add(candidates);
        command.Options.Add(references);
        command.SetAction(parseResult => Run(
            parseResult.GetValue(candidates)!,
            parseResult.GetValue(references)!,
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Writes the scores as one JSON object to <paramref name="output"/>; returns the exit code.</summary>
    public static int Run(string candidatesPath, string referencesPath, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            var (candidates, references) = Pair(CaptionFiles.ReadCandidates(candidatesPath), candidatesPath, CaptionFiles.ReadReferences(referencesPath), referencesPath);
            output.WriteLine(CaptionMetrics.Compute(candidates, references).ToJson());
            return 0;
        }
        catch (DatasetFormatException ex)
        {
            error.WriteLine("score: " + ex.Message);
            return 2;
        }
        catch (IOException ex)
        {
            error.WriteLine("score: " + ex.Message);
            return 2;
        }
    }

    /// <summary>Orders the references like the candidates; every id must be on both sides, exactly once.</summary>
    private static (List<string> Candidates, List<IReadOnlyList<string>> References) Pair(
        IReadOnlyList<CandidateLine> candidates, string candidatesPath, IReadOnlyList<ReferenceLine> references, string referencesPath)
    {
        if (candidates.Count == 0)
        {
            throw new DatasetFormatException($"{candidatesPath}: no candidates to score.");
        }

        var byId = new Dictionary<string, ReferenceLine>(StringComparer.Ordinal);
        foreach (var reference in references)
        {
            if (!byId.TryAdd(reference.Id, reference))
            {
                throw new DatasetFormatException($"{referencesPath} line {reference.Line}: id '{reference.Id}' is already on line {byId[reference.Id].Line}.");
            }
        }

        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var candidate in candidates)
        {
            if (!seen.TryAdd(candidate.Id, candidate.Line))
            {
                throw new DatasetFormatException($"{candidatesPath} line {candidate.Line}: id '{candidate.Id}' is already on line {seen[candidate.Id]}.");
            }
        }

        var noReference = candidates.Where(c => !byId.ContainsKey(c.Id)).Select(c => $"'{c.Id}' (line {c.Line})").ToList();
        if (noReference.Count > 0)
        {
            throw new DatasetFormatException($"{referencesPath}: no references for {Describe(noReference)} of {candidatesPath}.");
        }

        var noCandidate = references.Where(r => !seen.ContainsKey(r.Id)).Select(r => $"'{r.Id}' (line {r.Line})").ToList();
        if (noCandidate.Count > 0)
        {
            throw new DatasetFormatException($"{candidatesPath}: no candidate for {Describe(noCandidate)} of {referencesPath}.");
        }

        return (candidates.Select(c => c.Caption).ToList(), candidates.Select(c => byId[c.Id].Captions).ToList());
    }

    private static string Describe(List<string> ids) =>
        ids.Count <= ListedIds
            ? $"id {string.Join(", ", ids)}"
            : $"{ids.Count} ids: {string.Join(", ", ids.Take(ListedIds))}, ...";
}
