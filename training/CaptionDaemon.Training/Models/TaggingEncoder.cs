using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CaptionDaemon.Training.Models;

/// <summary>
/// What <see cref="TaggingEncoder"/> gives: decoder memory <c>[B, T', DModel]</c>, pooled embedding <c>[B, HeadChannels]</c>,
/// label logits <c>[B, Labels]</c>, and the classifier's input <c>[B, HeadChannels]</c> (mean + max over time).
/// </summary>
internal readonly record struct TaggingOutput(Tensor Memory, Tensor Embedding, Tensor Logits, Tensor ClassifierInput)
{
    /// <summary>Moves the four tensors out of the innermost dispose scope.</summary>
    public TaggingOutput MoveToOuterDisposeScope() =>
        new(Memory.MoveToOuterDisposeScope(), Embedding.MoveToOuterDisposeScope(), Logits.MoveToOuterDisposeScope(), ClassifierInput.MoveToOuterDisposeScope());
}

/// <summary>
/// Waveform <c>[B, S]</c> to <see cref="TaggingOutput"/>: the caption model's <see cref="LogMelFrontend"/>, a 3x3 stride-2
/// stem (Conv, BatchNorm, SiLU), stages of MobileNetV2-style inverted residual blocks (pointwise expansion, depthwise
/// 3x3, 2x2 average pooling in a stage's first block where asked, pointwise projection; a residual where the shape
/// allows), a pointwise head; its features are averaged over frequency, one vector per memory frame. The embedding is
/// their mean over time; the logits read mean + max over time (PANNs' pooling: the mean alone dilutes a short event in
/// a 10 s window).
/// <para>
/// Convolutions with input gradients go through <see cref="SafeConvolution"/>, which needs stride 1: hence pooling
/// instead of strided depthwise layers. The stem reads the spectrogram detached, so libtorch never runs its unreliable
/// backward-data kernel on the one-channel input; the price is that the front end's BatchNorm keeps its initial affine
/// (its running statistics still adapt), which the stem's weights make up for.
/// </para>
/// </summary>
internal sealed class TaggingEncoder : Module<Tensor, TaggingOutput>
{
    private readonly LogMelFrontend _frontend;
    private readonly Conv2d _stem;
    private readonly BatchNorm2d _stemNorm;
    private readonly ModuleList<InvertedResidual> _blocks;
    private readonly Conv2d _head;
    private readonly BatchNorm2d _headNorm;
    private readonly Linear _projection;
    private readonly LayerNorm _projectionNorm;
    private readonly Linear _classifier;
    private readonly Linear? _labelProjection;
    private readonly LayerNorm? _labelNorm;
    private readonly double _dropout;

    public TaggingEncoder(TaggingEncoderConfig config)
        : base(nameof(TaggingEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        _frontend = new LogMelFrontend(config.Frontend);
        _stem = Conv2d(1, config.StemChannels, 3, stride: 2, padding: 1, bias: false);
        _stemNorm = BatchNorm2d(config.StemChannels);
        _blocks = new ModuleList<InvertedResidual>();
        var channels = config.StemChannels;
        foreach (var stage in config.Stages)
        {
            for (var b = 0; b < stage.Blocks; b++)
            {
                _blocks.Add(new InvertedResidual(channels, stage.Channels, stage.Expansion, pool: b == 0 && stage.Pool));
                channels = stage.Channels;
            }
        }

        _head = Conv2d(channels, config.HeadChannels, 1, bias: false);
        _headNorm = BatchNorm2d(config.HeadChannels);
        _projection = Linear(config.HeadChannels, config.DModel);
        _projectionNorm = LayerNorm(config.DModel);
        _classifier = Linear(config.HeadChannels, config.Labels.Count);
        if (config.LabelMemory)
        {
            _labelProjection = Linear(config.Labels.Count, config.DModel);
            _labelNorm = LayerNorm(config.DModel);
        }

        _dropout = config.Dropout;
        RegisterComponents();
    }

    public TaggingEncoderConfig Config { get; }

    internal LogMelFrontend Frontend => _frontend;

    internal Conv2d Stem => _stem;

    internal BatchNorm2d StemNorm => _stemNorm;

    internal ModuleList<InvertedResidual> Blocks => _blocks;

    internal Conv2d Head => _head;

    internal BatchNorm2d HeadNorm => _headNorm;

    internal Linear Projection => _projection;

    internal LayerNorm ProjectionNorm => _projectionNorm;

    internal Linear Classifier => _classifier;

    internal Linear? LabelProjection => _labelProjection;

    internal LayerNorm? LabelNorm => _labelNorm;

    /// <summary>
    /// The layers that turn what the tagger recognises into decoder memory (the frame projection and the label frame):
    /// tagging never trains them, so a caption model trains them even while the rest of the encoder is frozen.
    /// </summary>
    public IEnumerable<TorchSharp.Modules.Parameter> MemoryParameters() =>
        new Module?[] { _projection, _projectionNorm, _labelProjection, _labelNorm }.OfType<Module>().SelectMany(m => m.parameters());

    public override TaggingOutput forward(Tensor input) => Forward(input, maskSpectrogram: null);

    /// <param name="waveform">Audio <c>[B, S]</c> at the front end's sample rate.</param>
    /// <param name="maskSpectrogram">Applied to the normalised log-mel <c>[B, 1, MelBins, T]</c> before the CNN (SpecAugment in training).</param>
    public TaggingOutput Forward(Tensor waveform, Func<Tensor, Tensor>? maskSpectrogram)
    {
        ArgumentNullException.ThrowIfNull(waveform);
        using var scope = NewDisposeScope();
        return FromSpectrogram(_frontend.forward(waveform), maskSpectrogram).MoveToOuterDisposeScope();
    }

    /// <summary><see cref="Forward"/> from log-mel dB <c>[B, MelBins, T]</c> (the feature cache's values): the front end's BatchNorm and the rest.</summary>
    public TaggingOutput ForwardLogMel(Tensor logMel, Func<Tensor, Tensor>? maskSpectrogram)
    {
        ArgumentNullException.ThrowIfNull(logMel);
        using var scope = NewDisposeScope();
        return FromSpectrogram(_frontend.Normalise(logMel), maskSpectrogram).MoveToOuterDisposeScope();
    }

    private TaggingOutput FromSpectrogram(Tensor spectrogram, Func<Tensor, Tensor>? maskSpectrogram)
    {
        if (maskSpectrogram is not null)
        {
            spectrogram = maskSpectrogram(spectrogram);
        }

        var x = functional.silu(HeldScalars.BatchNorm(_stemNorm, _stem.forward(spectrogram.detach())));
        foreach (var block in _blocks)
        {
            x = block.forward(x);
        }

        x = functional.silu(HeldScalars.BatchNorm(_headNorm, SafeConvolution.Forward(_head, x)));
        var features = x.mean([2]).transpose(1, 2);                  // [B, T', C]
        var embedding = features.mean([1]);                          // [B, C]
        var pooled = embedding.Plus(features.amax([1]));
        var logits = _classifier.forward(functional.dropout(pooled, _dropout, training));
        var memory = _projectionNorm.forward(functional.relu(_projection.forward(features)));
        if (_labelProjection is not null)
        {
            // The logits, not the probabilities: mostly tiny probabilities would squash the ranking the decoder needs.
            // Detached, so captioning never bends the tagger's labels.
            var labelFrame = _labelNorm!.forward(functional.relu(_labelProjection.forward(logits.detach())));
            memory = cat([memory, labelFrame.unsqueeze(1)], 1);
        }

        return new TaggingOutput(memory, embedding, logits, pooled);
    }

    /// <summary>Memory frames of a window of <paramref name="samples"/>: the front end's frames through the stem's and stages' halvings.</summary>
    public int MemoryFrames(int samples) => Config.MemoryFrames(samples);

    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>Pointwise expansion, depthwise 3x3, optional 2x2 average pooling, pointwise projection; BatchNorm throughout, SiLU after the first two.</summary>
    internal sealed class InvertedResidual : Module<Tensor, Tensor>
    {
        private readonly Conv2d? _expand;
        private readonly BatchNorm2d? _expandNorm;
        private readonly Conv2d _depthwise;
        private readonly BatchNorm2d _depthwiseNorm;
        private readonly Conv2d _project;
        private readonly BatchNorm2d _projectNorm;
        private readonly bool _pool;
        private readonly bool _residual;

        public InvertedResidual(int inChannels, int outChannels, int expansion, bool pool)
            : base(nameof(InvertedResidual))
        {
            var hidden = inChannels * expansion;
            if (expansion != 1)
            {
                _expand = Conv2d(inChannels, hidden, 1, bias: false);
                _expandNorm = BatchNorm2d(hidden);
            }

            _depthwise = Conv2d(hidden, hidden, 3, padding: 1, groups: hidden, bias: false);
            _depthwiseNorm = BatchNorm2d(hidden);
            _project = Conv2d(hidden, outChannels, 1, bias: false);
            _projectNorm = BatchNorm2d(outChannels);
            _pool = pool;
            _residual = !pool && inChannels == outChannels;
            RegisterComponents();
        }

        internal Conv2d? Expand => _expand;

        internal BatchNorm2d? ExpandNorm => _expandNorm;

        internal Conv2d Depthwise => _depthwise;

        internal BatchNorm2d DepthwiseNorm => _depthwiseNorm;

        internal Conv2d Project => _project;

        internal BatchNorm2d ProjectNorm => _projectNorm;

        internal bool Pool => _pool;

        internal bool Residual => _residual;

        public override Tensor forward(Tensor input)
        {
            var x = input;
            if (_expand is not null)
            {
                x = functional.silu(HeldScalars.BatchNorm(_expandNorm!, SafeConvolution.Forward(_expand, x)));
            }

            x = functional.silu(HeldScalars.BatchNorm(_depthwiseNorm, SafeConvolution.Forward(_depthwise, x)));
            if (_pool)
            {
                x = functional.avg_pool2d(x, 2);
            }

            x = HeldScalars.BatchNorm(_projectNorm, SafeConvolution.Forward(_project, x));
            return _residual ? x.Plus(input) : x;
        }
    }
}
