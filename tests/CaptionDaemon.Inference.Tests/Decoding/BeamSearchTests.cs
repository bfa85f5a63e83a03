using CaptionDaemon.Inference.Decoding;

namespace CaptionDaemon.Inference.Tests.Decoding;

/// <summary>The search on hand-written log-probabilities, where the right answer is known.</summary>
public sealed class BeamSearchTests
{
    private const int Vocab = 6; // 0 pad, 1 start, 2 end, 3 unk, 4 "a", 5 "b"
    private const int End = 2;
    private static readonly string[] Words = ["<pad>", "<start>", "<end>", "<unk>", "a", "b"];

    /// <summary>
    /// A two-step language where greedy is short-sighted: first token "a" (p .6) or "b" (p .4); after "a" everything is
    /// flat, after "b" the caption ends with certainty. Greedy: "a" then the best of a flat row; beam 2 finds "b &lt;end&gt;".
    /// </summary>
    private static float[] Row(int previousToken, bool endless = false)
    {
        var p = new double[Vocab];
        if (endless)
        {
            // A window whose model never ends: cut at the maximum length.
            p[4] = 0.55;
            p[5] = 0.45;
            return [.. p.Select(x => x > 0 ? (float)Math.Log(x) : float.NegativeInfinity)];
        }

        switch (previousToken)
        {
            case 1: p[4] = 0.6; p[5] = 0.4; break;
            case 4: p[2] = 0.25; p[3] = 0.25; p[4] = 0.26; p[5] = 0.24; break;
            case 5: p[2] = 0.97; p[4] = 0.01; p[5] = 0.02; break;
            default: p[2] = 1; break;
        }

        return [.. p.Select(x => x > 0 ? (float)Math.Log(x) : float.NegativeInfinity)];
    }

    private static (CaptionResult[] Results, int Steps, int Compactions) Run(
        int windows, int beam, int maxTokens, bool compaction, int endlessWindow = -1, int minWords = 0, int noRepeatNgram = 0)
    {
        var search = new BeamSearch(capacity: windows * beam, maxLength: maxTokens);
        var tokens = new long[windows * beam];
        var beamIndex = new long[windows * beam];
        search.Begin(windows, beam, Vocab, startToken: 1, endToken: End, maxTokens, alpha: 1.0, tokens, beamIndex, minWords, noRepeatNgram);
        var logprobs = new float[windows * beam * Vocab];
        int steps = 0, compactions = 0;
        for (var step = 0; step < maxTokens; step++)
        {
            for (var r = 0; r < search.Rows; r++)
            {
                Row((int)tokens[r], search.WindowOf(r) == endlessWindow).CopyTo(logprobs, r * Vocab);
            }

            steps++;
            var progress = search.Advance(step, logprobs.AsSpan(0, search.Rows * Vocab), tokens, beamIndex, compaction);
            if (progress == SearchProgress.Finished)
            {
                break;
            }

            if (progress == SearchProgress.Compacted)
            {
                compactions++;
            }
        }

        return ([.. Enumerable.Range(0, windows).Select(w => search.Result(w, Words))], steps, compactions);
    }

    [Fact]
    public void Advance_BeamOne_FollowsArgmaxUntilMaxTokens()
    {
        var (results, steps, _) = Run(windows: 1, beam: 1, maxTokens: 3, compaction: false);

        // a (0.6), then a (0.26), then a (0.26): never <end>, cut at 3 tokens.
        Assert.Equal([4, 4, 4], results[0].TokenIds);
        Assert.Equal("a a a", results[0].Text);
        Assert.False(results[0].Ended);
        Assert.Equal(3, steps);
        Assert.Equal(Math.Exp((Math.Log(0.6) + (2 * Math.Log(0.26))) / 3), results[0].Confidence, 5);
    }

    [Fact]
    public void Advance_BeamTwo_FindsTheBetterCaptionGreedyMisses()
    {
        var (greedy, _, _) = Run(windows: 1, beam: 1, maxTokens: 4, compaction: false);
        var (beam, _, _) = Run(windows: 1, beam: 2, maxTokens: 4, compaction: false);

        Assert.Equal("b", beam[0].Text);
        Assert.True(beam[0].Ended);
        Assert.Equal((Math.Log(0.4) + Math.Log(0.97)) / 2, beam[0].Score, 5);
        Assert.Equal(Math.Exp(beam[0].Score), beam[0].Confidence, 5);
        Assert.True(beam[0].Score > greedy[0].Score);
    }

    [Fact]
    public void Advance_WindowsFinishingEarly_CompactionGivesTheSameCaptions()
    {
        // 4 windows; three end after two steps, window 2 never ends: the batch shrinks from 4 windows to 1.
        var (plain, plainSteps, none) = Run(windows: 4, beam: 2, maxTokens: 6, compaction: false, endlessWindow: 2);
        var (compacted, compactedSteps, compactions) = Run(windows: 4, beam: 2, maxTokens: 6, compaction: true, endlessWindow: 2);

        Assert.Equal(0, none);
        Assert.Equal(1, compactions);
        Assert.Equal(6, plainSteps);
        Assert.Equal(plainSteps, compactedSteps);
        Assert.Equal(plain.Select(r => (r.Text, r.Score)), compacted.Select(r => (r.Text, r.Score)));
        Assert.Equal(["b", "b", "a a a a a a", "b"], compacted.Select(r => r.Text));
        Assert.False(compacted[2].Ended);
    }

    [Fact]
    public void Advance_TwoWindowsBeamTwo_ParentsPointAtTheExpandedRows()
    {
        var search = new BeamSearch(capacity: 4, maxLength: 4);
        var tokens = new long[4];
        var beamIndex = new long[4];
        search.Begin(2, 2, Vocab, 1, End, 4, 1.0, tokens, beamIndex);
        var logprobs = new float[4 * Vocab];
        for (var r = 0; r < 4; r++)
        {
            Row(1).CopyTo(logprobs, r * Vocab);
        }

        search.Advance(0, logprobs, tokens, beamIndex, allowCompaction: false);

        // Step 0 expands only the first row of each window: both beams of window 1 continue row 2.
        Assert.Equal([4L, 5L, 4L, 5L], tokens);
        Assert.Equal([0L, 0L, 2L, 2L], beamIndex);

        // Step 1: the row of "a" is flat, the row of "b" ends: "b <end>" finishes, "a" continues with two words.
        for (var r = 0; r < 4; r++)
        {
            Row((int)tokens[r]).CopyTo(logprobs, r * Vocab);
        }

        search.Advance(1, logprobs, tokens, beamIndex, allowCompaction: false);

        Assert.Equal([4L, 3L, 4L, 3L], tokens);
        Assert.Equal([0L, 0L, 2L, 2L], beamIndex);
    }

    [Fact]
    public void Advance_MinWords_KeepsEndOutUntilTheCaptionIsThatLong()
    {
        // Unconstrained, beam 2 ends after "b" (p .97); with two words required it must go on after "b": the best
        // second word is then "b" (.02) or, from "a", "a" (.26), and <end> only comes as the third token.
        var (free, _, _) = Run(windows: 1, beam: 2, maxTokens: 5, compaction: false);
        var (longer, _, _) = Run(windows: 1, beam: 2, maxTokens: 5, compaction: false, minWords: 2);
        var (exact, steps, _) = Run(windows: 1, beam: 1, maxTokens: 4, compaction: false, minWords: 4);

        Assert.Equal("b", free[0].Text);
        Assert.True(longer[0].TokenIds.Count >= 2, longer[0].Text);
        Assert.Equal(4, exact[0].TokenIds.Count);
        Assert.False(exact[0].Ended);
        Assert.Equal(4, steps);
    }

    [Fact]
    public void Advance_NoRepeatNgram_NeverSaysARunOfThatManyWordsTwiceAndKeepsTheTrueConfidence()
    {
        // The endless window says "a" (.55) or "b" (.45) forever: greedy repeats "a"; with runs of 3 words unrepeatable,
        // "a a a" may not come again, so "b" comes fourth, after which "a a" is free twice.
        var (free, _, _) = Run(windows: 1, beam: 1, maxTokens: 6, compaction: false, endlessWindow: 0);
        var (ruled, _, _) = Run(windows: 1, beam: 1, maxTokens: 6, compaction: false, endlessWindow: 0, noRepeatNgram: 3);
        var (bigrams, _, _) = Run(windows: 1, beam: 2, maxTokens: 3, compaction: false, endlessWindow: 0, noRepeatNgram: 2);

        Assert.Equal("a a a a a a", free[0].Text);
        Assert.Equal("a a a b a a", ruled[0].Text);
        Assert.Equal(Math.Exp(((5 * Math.Log(0.55)) + Math.Log(0.45)) / 6), ruled[0].Confidence, 5);
        var words = bigrams[0].Text.Split(' ');
        Assert.Equal(3, words.Length);
        Assert.NotEqual((words[0], words[1]), (words[1], words[2]));
    }

    [Fact]
    public void Advance_EndAtFirstRank_StopsGreedyWithEndCounted()
    {
        var search = new BeamSearch(capacity: 1, maxLength: 5);
        var tokens = new long[1];
        var beamIndex = new long[1];
        search.Begin(1, 1, Vocab, 1, End, 5, 1.0, tokens, beamIndex);
        var row = new float[Vocab];
        Array.Fill(row, MathF.Log(0.1f));
        row[End] = MathF.Log(0.5f);

        var progress = search.Advance(0, row, tokens, beamIndex, allowCompaction: false);
        var result = search.Result(0, Words);

        Assert.Equal(SearchProgress.Finished, progress);
        Assert.Equal("", result.Text);
        Assert.Empty(result.TokenIds);
        Assert.True(result.Ended);
        Assert.Equal(0.5, result.Confidence, 5);
    }
}
