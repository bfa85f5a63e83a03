using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CaptionDaemon.Training.Models;

/// <summary>
/// Log-mel <c>[B, 1, MelBins, T]</c> to encoder memory <c>[B, T', DModel]</c> and pooled embedding <c>[B, C]</c>.
/// Blocks of (Conv2d 3x3 without bias, BatchNorm2d, ReLU) x ConvsPerBlock then AvgPool2d(2); the last block's
/// features are averaged over frequency, giving one C-vector per time step; the embedding (for encoder-level
/// distillation) is their mean over time; the memory is LayerNorm(ReLU(Linear(C, DModel))) of each step.
/// </summary>
internal sealed class CnnAudioEncoder : Module<Tensor, (Tensor Memory, Tensor Embedding)>
{
    private readonly ModuleList<Conv2d> _convs;
    private readonly ModuleList<BatchNorm2d> _norms;
    private readonly Linear _projection;
    private readonly LayerNorm _projectionNorm;
    private readonly int _convsPerBlock;

    public CnnAudioEncoder(CaptionModelConfig config)
        : base(nameof(CnnAudioEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        _convsPerBlock = config.ConvsPerBlock;
        _convs = new ModuleList<Conv2d>();
        _norms = new ModuleList<BatchNorm2d>();
        long inChannels = 1;
        foreach (var channels in config.EncoderChannels)
        {
            for (var i = 0; i < config.ConvsPerBlock; i++)
            {
                _convs.Add(Conv2d(inChannels, channels, 3, padding: 1, bias: false));
                _norms.Add(BatchNorm2d(channels));
                inChannels = channels;
            }
        }

        _projection = Linear(inChannels, config.DModel);
        _projectionNorm = LayerNorm(config.DModel);
        RegisterComponents();
    }

    internal ModuleList<Conv2d> Convs => _convs;

    internal ModuleList<BatchNorm2d> Norms => _norms;

    internal int ConvsPerBlock => _convsPerBlock;

    internal Linear Projection => _projection;

    internal LayerNorm ProjectionNorm => _projectionNorm;

    public override (Tensor Memory, Tensor Embedding) forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        var x = input;
        for (var i = 0; i < _convs.Count; i++)
        {
            x = functional.relu(HeldScalars.BatchNorm(_norms[i], SafeConvolution.Forward(_convs[i], x)));
            if ((i + 1) % _convsPerBlock == 0)
            {
                x = functional.avg_pool2d(x, 2);
            }
        }

        var features = x.mean([2]).transpose(1, 2);          // [B, T', C]
        var embedding = features.mean([1]);                  // [B, C]
        var memory = _projectionNorm.forward(functional.relu(_projection.forward(features)));
        return (memory.MoveToOuterDisposeScope(), embedding.MoveToOuterDisposeScope());
    }
}
