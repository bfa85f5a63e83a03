using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CaptionDaemon.Training.Models;

/// <summary>One pre-LayerNorm decoder layer: causal self-attention, cross-attention over the memory, feed-forward.</summary>
internal sealed class CaptionDecoderLayer : Module
{
    private readonly LayerNorm _selfNorm;
    private readonly MultiHeadAttention _selfAttention;
    private readonly LayerNorm _crossNorm;
    private readonly MultiHeadAttention _crossAttention;
    private readonly LayerNorm _feedForwardNorm;
    private readonly Linear _feedForwardIn;
    private readonly Linear _feedForwardOut;
    private readonly Dropout _dropout;

    public CaptionDecoderLayer(CaptionModelConfig config)
        : base(nameof(CaptionDecoderLayer))
    {
        _selfNorm = LayerNorm(config.DModel);
        _selfAttention = new MultiHeadAttention(config.DModel, config.Heads);
        _crossNorm = LayerNorm(config.DModel);
        _crossAttention = new MultiHeadAttention(config.DModel, config.Heads);
        _feedForwardNorm = LayerNorm(config.DModel);
        _feedForwardIn = Linear(config.DModel, config.FeedForward);
        _feedForwardOut = Linear(config.FeedForward, config.DModel);
        _dropout = Dropout(config.Dropout);
        RegisterComponents();
    }

    internal LayerNorm SelfNorm => _selfNorm;

    internal MultiHeadAttention SelfAttention => _selfAttention;

    internal LayerNorm CrossNorm => _crossNorm;

    internal MultiHeadAttention CrossAttention => _crossAttention;

    internal LayerNorm FeedForwardNorm => _feedForwardNorm;

    internal Linear FeedForwardIn => _feedForwardIn;

    internal Linear FeedForwardOut => _feedForwardOut;

    /// <summary>
    /// Runs the layer on <paramref name="x"/> <c>[B, L, d]</c>. Self-attention sees <paramref name="pastKeys"/> /
    /// <paramref name="pastValues"/> <c>[B, heads, P, head_dim]</c> followed by this call's own L positions (causal
    /// within them via <paramref name="causalMask"/>, null when L = 1). Returns the output and the extended self
    /// keys/values <c>[B, heads, P + L, head_dim]</c>, i.e. the next step's cache.
    /// </summary>
    public (Tensor Output, Tensor Keys, Tensor Values) forward(
        Tensor x, Tensor? pastKeys, Tensor? pastValues, Tensor crossKeys, Tensor crossValues, Tensor? causalMask)
    {
        using var scope = NewDisposeScope();
        var normed = _selfNorm.forward(x);
        var keys = _selfAttention.Keys(normed);
        var values = _selfAttention.Values(normed);
        if (pastKeys is not null && pastValues is not null)
        {
            keys = cat([pastKeys, keys], 2);
            values = cat([pastValues, values], 2);
        }

        var h = x.Plus(_dropout.forward(_selfAttention.Attend(normed, keys, values, causalMask)));
        h = h.Plus(_dropout.forward(_crossAttention.Attend(_crossNorm.forward(h), crossKeys, crossValues, null)));
        var inner = _dropout.forward(functional.relu(_feedForwardIn.forward(_feedForwardNorm.forward(h))));
        h = h.Plus(_dropout.forward(_feedForwardOut.forward(inner)));
        return (h.MoveToOuterDisposeScope(), keys.MoveToOuterDisposeScope(), values.MoveToOuterDisposeScope());
    }
}

/// <summary>
/// Pre-LayerNorm Transformer caption decoder: token embedding x sqrt(d) plus learned positions, layers of
/// self-attention, cross-attention and feed-forward, final LayerNorm, output tied to the token embedding.
/// </summary>
internal sealed class TransformerCaptionDecoder : Module<Tensor, Tensor, Tensor>
{
    private readonly Embedding _tokenEmbedding;
    private readonly Embedding _positionEmbedding;
    private readonly ModuleList<CaptionDecoderLayer> _layers;
    private readonly LayerNorm _finalNorm;
    private readonly Dropout _dropout;
    private readonly double _embeddingScale;

    // The scale as a Scalar the module keeps alive (see HeldScalars; a CI run failed in 'tensor * double' here).
    private readonly TorchSharp.Scalar _embeddingScaleScalar;
    private readonly int _maxTokens;

    public TransformerCaptionDecoder(CaptionModelConfig config)
        : base(nameof(TransformerCaptionDecoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        _tokenEmbedding = Embedding(config.VocabSize, config.DModel);
        _positionEmbedding = Embedding(config.MaxTokens, config.DModel);
        _layers = new ModuleList<CaptionDecoderLayer>();
        for (var i = 0; i < config.DecoderLayers; i++)
        {
            _layers.Add(new CaptionDecoderLayer(config));
        }

        _finalNorm = LayerNorm(config.DModel);
        _dropout = Dropout(config.Dropout);
        _embeddingScale = Math.Sqrt(config.DModel);
        _embeddingScaleScalar = _embeddingScale;
        _maxTokens = config.MaxTokens;

        // Tied output: logits = x E^T with x of unit scale after the final LayerNorm, so E ~ N(0, 1/d) gives logits
        // of unit scale at initialisation; E x sqrt(d) then feeds the first layer at unit scale too.
        using (no_grad())
        {
            init.normal_(_tokenEmbedding.weight!, 0, 1 / _embeddingScale);
            init.normal_(_positionEmbedding.weight!, 0, 0.1);
        }

        RegisterComponents();
    }

    internal Embedding TokenEmbedding => _tokenEmbedding;

    internal Embedding PositionEmbedding => _positionEmbedding;

    internal ModuleList<CaptionDecoderLayer> Layers => _layers;

    internal LayerNorm FinalNorm => _finalNorm;

    internal double EmbeddingScale => _embeddingScale;

    /// <summary>Teacher forcing: <paramref name="input"/> tokens <c>[B, L]</c> over memory <c>[B, T', d]</c> to logits <c>[B, L, V]</c>.</summary>
    public override Tensor forward(Tensor input, Tensor memory)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        var length = input.shape[1];
        if (length > _maxTokens)
        {
            throw new ArgumentException($"Decoder input has {length} tokens; the positional table holds {_maxTokens}.", nameof(input));
        }

        var (crossKeys, crossValues) = CrossKeyValues(memory);
        var mask = triu(full(length, length, HeldScalars.NegativeInfinity, device: input.device), 1);
        var x = Embed(input, 0);
        for (var i = 0; i < _layers.Count; i++)
        {
            (x, _, _) = _layers[i].forward(x, null, null, crossKeys[i], crossValues[i], mask);
        }

        return Logits(x).MoveToOuterDisposeScope();
    }

    /// <summary>Cross-attention keys and values of every layer, each <c>[layers, B, heads, T', head_dim]</c>.</summary>
    public (Tensor Keys, Tensor Values) CrossKeyValues(Tensor memory)
    {
        using var scope = NewDisposeScope();
        var keys = stack(_layers.Select(layer => layer.CrossAttention.Keys(memory)), 0);
        var values = stack(_layers.Select(layer => layer.CrossAttention.Values(memory)), 0);
        return (keys.MoveToOuterDisposeScope(), values.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// One incremental step at position P = <c>pastKeys.shape[3]</c>: <paramref name="tokens"/> <c>[B]</c> with the
    /// self-attention cache <c>[layers, B, heads, P, head_dim]</c> to log-probabilities <c>[B, V]</c> and the cache
    /// extended to P + 1.
    /// </summary>
    public (Tensor LogProbs, Tensor PresentKeys, Tensor PresentValues) Step(
        Tensor tokens, Tensor pastKeys, Tensor pastValues, Tensor crossKeys, Tensor crossValues)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(pastKeys);
        ArgumentNullException.ThrowIfNull(pastValues);
        ArgumentNullException.ThrowIfNull(crossKeys);
        ArgumentNullException.ThrowIfNull(crossValues);
        using var scope = NewDisposeScope();
        var position = pastKeys.shape[3];
        if (position >= _maxTokens)
        {
            throw new ArgumentException($"Decoder step at position {position}; the positional table holds {_maxTokens}.", nameof(pastKeys));
        }

        var x = Embed(tokens.unsqueeze(1), position);
        var presentKeys = new Tensor[_layers.Count];
        var presentValues = new Tensor[_layers.Count];
        for (var i = 0; i < _layers.Count; i++)
        {
            (x, presentKeys[i], presentValues[i]) = _layers[i].forward(x, pastKeys[i], pastValues[i], crossKeys[i], crossValues[i], null);
        }

        var logProbs = functional.log_softmax(Logits(x).squeeze(1), -1);
        return (logProbs.MoveToOuterDisposeScope(), stack(presentKeys, 0).MoveToOuterDisposeScope(), stack(presentValues, 0).MoveToOuterDisposeScope());
    }

    private Tensor Embed(Tensor tokens, long firstPosition)
    {
        var positions = arange(firstPosition, firstPosition + tokens.shape[1], dtype: ScalarType.Int64, device: tokens.device);
        var x = _tokenEmbedding.forward(tokens).mul(_embeddingScaleScalar).Plus(_positionEmbedding.forward(positions));
        return _dropout.forward(x);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _embeddingScaleScalar.Dispose();
        }

        base.Dispose(disposing);
    }

    private Tensor Logits(Tensor x) => matmul(_finalNorm.forward(x), _tokenEmbedding.weight!.t());
}
