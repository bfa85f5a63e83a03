using CaptionDaemon.Training.Text;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CaptionDaemon.Training.Models;

/// <summary>Parameter counts of a model; the encoder includes the front end.</summary>
internal readonly record struct ParameterCounts(long Encoder, long Decoder)
{
    public long Total => Encoder + Decoder;
}

/// <summary>
/// The audio captioning model (docs/captioning-core.md, "Model"): log-mel front end and CNN encoder, Transformer
/// decoder. Besides teacher-forced <see cref="forward"/> it offers exactly the computations of the exported ONNX
/// graphs (<see cref="Encode(Tensor)"/>, <see cref="CrossKeyValues"/>, <see cref="Step"/>), so parity can be tested and
/// TorchSharp-side decoding behaves like the daemon's.
/// </summary>
internal sealed class CaptionModel : Module<Tensor, Tensor, Tensor>
{
    public const int PadToken = 0;
    public const int StartToken = 1;
    public const int EndToken = 2;
    public const int UnknownToken = 3;

    /// <summary>File names inside a checkpoint folder.</summary>
    public const string WeightsFileName = "model.bin";
    public const string ConfigFileName = "config.json";
    public const string VocabFileName = Vocabulary.FileName;

    // Either the CNN encoder with its own front end, or the tagging encoder (which holds its front end): null fields are
    // not registered, so a CNN model's state dict keeps its names.
    private readonly LogMelFrontend? _frontend;
    private readonly CnnAudioEncoder? _encoder;
    private readonly TaggingEncoder? _tagger;
    private readonly TransformerCaptionDecoder _decoder;
    private bool _encoderFrozen;

    public CaptionModel(CaptionModelConfig config)
        : base(nameof(CaptionModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        if (config.Tagger is { } tagger)
        {
            _tagger = new TaggingEncoder(tagger);
        }
        else
        {
            _frontend = new LogMelFrontend(config);
            _encoder = new CnnAudioEncoder(config);
        }

        _decoder = new TransformerCaptionDecoder(config);
        RegisterComponents();
    }

    public CaptionModelConfig Config { get; }

    internal LogMelFrontend Frontend => _tagger?.Frontend ?? _frontend!;

    /// <summary>The CNN encoder; null when the model runs on a <see cref="Tagger"/>.</summary>
    internal CnnAudioEncoder? Encoder => _encoder;

    /// <summary>The tagging encoder (front end included); null for the CNN.</summary>
    internal TaggingEncoder? Tagger => _tagger;

    /// <summary>
    /// Whether the encoder (front end included) is frozen: its parameters take no gradient and its BatchNorms keep their
    /// statistics even in training mode, so only the decoder learns (the first phase of captioning on a trained tagger).
    /// A tagger's memory layers (<see cref="TaggingEncoder.MemoryParameters"/>) still learn: tagging never trained them.
    /// </summary>
    public bool EncoderFrozen
    {
        get => _encoderFrozen;
        set
        {
            _encoderFrozen = value;
            var memory = new HashSet<object>(_tagger?.MemoryParameters() ?? [], ReferenceEqualityComparer.Instance);
            foreach (var parameter in EncoderParameters())
            {
                parameter.requires_grad = !value || memory.Contains(parameter);
            }

            train(training);
        }
    }

    public override void train(bool on = true)
    {
        base.train(on);
        if (_encoderFrozen)
        {
            foreach (var module in EncoderModules())
            {
                module.eval();
            }
        }
    }

    /// <summary>The parameters of the encoder, front end included.</summary>
    public IEnumerable<TorchSharp.Modules.Parameter> EncoderParameters() => EncoderModules().SelectMany(m => m.parameters());

    private IEnumerable<Module> EncoderModules() =>
        _tagger is not null ? [_tagger] : [_frontend!, _encoder!];

    internal TransformerCaptionDecoder Decoder => _decoder;

    /// <summary>Waveform <c>[B, S]</c> to memory <c>[B, T', DModel]</c> and pooled embedding <c>[B, EmbeddingDim]</c>.</summary>
    public (Tensor Memory, Tensor Embedding) Encode(Tensor audio) => EncodeSpectrogram(audio, logMel: false, null);

    /// <summary>Waveform <c>[B, S]</c> to memory, embedding and label probabilities <c>[B, Labels]</c> (sigmoid of the tagger's logits; empty columns for the CNN).</summary>
    public (Tensor Memory, Tensor Embedding, Tensor LabelProbabilities) EncodeWithLabels(Tensor audio)
    {
        ArgumentNullException.ThrowIfNull(audio);
        using var scope = NewDisposeScope();
        if (_tagger is null)
        {
            var (memory, embedding) = Encode(audio);
            return (memory.MoveToOuterDisposeScope(), embedding.MoveToOuterDisposeScope(), zeros([audio.shape[0], 0]).MoveToOuterDisposeScope());
        }

        var output = _tagger.Forward(audio, null);
        return (output.Memory.MoveToOuterDisposeScope(), output.Embedding.MoveToOuterDisposeScope(), output.Logits.sigmoid().MoveToOuterDisposeScope());
    }

    /// <summary>The encoder from a waveform or from log-mel dB, with <paramref name="transform"/> on the normalised log-mel.</summary>
    private (Tensor Memory, Tensor Embedding) EncodeSpectrogram(Tensor input, bool logMel, Func<Tensor, Tensor>? transform)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        if (_tagger is not null)
        {
            var output = TaggerForward(input, logMel, transform);
            return (output.Memory.MoveToOuterDisposeScope(), output.Embedding.MoveToOuterDisposeScope());
        }

        var spectrogram = logMel ? _frontend!.Normalise(input) : _frontend!.forward(input);
        var (memory, embedding) = _encoder!.forward(transform is null ? spectrogram : transform(spectrogram));
        return (memory.MoveToOuterDisposeScope(), embedding.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The tagger's whole output (memory, embedding and label logits <c>[B, Labels]</c>) from a waveform or from log-mel dB
    /// (<paramref name="logMel"/>), for training that keeps the labels learning while the encoder is fine-tuned.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model runs on the CNN encoder, which has no labels.</exception>
    internal TaggingOutput EncodeWithLabelLogits(Tensor input, bool logMel, Func<Tensor, Tensor>? transformSpectrogram = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        return TaggerForward(input, logMel, transformSpectrogram).MoveToOuterDisposeScope();
    }

    private TaggingOutput TaggerForward(Tensor input, bool logMel, Func<Tensor, Tensor>? transform)
    {
        var tagger = _tagger ?? throw new InvalidOperationException("This caption model runs on the CNN encoder, which has no label logits.");
        return logMel ? tagger.ForwardLogMel(input, transform) : tagger.Forward(input, transform);
    }

    /// <summary>
    /// <see cref="Encode(Tensor)"/> with <paramref name="transformSpectrogram"/> applied to the normalised log-mel
    /// <c>[B, 1, MelBins, T]</c> between front end and CNN (training-time SpecAugment masks, see Training/Augmentation).
    /// </summary>
    public (Tensor Memory, Tensor Embedding) Encode(Tensor audio, Func<Tensor, Tensor> transformSpectrogram)
    {
        ArgumentNullException.ThrowIfNull(transformSpectrogram);
        return EncodeSpectrogram(audio, logMel: false, transformSpectrogram);
    }

    /// <summary>
    /// <see cref="Encode(Tensor, Func{Tensor, Tensor})"/> from log-mel dB <c>[B, MelBins, T]</c> (the front end's
    /// <see cref="LogMelFrontend.LogMel"/>, as the feature cache stores it) instead of a waveform: the front end's
    /// BatchNorm and the CNN, without the STFT. The exported graph keeps the whole front end.
    /// </summary>
    public (Tensor Memory, Tensor Embedding) EncodeLogMel(Tensor logMel, Func<Tensor, Tensor>? transformSpectrogram = null) =>
        EncodeSpectrogram(logMel, logMel: true, transformSpectrogram);

    /// <summary>Teacher forcing: waveform <c>[B, S]</c> and input tokens <c>[B, L]</c> (starting with &lt;start&gt;) to logits <c>[B, L, V]</c>.</summary>
    public override Tensor forward(Tensor audio, Tensor inputTokens)
    {
        using var scope = NewDisposeScope();
        var (memory, _) = Encode(audio);
        return _decoder.forward(inputTokens, memory).MoveToOuterDisposeScope();
    }

    /// <summary>Cross-attention keys and values <c>[layers, B, heads, T', head_dim]</c> of <paramref name="memory"/>.</summary>
    public (Tensor CrossKeys, Tensor CrossValues) CrossKeyValues(Tensor memory) => _decoder.CrossKeyValues(memory);

    /// <summary>One decoder step, exactly the ONNX <c>decoder_step</c> graph without its beam reordering (see the contract).</summary>
    public (Tensor LogProbs, Tensor PresentKeys, Tensor PresentValues) Step(
        Tensor tokens, Tensor pastKeys, Tensor pastValues, Tensor crossKeys, Tensor crossValues) =>
        _decoder.Step(tokens, pastKeys, pastValues, crossKeys, crossValues);

    /// <summary>An empty self-attention cache <c>[layers, batch, heads, 0, head_dim]</c> for the first step.</summary>
    public (Tensor Keys, Tensor Values) EmptyCache(long batch, Device? device = null) =>
        (zeros([Config.DecoderLayers, batch, Config.Heads, 0, Config.HeadDim], device: device),
         zeros([Config.DecoderLayers, batch, Config.Heads, 0, Config.HeadDim], device: device));

    /// <summary>
    /// Greedy captions of <paramref name="audio"/> <c>[B, S]</c>, in evaluation mode and without gradients: token ids
    /// after &lt;start&gt; up to and excluding &lt;end&gt;, at most <paramref name="maxTokens"/> decoder steps
    /// (&lt;end&gt; included) and never past the positional table.
    /// </summary>
    public int[][] GreedyDecode(Tensor audio, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(audio);
        return GreedyDecode(() => Encode(audio).Memory, (int)audio.shape[0], audio.device, maxTokens);
    }

    /// <summary><see cref="GreedyDecode(Tensor, int)"/> from log-mel dB <c>[B, MelBins, T]</c> (see <see cref="EncodeLogMel"/>).</summary>
    public int[][] GreedyDecodeLogMel(Tensor logMel, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(logMel);
        return GreedyDecode(() => EncodeLogMel(logMel).Memory, (int)logMel.shape[0], logMel.device, maxTokens);
    }

    private int[][] GreedyDecode(Func<Tensor> encode, int batch, Device device, int maxTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        var wasTraining = training;
        eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var memory = encode();
            var (crossKeys, crossValues) = CrossKeyValues(memory);
            var (keys, values) = EmptyCache(batch, device);
            var tokens = tensor(Enumerable.Repeat((long)StartToken, batch).ToArray(), device: device);
            var captions = Enumerable.Range(0, batch).Select(_ => new List<int>()).ToArray();
            var finished = new bool[batch];
            var steps = Math.Min(maxTokens, Config.MaxTokens);
            for (var step = 0; step < steps && finished.Contains(false); step++)
            {
                using var stepScope = NewDisposeScope();
                var (logProbs, presentKeys, presentValues) = Step(tokens, keys, values, crossKeys, crossValues);
                tokens = logProbs.argmax(-1).MoveToOuterDisposeScope();
                keys = presentKeys.MoveToOuterDisposeScope();
                values = presentValues.MoveToOuterDisposeScope();
                var chosen = tokens.data<long>().ToArray();
                for (var b = 0; b < batch; b++)
                {
                    if (finished[b])
                    {
                        continue;
                    }

                    if (chosen[b] == EndToken)
                    {
                        finished[b] = true;
                    }
                    else
                    {
                        captions[b].Add((int)chosen[b]);
                    }
                }
            }

            return captions.Select(c => c.ToArray()).ToArray();
        }
        finally
        {
            train(wasTraining);
        }
    }

    /// <summary>Trainable parameters of the encoder (front end included) and of the decoder.</summary>
    public ParameterCounts CountParameters()
    {
        static long Count(Module module) => module.parameters().Sum(p => p.numel());
        return new ParameterCounts(EncoderModules().Sum(Count), Count(_decoder));
    }

    /// <summary>
    /// Writes a checkpoint folder: <c>model.bin</c> (TorchSharp state dict: parameters and BatchNorm statistics),
    /// <c>config.json</c> and <c>vocab.json</c> (<c>{"tokens": [...]}</c>, index = id).
    /// </summary>
    public void SaveCheckpoint(string directory, IReadOnlyList<string> vocabulary)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Count != Config.VocabSize)
        {
            throw new ArgumentException($"The vocabulary has {vocabulary.Count} tokens; the model has {Config.VocabSize}.", nameof(vocabulary));
        }

        Directory.CreateDirectory(directory);
        save(Path.Combine(directory, WeightsFileName));
        File.WriteAllText(Path.Combine(directory, ConfigFileName), Config.ToJson());
        Vocabulary.FromTokens(vocabulary).Save(directory);
    }

    /// <summary>Reads a checkpoint folder written by <see cref="SaveCheckpoint"/>.</summary>
    /// <exception cref="FileNotFoundException">A checkpoint file is missing.</exception>
    public static CaptionModel LoadCheckpoint(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var configPath = Path.Combine(directory, ConfigFileName);
        var weightsPath = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"Checkpoint {directory} has no {ConfigFileName}.", configPath);
        }

        var model = new CaptionModel(CaptionModelConfig.FromJson(File.ReadAllText(configPath)));
        model.load(weightsPath);
        return model;
    }
}
