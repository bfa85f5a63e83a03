namespace CaptionDaemon.Inference;

/// <summary>How captions are searched for: beam width, length normalisation and caption length.</summary>
public sealed record DecodeOptions
{
    /// <summary>Beam search with 3 beams and length normalisation alpha 1.0.</summary>
    public static DecodeOptions Default { get; } = new();

    /// <summary>Greedy decoding (a beam of 1).</summary>
    public static DecodeOptions Greedy { get; } = new() { Beam = 1 };

    /// <summary>Hypotheses kept per window; 1 is greedy decoding. Default 3.</summary>
    public int Beam { get; init; } = 3;

    /// <summary>
    /// Exponent alpha of the length normalisation: a hypothesis scores (sum of its token log-probabilities) / length^alpha,
    /// the length counting <c>&lt;end&gt;</c>. 0 ranks by total log-probability (favouring short captions); default 1.0
    /// ranks by mean log-probability.
    /// </summary>
    public double LengthPenalty { get; init; } = 1.0;

    /// <summary>
    /// Maximum tokens per caption (<c>&lt;end&gt;</c> included); null uses the bundle's <c>max_caption_tokens</c>, which is
    /// also the upper limit. A caption that reaches it without <c>&lt;end&gt;</c> is cut there.
    /// </summary>
    public int? MaxTokens { get; init; }

    /// <summary>
    /// Words a caption has at least: <c>&lt;end&gt;</c> is not chosen before. Default 0. With
    /// <c>MinWords = MaxTokens</c> every caption is exactly that long, which times models at equal work whatever they say.
    /// </summary>
    public int MinWords { get; init; }

    /// <summary>
    /// A caption never says the same run of this many words twice ("a sheep bleats while a sheep bleats"): a word that
    /// would complete a repeat is not a candidate. Default 3; 0 turns the rule off. It changes which caption is chosen,
    /// not the decoder's probabilities.
    /// </summary>
    public int NoRepeatNgram { get; init; } = 3;

    /// <summary>
    /// Weight of label fusion: at every step each word that names a label the encoder reports (the bundle's
    /// <c>labels[].words</c>) gets weight x the label's probability added to its log-probability. 0 turns it off; null
    /// uses the bundle's <c>label_fusion</c> (0 when absent). Captions are ranked by the fused scores; their sequence
    /// confidence is still the decoder's own (the bonus left out). A bundle is calibrated with the weight it ships.
    /// </summary>
    public double? LabelFusion { get; init; }
}
