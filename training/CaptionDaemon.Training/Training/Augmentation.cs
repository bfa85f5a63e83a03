using System.Globalization;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Training;

/// <summary>
/// Training-time perturbations that make a model (above all the teacher, whose pseudo-captions and embeddings the
/// student learns from) less tied to the exact recordings: on the waveform a random gain and a random circular time
/// shift; on the normalised log-mel SpecAugment-style frequency and time masks (set to 0, the BatchNorm's mean).
/// All random choices come from the caller's <see cref="Random"/>, so an epoch's augmentation is reproducible from its
/// seed like the rest of the epoch.
/// </summary>
internal sealed record Augmentation
{
    /// <summary>The gain is uniform in +-this many dB.</summary>
    public double MaxGainDb { get; init; } = 6;

    /// <summary>Windows are rolled by up to this fraction of their length, either way.</summary>
    public double MaxShiftFraction { get; init; } = 0.5;

    public int FrequencyMasks { get; init; } = 2;

    /// <summary>Each frequency mask covers 0..this many mel bins.</summary>
    public int MaxFrequencyMaskBins { get; init; } = 8;

    public int TimeMasks { get; init; } = 2;

    /// <summary>Each time mask covers 0..this fraction of the frames.</summary>
    public double MaxTimeMaskFraction { get; init; } = 0.1;

    /// <summary>One line for the training record.</summary>
    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"gain +-{MaxGainDb} dB, circular shift +-{MaxShiftFraction:0.##} window, {FrequencyMasks} frequency masks <= {MaxFrequencyMaskBins} bins, {TimeMasks} time masks <= {MaxTimeMaskFraction:0.##} of the frames (SpecAugment)");

    /// <summary>Applies a random gain and circular shift to each of the <paramref name="clips"/> windows of <paramref name="audio"/>, in place.</summary>
    public void PerturbWaveforms(float[] audio, int clips, Random random)
    {
        ArgumentNullException.ThrowIfNull(audio);
        ArgumentNullException.ThrowIfNull(random);
        var length = audio.Length / clips;
        var rolled = new float[length];
        for (var c = 0; c < clips; c++)
        {
            var window = audio.AsSpan(c * length, length);
            var gain = (float)Math.Pow(10, ((random.NextDouble() * 2) - 1) * MaxGainDb / 20);
            var maxShift = (int)(MaxShiftFraction * length);
            var shift = maxShift == 0 ? 0 : random.Next(-maxShift, maxShift + 1);
            var start = ((shift % length) + length) % length;
            window[start..].CopyTo(rolled);
            window[..start].CopyTo(rolled.AsSpan(length - start));
            for (var i = 0; i < length; i++)
            {
                window[i] = Math.Clamp(rolled[i] * gain, -1f, 1f);
            }
        }
    }

    /// <summary>
    /// <see cref="PerturbWaveforms"/> for windows of cached log-mel dB <c>[clips, mels, frames]</c>, in place, with the same
    /// random draws: the gain becomes an offset of +-<see cref="MaxGainDb"/> dB (silence, at the floor, stays there) and the
    /// shift a roll by whole frames. What the waveform version does and this cannot: clip a boosted window at full scale,
    /// and shift by less than a hop (the frames at the seam of a rolled waveform mix its two ends; here they are whole).
    /// </summary>
    public void PerturbLogMel(float[] logMel, int clips, int mels, Random random)
    {
        ArgumentNullException.ThrowIfNull(logMel);
        ArgumentNullException.ThrowIfNull(random);
        var frames = logMel.Length / clips / mels;
        var rolled = new float[frames];
        var floor = Models.LogMelFrontend.FloorDecibels;
        for (var c = 0; c < clips; c++)
        {
            var offset = (float)(((random.NextDouble() * 2) - 1) * MaxGainDb);
            var maxShift = (int)(MaxShiftFraction * frames);
            var shift = maxShift == 0 ? 0 : random.Next(-maxShift, maxShift + 1);
            var start = ((shift % frames) + frames) % frames;
            for (var m = 0; m < mels; m++)
            {
                var row = logMel.AsSpan(((c * mels) + m) * frames, frames);
                row[start..].CopyTo(rolled);
                row[..start].CopyTo(rolled.AsSpan(frames - start));
                for (var t = 0; t < frames; t++)
                {
                    row[t] = rolled[t] <= floor ? rolled[t] : Math.Max(rolled[t] + offset, floor);
                }
            }
        }
    }

    /// <summary>
    /// <paramref name="spectrogram"/> <c>[B, 1, MelBins, T]</c> with random frequency and time bands of each example set
    /// to 0; differentiable (a multiplication by a constant mask).
    /// </summary>
    public Tensor MaskSpectrogram(Tensor spectrogram, Random random)
    {
        ArgumentNullException.ThrowIfNull(spectrogram);
        ArgumentNullException.ThrowIfNull(random);
        var (batch, mels, frames) = ((int)spectrogram.shape[0], (int)spectrogram.shape[2], (int)spectrogram.shape[3]);
        var mask = new float[batch * mels * frames];
        Array.Fill(mask, 1f);
        var maxFrames = (int)(MaxTimeMaskFraction * frames);
        for (var b = 0; b < batch; b++)
        {
            var example = mask.AsSpan(b * mels * frames, mels * frames);
            for (var m = 0; m < FrequencyMasks; m++)
            {
                var width = random.Next(Math.Min(MaxFrequencyMaskBins, mels) + 1);
                var first = random.Next(mels - width + 1);
                example.Slice(first * frames, width * frames).Clear();
            }

            for (var m = 0; m < TimeMasks; m++)
            {
                var width = random.Next(Math.Min(maxFrames, frames) + 1);
                var first = random.Next(frames - width + 1);
                for (var bin = 0; bin < mels; bin++)
                {
                    example.Slice((bin * frames) + first, width).Clear();
                }
            }
        }

        return spectrogram * tensor(mask, [batch, 1, mels, frames], device: spectrogram.device);
    }
}
