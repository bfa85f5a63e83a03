using CaptionDaemon.Inference.Confidence;

namespace CaptionDaemon.Inference.Decoding;

/// <summary>
/// What was added to a step's log-probabilities before the search saw them (label fusion): the search ranks by the
/// biased scores but keeps each hypothesis' own log-probability, from which its sequence confidence comes.
/// </summary>
internal interface ITokenBonus
{
    /// <summary>The bonus that the last step's row <paramref name="row"/> got on <paramref name="token"/>; 0 for none.</summary>
    float Bonus(int row, int token);
}

/// <summary>What a search step left to do.</summary>
internal enum SearchProgress
{
    /// <summary>Some window is still searching; the row layout is unchanged.</summary>
    Continue,

    /// <summary>Some window is still searching and the finished windows' rows were dropped (see <see cref="BeamSearch.KeptSlots"/>).</summary>
    Compacted,

    /// <summary>Every window has its caption.</summary>
    Finished,
}

/// <summary>
/// Lockstep beam search over many windows (a beam of 1 is greedy decoding). Rows are grouped by window: slot s holds
/// rows s*beam .. s*beam+beam-1. Every step takes each searching window's 2*beam best continuations by summed
/// log-probability; an <c>&lt;end&gt;</c> among its first beam ranks becomes a finished hypothesis, scored
/// sum / length^alpha; the best beam other continuations become the live rows (their parent rows go to beam_index).
/// A window stops when it has beam finished hypotheses that all score at least as well as its best live one, or at
/// the maximum length (live rows are then finished as cut). With a no-repeat n-gram size n, a token that would make a
/// row's last n words a run the row has already said is no candidate. All state lives in arrays sized once, so a step
/// allocates nothing.
/// </summary>
internal sealed class BeamSearch
{
    private readonly int _capacity;
    private readonly int _maxLength;
    private readonly double[] _cum;
    private readonly double[] _nextCum;
    private readonly double[] _raw;
    private readonly double[] _nextRaw;
    private readonly int[] _nextParent;
    private readonly int[] _nextToken;
    private readonly int[] _slotWindow;
    private readonly int[] _kept;
    private readonly bool[] _windowDone;
    private readonly int[] _finishedCount;
    private readonly double[] _finishedScore;
    private readonly double[] _finishedSum;
    private readonly int[] _finishedWords;
    private readonly bool[] _finishedEnded;
    private readonly int[] _finishedTokens;
    private readonly double[] _candidateScore;
    private readonly int[] _candidateRow;
    private readonly int[] _candidateToken;
    private readonly int[] _banned;
    private int[] _history;
    private int[] _nextHistory;

    private int _beam;
    private int _vocab;
    private int _endToken;
    private int _maxTokens;
    private int _minWords;
    private int _noRepeat;
    private double _alpha;
    private int _slots;
    private int _keptCount;
    private int _previousSlots;

    public BeamSearch(int capacity, int maxLength)
    {
        _capacity = capacity;
        _maxLength = maxLength;
        _cum = new double[capacity];
        _nextCum = new double[capacity];
        _raw = new double[capacity];
        _nextRaw = new double[capacity];
        _nextParent = new int[capacity];
        _nextToken = new int[capacity];
        _slotWindow = new int[capacity];
        _kept = new int[capacity];
        _windowDone = new bool[capacity];
        _finishedCount = new int[capacity];
        _finishedScore = new double[capacity];
        _finishedSum = new double[capacity];
        _finishedWords = new int[capacity];
        _finishedEnded = new bool[capacity];
        _finishedTokens = new int[capacity * maxLength];
        _candidateScore = new double[2 * capacity];
        _candidateRow = new int[2 * capacity];
        _candidateToken = new int[2 * capacity];
        _banned = new int[maxLength];
        _history = new int[capacity * maxLength];
        _nextHistory = new int[capacity * maxLength];
    }

    /// <summary>Rows of the current layout (slots x beam).</summary>
    public int Rows => _slots * _beam;

    /// <summary>Slots before the last compaction.</summary>
    public int PreviousSlots => _previousSlots;

    /// <summary>Old slot index of every slot kept by the last compaction, in order.</summary>
    public ReadOnlySpan<int> KeptSlots => _kept.AsSpan(0, _keptCount);

    public int ActiveWindows { get; private set; }

    /// <summary>The window a row of the current layout belongs to.</summary>
    public int WindowOf(int row) => _slotWindow[row / _beam];

    /// <summary>The tokens a row of the current layout has emitted before step <paramref name="step"/> (the first <paramref name="step"/>).</summary>
    public ReadOnlySpan<int> History(int row, int step) => _history.AsSpan(row * _maxLength, step);

    /// <summary>
    /// Starts a search: every row gets <paramref name="startToken"/>, beam indices are the identity. No hypothesis ends
    /// before it has <paramref name="minWords"/> words, and none repeats a run of <paramref name="noRepeatNgram"/> words
    /// (0: no such rule).
    /// </summary>
    public void Begin(
        int windows, int beam, int vocab, int startToken, int endToken, int maxTokens, double alpha, Span<long> tokens, Span<long> beamIndex, int minWords = 0, int noRepeatNgram = 0)
    {
        if (windows * beam > _capacity || maxTokens > _maxLength)
        {
            throw new InvalidOperationException("The search is larger than its buffers.");
        }

        _beam = beam;
        _vocab = vocab;
        _endToken = endToken;
        _maxTokens = maxTokens;
        _minWords = minWords;
        _noRepeat = noRepeatNgram;
        _alpha = alpha;
        _slots = windows;
        ActiveWindows = windows;
        for (var w = 0; w < windows; w++)
        {
            _slotWindow[w] = w;
            _windowDone[w] = false;
            _finishedCount[w] = 0;
        }

        for (var r = 0; r < Rows; r++)
        {
            _cum[r] = 0;
            _raw[r] = 0;
            tokens[r] = startToken;
            beamIndex[r] = r;
        }
    }

    /// <summary>
    /// Consumes the log-probabilities [Rows, vocab] of step <paramref name="step"/> (which emitted token number step+1)
    /// and writes the next step's tokens and beam indices. With <paramref name="allowCompaction"/>, drops the rows of
    /// finished windows once they are at least half of all rows. When <paramref name="bonus"/> says what was added to the
    /// log-probabilities, hypotheses are ranked with it but their sums (and so their sequence confidences) leave it out.
    /// </summary>
    public SearchProgress Advance(int step, ReadOnlySpan<float> logprobs, Span<long> tokens, Span<long> beamIndex, bool allowCompaction, ITokenBonus? bonus = null)
    {
        var rows = Rows;
        var last = step + 1 >= _maxTokens;
        for (var s = 0; s < _slots; s++)
        {
            var w = _slotWindow[s];
            var first = s * _beam;
            if (_windowDone[w])
            {
                // Lockstep filler: the row keeps itself; its output is ignored.
                for (var j = 0; j < _beam; j++)
                {
                    _nextParent[first + j] = first + j;
                    _nextToken[first + j] = _endToken;
                    _nextCum[first + j] = _cum[first + j];
                    _nextRaw[first + j] = _raw[first + j];
                }

                continue;
            }

            SearchWindow(w, first, step, logprobs, bonus);
            if (last)
            {
                for (var j = 0; j < _beam; j++)
                {
                    AddFinished(w, _nextParent[first + j], step, _nextToken[first + j], _nextCum[first + j], _nextRaw[first + j], ended: false);
                }

                Finish(w);
            }
            else if (_finishedCount[w] == _beam && WorstFinished(w) >= Normalised(_nextCum[first], step + 1))
            {
                Finish(w);
            }
        }

        // Histories of the new rows: parent's prefix + the new token.
        for (var r = 0; r < rows; r++)
        {
            var parent = _nextParent[r];
            _history.AsSpan(parent * _maxLength, step).CopyTo(_nextHistory.AsSpan(r * _maxLength, step));
            _nextHistory[(r * _maxLength) + step] = _nextToken[r];
        }

        (_history, _nextHistory) = (_nextHistory, _history);
        if (ActiveWindows == 0)
        {
            return SearchProgress.Finished;
        }

        var progress = SearchProgress.Continue;
        if (allowCompaction && ActiveWindows * 2 <= _slots)
        {
            Compact();
            progress = SearchProgress.Compacted;
        }

        for (var r = 0; r < Rows; r++)
        {
            _cum[r] = _nextCum[r];
            _raw[r] = _nextRaw[r];
            tokens[r] = _nextToken[r];
            beamIndex[r] = _nextParent[r];
        }

        return progress;
    }

    /// <summary>
    /// The best finished hypothesis of a window, carrying the window's labels and label probabilities, its confidence
    /// calibrated by <paramref name="calibration"/> when the bundle has one.
    /// </summary>
    public CaptionResult Result(
        int window,
        IReadOnlyList<string> vocabulary,
        IReadOnlyList<LabelScore>? labels = null,
        float[]? labelProbabilities = null,
        ConfidenceCalibration? calibration = null)
    {
        var n = _finishedCount[window];
        var best = window * _beam;
        for (var i = 1; i < n; i++)
        {
            if (_finishedScore[(window * _beam) + i] > _finishedScore[best])
            {
                best = (window * _beam) + i;
            }
        }

        var words = _finishedWords[best];
        var ids = _finishedTokens.AsSpan(best * _maxLength, words).ToArray();
        var text = string.Join(' ', ids.Select(id => vocabulary[id]));
        var length = words + (_finishedEnded[best] ? 1 : 0);
        var sequence = (float)Math.Clamp(Math.Exp(_finishedSum[best] / Math.Max(length, 1)), 0.0, 1.0);
        var confidence = calibration?.Apply(sequence, labelProbabilities) ?? sequence;
        return new CaptionResult(text, confidence, ids, _finishedScore[best], _finishedEnded[best])
        {
            SequenceConfidence = sequence,
            Labels = labels ?? [],
            LabelProbabilities = labelProbabilities ?? [],
        };
    }

    private void SearchWindow(int window, int first, int step, ReadOnlySpan<float> logprobs, ITokenBonus? bonus)
    {
        // At the first step every row of a window is the same <start>: expand only the first to avoid duplicates.
        var parents = step == 0 ? 1 : _beam;
        var want = 2 * _beam;
        var n = 0;
        var scores = _candidateScore.AsSpan(0, want);
        var rowsOf = _candidateRow.AsSpan(0, want);
        var tokensOf = _candidateToken.AsSpan(0, want);
        for (var j = 0; j < parents; j++)
        {
            var row = first + j;
            var lp = logprobs.Slice(row * _vocab, _vocab);
            var baseScore = _cum[row];
            var banned = _banned.AsSpan(0, BannedTokens(row, step));
            for (var v = 0; v < lp.Length; v++)
            {
                var score = baseScore + lp[v];
                if (n == want && !(score > scores[n - 1]))
                {
                    continue;
                }

                if ((v == _endToken && step < _minWords) || (banned.Length > 0 && banned.Contains(v)))
                {
                    continue;
                }

                // Insert in descending order; ties keep the earlier (lower row, lower token) first.
                var at = n < want ? n : n - 1;
                while (at > 0 && score > scores[at - 1])
                {
                    scores[at] = scores[at - 1];
                    rowsOf[at] = rowsOf[at - 1];
                    tokensOf[at] = tokensOf[at - 1];
                    at--;
                }

                scores[at] = score;
                rowsOf[at] = row;
                tokensOf[at] = v;
                if (n < want)
                {
                    n++;
                }
            }
        }

        var live = 0;
        for (var c = 0; c < n && live < _beam; c++)
        {
            // The hypothesis' own log-probability: its parent's plus the token's, less any bonus the token got.
            var row = rowsOf[c];
            var raw = _raw[row] + (scores[c] - _cum[row]) - (bonus?.Bonus(row, tokensOf[c]) ?? 0);
            if (tokensOf[c] == _endToken)
            {
                if (c < _beam)
                {
                    AddFinished(window, row, step, _endToken, scores[c], raw, ended: true);
                }

                continue;
            }

            _nextParent[first + live] = row;
            _nextToken[first + live] = tokensOf[c];
            _nextCum[first + live] = scores[c];
            _nextRaw[first + live] = raw;
            live++;
        }

        if (live < _beam)
        {
            throw new InvalidOperationException(
                $"The decoder's log-probabilities gave {live} usable continuations for a beam of {_beam} (non-finite values?).");
        }
    }

    /// <summary>
    /// Writes into <c>_banned</c> the tokens that would repeat one of the row's runs of <c>_noRepeat</c> words: for every
    /// earlier position where the row's last n-1 words occurred, the word that followed them. Returns how many.
    /// </summary>
    private int BannedTokens(int row, int step)
    {
        var n = _noRepeat;
        if (n < 1 || step < n - 1)
        {
            return 0;
        }

        var history = _history.AsSpan(row * _maxLength, step);
        var tail = history[(step - n + 1)..];
        var count = 0;
        for (var i = 0; i + n - 1 < step; i++)
        {
            if (history.Slice(i, n - 1).SequenceEqual(tail))
            {
                _banned[count++] = history[i + n - 1];
            }
        }

        return count;
    }

    /// <summary>Keeps a hypothesis (parent's first <paramref name="step"/> tokens + <paramref name="token"/>) among the window's best beam.</summary>
    private void AddFinished(int window, int parentRow, int step, int token, double sum, double raw, bool ended)
    {
        var score = Normalised(sum, step + 1);
        var baseIndex = window * _beam;
        int slot;
        if (_finishedCount[window] < _beam)
        {
            slot = baseIndex + _finishedCount[window]++;
        }
        else
        {
            slot = baseIndex;
            for (var i = 1; i < _beam; i++)
            {
                if (_finishedScore[baseIndex + i] < _finishedScore[slot])
                {
                    slot = baseIndex + i;
                }
            }

            if (!(score > _finishedScore[slot]))
            {
                return;
            }
        }

        var words = ended ? step : step + 1;
        var target = _finishedTokens.AsSpan(slot * _maxLength, _maxLength);
        _history.AsSpan(parentRow * _maxLength, step).CopyTo(target);
        if (!ended)
        {
            target[step] = token;
        }

        _finishedScore[slot] = score;
        _finishedSum[slot] = raw;
        _finishedWords[slot] = words;
        _finishedEnded[slot] = ended;
    }

    private double WorstFinished(int window)
    {
        var worst = double.PositiveInfinity;
        for (var i = 0; i < _finishedCount[window]; i++)
        {
            worst = Math.Min(worst, _finishedScore[(window * _beam) + i]);
        }

        return worst;
    }

    private double Normalised(double sum, int length) => _alpha == 0 ? sum : sum / Math.Pow(length, _alpha);

    private void Finish(int window)
    {
        _windowDone[window] = true;
        ActiveWindows--;
    }

    /// <summary>Moves the searching windows' slots to the front (every destination precedes its source).</summary>
    private void Compact()
    {
        _previousSlots = _slots;
        _keptCount = 0;
        for (var s = 0; s < _slots; s++)
        {
            var w = _slotWindow[s];
            if (_windowDone[w])
            {
                continue;
            }

            var to = _keptCount;
            _kept[_keptCount++] = s;
            _slotWindow[to] = w;
            for (var j = 0; j < _beam; j++)
            {
                int src = (s * _beam) + j, dst = (to * _beam) + j;
                _nextParent[dst] = _nextParent[src];
                _nextToken[dst] = _nextToken[src];
                _nextCum[dst] = _nextCum[src];
                _nextRaw[dst] = _nextRaw[src];
                _history.AsSpan(src * _maxLength, _maxLength).CopyTo(_history.AsSpan(dst * _maxLength, _maxLength));
            }
        }

        _slots = _keptCount;
    }
}
