using System.Text.Json;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Scenes;
using CaptionDaemon.Training.Data.Sounds;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tagging;

/// <summary>
/// One validated epoch of a tagger run: its loss, learning rate and times, and the val recordings' mAP and top-1; with
/// scene windows (<c>SceneMeanAveragePrecision</c>), the mAP of the same val recordings as scene-like windows
/// (<see cref="SceneWindows"/>, fixed by the seed), null when the run has none; and the mAP over the everyday labels
/// alone (<c>EverydayMeanAveragePrecision</c>, categories of the index's group ENV): the val split's instrument phrases
/// outnumber its everyday recordings ten to one and dominate the mAP, while the everyday sounds are the ones a tagger
/// struggles to carry to other packages.
/// </summary>
internal sealed record TaggingEpoch(int Epoch, double TrainLoss, double LearningRate, double TrainSeconds, double ValidationSeconds, double MeanAveragePrecision, double Top1Accuracy, double? SceneMeanAveragePrecision = null, double? EverydayMeanAveragePrecision = null)
{
    /// <summary>What best/ is chosen by: the mAP, or with scene windows the mean of the isolated and the scene mAP.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double Selection => SceneMeanAveragePrecision is { } scene ? (MeanAveragePrecision + scene) / 2 : MeanAveragePrecision;
}

/// <summary>
/// <c>tagging.json</c> of a tagger checkpoint and <c>metrics.json</c> of its run: labels, every epoch's validation figures,
/// the best epoch by mAP and the per-label AP of the latest validation.
/// </summary>
internal sealed record TaggingHistory
{
    public const string FileName = "tagging.json";

    public IReadOnlyList<string> Labels { get; set; } = [];

    public List<TaggingEpoch> Epochs { get; set; } = [];

    public int BestEpoch { get; set; }

    public double BestMeanAveragePrecision { get; set; }

    public int ValidationWindows { get; set; }

    public Dictionary<string, double> AveragePrecision { get; set; } = [];

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    public static TaggingHistory Load(string path) =>
        JsonSerializer.Deserialize<TaggingHistory>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path}: null tagging history.");

    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };
}

/// <summary>
/// <c>captiond-train tag</c>: trains a <see cref="TaggingEncoder"/> as a multi-label tagger on the isolated recordings of a
/// sounds folder's train split and validates it on the val split after every epoch (mAP, per-label AP, top-1).
/// <para>
/// An epoch is <see cref="TaggerOptions.ClipsPerEpoch"/> class-balanced draws (<see cref="TaggingSet.SampleBalanced"/>,
/// <see cref="TaggerOptions.BalanceExponent"/>: speech is four fifths of the catalog). A window is a random crop of a
/// longer recording or a shorter one at a random offset; a sixteenth of the windows are quiet (<see cref="QuietWindows"/>: silence, faint noise, mains hum, distant
/// backgrounds) and labelled <see cref="TaggingSet.Nothing"/>. Augmentation: a synthetic room's reverberation
/// (<see cref="TaggerOptions.ReverbProbability"/>), gain and circular shift (<see cref="Augmentation"/>), mixup of two
/// recordings of the batch with their labels OR-ed, SpecAugment masks. Loss: binary cross-entropy over all labels.
/// </para>
/// <para>
/// The loop, schedule, per-step random streams, mid-epoch checkpoints and their resumption are <see cref="EpochLoop"/>'s,
/// with a <see cref="TrainingRecord"/> as its state, as for caption training; <c>best/</c> holds the highest validation mAP.
/// </para>
/// </summary>
internal sealed class TaggerTrainer
{
    public const string EncoderFileName = "encoder.bin";
    public const string ConfigFileName = "tagger.json";
    public const string MetricsFileName = "metrics.json";

    /// <summary>The index group of everyday sounds (neither instruments nor speech).</summary>
    public const string EverydayGroup = "ENV";

    private readonly TaggerOptions _options;
    private readonly TrainingProgress _progress;

    public TaggerTrainer(TaggerOptions options, TrainingProgress progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        options.Validate();
        _options = options;
        _progress = progress;
    }

    /// <exception cref="TrainingException">The output folder and --resume do not fit, or a split is empty.</exception>
    /// <exception cref="DatasetFormatException">The sounds folder has no valid index.</exception>
    /// <exception cref="AudioDecodeException">A recording is not a 16 kHz mono WAV.</exception>
    public (TrainingRecord Record, TaggingHistory History) Run(CancellationToken cancellationToken = default)
    {
        var options = _options;
        var soundsDirectory = Path.GetFullPath(options.SoundsDirectory);
        var outputDirectory = Path.GetFullPath(options.OutputDirectory);
        var lastDirectory = Path.Combine(outputDirectory, CaptionTrainer.LastDirectoryName);
        var bestDirectory = Path.Combine(outputDirectory, CaptionTrainer.BestDirectoryName);
        if (options.Resume && !File.Exists(Path.Combine(lastDirectory, TrainingRecord.FileName)))
        {
            throw new TrainingException($"--resume: {lastDirectory} holds no checkpoint to continue from.");
        }

        if (!options.Resume && Directory.Exists(lastDirectory))
        {
            throw new TrainingException($"{outputDirectory} already holds a tagger run ({lastDirectory}); pass --resume to continue it or choose another --out.");
        }

        torch.set_num_threads(options.Threads);
        var entries = SoundIndex.Load(soundsDirectory, cancellationToken);
        var (encoder, record, history) = options.Resume ? Resume(lastDirectory, soundsDirectory) : Start(entries, soundsDirectory);
        using var encoderScope = encoder;
        var labels = encoder.Config.Labels;
        var everyday = entries.Where(e => e.Group == EverydayGroup).Select(e => e.Category).ToHashSet(StringComparer.Ordinal);
        var train = TaggingSet.Of(soundsDirectory, entries, "train", labels, options.BalanceExponent, options.BalancePackages);
        var validation = Spread(TaggingSet.Of(soundsDirectory, entries, "val", labels).Recordings, options.MaxValidationClips);
        if (train.Count == 0 || validation.Count == 0)
        {
            throw new TrainingException($"{soundsDirectory}: the {(train.Count == 0 ? "train" : "val")} split has no recordings of a known label; tagging needs both.");
        }

        var sampleRate = encoder.Config.Frontend.SampleRate;
        var windowSamples = (int)Math.Round(options.WindowSeconds * sampleRate);
        var clipsPerEpoch = options.ClipsPerEpoch ?? train.Count;
        var stepsPerEpoch = clipsPerEpoch / options.BatchSize;
        if (stepsPerEpoch == 0)
        {
            throw new TrainingException($"--clips-per-epoch {clipsPerEpoch} is less than one batch of {options.BatchSize}.");
        }

        var totalSteps = (long)stepsPerEpoch * options.Epochs;
        record.Epochs = options.Epochs;
        record.StepsPerEpoch = stepsPerEpoch;
        record.WarmupSteps = options.Resume ? record.WarmupSteps : EpochLoop.DefaultWarmupSteps(totalSteps);
        record.TrainClips = train.Count;
        record.ValidationClips = validation.Count;
        var augmentation = options.Augment ? new Augmentation() : null;
        record.Augmentation = augmentation is null
            ? "none"
            : FormattableString.Invariant($"{augmentation.Describe()}; mixup p {options.MixupProbability} at -0..{options.MixupMaxAttenuationDb} dB, labels OR-ed; reverb p {options.ReverbProbability}; {options.NothingFraction:0.###} quiet windows (silence, faint noise, hum, distant backgrounds){(options.SceneProbability > 0 ? "; " + SceneWindows.Describe(options.SceneProbability) + ", not mixed up" : string.Empty)}{(options.TimbreProbability > 0 ? "; " + TimbreAugmentation.Describe(options.TimbreProbability) : string.Empty)}");
        _progress.Message(FormattableString.Invariant(
            $"tagger {encoder.Config.Size}: {encoder.ParameterCount():N0} parameters, {labels.Count} labels; {train.Count} train recordings ({stepsPerEpoch} steps of {options.BatchSize} balanced draws per epoch), {validation.Count} val recordings"));

        using var optimizer = new HeldScalarAdamW(encoder.parameters(), options.LearningRate, options.WeightDecay);
        if (options.Resume)
        {
            optimizer.load_state_dict(Path.Combine(lastDirectory, CaptionTrainer.OptimizerFileName));
            _progress.Message($"resuming after epoch {record.EpochsCompleted} (step {record.GlobalStep}), best validation mAP {history.BestMeanAveragePrecision:0.0000} at epoch {history.BestEpoch}");
        }

        var loop = new EpochLoop
        {
            Epochs = options.Epochs,
            StepsPerEpoch = stepsPerEpoch,
            WarmupSteps = record.WarmupSteps,
            PeakLearningRate = options.LearningRate,
            Seed = record.Seed,
            CheckpointInterval = options.CheckpointInterval,
            Name = "Tagger training",
        };
        var nothing = labels.Count - 1;
        var categories = Evaluation.CategoryNames.LoadBundled();
        bool IsBackground(TaggedRecording r) => categories.Find(r.Category)?.Background == true;
        TaggedRecording[] trainBackgrounds = [.. train.Recordings.Where(IsBackground)];
        TaggedRecording[] validationBackgrounds = [.. validation.Where(IsBackground)];
        var quiet = new QuietWindows(trainBackgrounds, sampleRate);
        var validationQuiet = new QuietWindows(validationBackgrounds, sampleRate);
        var scenes = options.SceneProbability > 0 ? new SceneWindows(trainBackgrounds, sampleRate) : null;
        var validationScenes = scenes is null ? null : new SceneWindows(validationBackgrounds, sampleRate);
        var timbre = augmentation is not null && options.TimbreProbability > 0 ? new TimbreAugmentation(options.TimbreProbability, sampleRate) : null;
        var order = Array.Empty<int>();
        loop.Run(
            optimizer,
            record,
            _progress,
            startEpoch: (_, epochRandom) =>
            {
                order = train.SampleBalanced(stepsPerEpoch * options.BatchSize, epochRandom);
                encoder.train();
            },
            step: (_, step, rng) =>
            {
                var picks = order.AsSpan(step * options.BatchSize, options.BatchSize);
                var (audio, targets) = TrainingBatch(train, picks, sampleRate, windowSamples, nothing, quiet, scenes, timbre, augmentation, rng);
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var output = encoder.Forward(
                    tensor(audio, [picks.Length, windowSamples]),
                    augmentation is null ? null : spectrogram => augmentation.MaskSpectrogram(spectrogram, rng));
                var loss = nn.functional.binary_cross_entropy_with_logits(output.Logits, tensor(targets, [picks.Length, labels.Count]));
                var (value, applied) = GuardedUpdate.Apply(optimizer, loss, encoder.parameters(), options.GradientClip);
                return new StepOutcome(applied, value, []);
            },
            saveCheckpoint: () => Save(lastDirectory, encoder, optimizer, record, history),
            endEpoch: summary =>
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var scores = Evaluate(encoder, validation, validationQuiet, labels, windowSamples, options.BatchSize, record.Seed, cancellationToken);
                var sceneScores = validationScenes is null
                    ? null
                    : Evaluate(encoder, validation, validationQuiet, labels, windowSamples, options.BatchSize, record.Seed, cancellationToken, validationScenes);
                var epoch = new TaggingEpoch(summary.Epoch, summary.MeanLoss, summary.LearningRate, summary.TrainSeconds, clock.Elapsed.TotalSeconds, scores.MeanAveragePrecision, scores.Top1Accuracy, sceneScores?.MeanAveragePrecision, scores.MeanOver(everyday));
                history.Epochs.Add(epoch);
                history.ValidationWindows = scores.Windows;
                history.AveragePrecision = scores.AveragePrecision.OrderByDescending(p => p.Value).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                var best = history.Epochs.FirstOrDefault(e => e.Epoch == history.BestEpoch);
                var improved = best is null || epoch.Selection > best.Selection;
                if (improved)
                {
                    history.BestEpoch = summary.Epoch;
                    history.BestMeanAveragePrecision = scores.MeanAveragePrecision;
                    Save(bestDirectory, encoder, optimizer: null, record, history);
                }

                Save(lastDirectory, encoder, optimizer, record, history);
                history.Save(Path.Combine(outputDirectory, MetricsFileName));
                _progress.Message(FormattableString.Invariant(
                    $"epoch {summary.Epoch}: train loss {summary.MeanLoss:0.0000}; validation mAP {scores.MeanAveragePrecision:0.0000} (everyday {epoch.EverydayMeanAveragePrecision ?? 0:0.0000}) top-1 {scores.Top1Accuracy:0.000} over {scores.Windows} windows{(sceneScores is null ? string.Empty : $", as scene windows mAP {sceneScores.MeanAveragePrecision:0.0000} top-1 {sceneScores.Top1Accuracy:0.000}")}{(improved ? " (best, saved)" : $" (best {history.BestMeanAveragePrecision:0.0000} at epoch {history.BestEpoch})")}"));
            },
            cancellationToken);
        return (record, history);
    }

    /// <summary>
    /// Windows and multi-hot targets of one step: quiet windows with probability <see cref="TaggerOptions.NothingFraction"/>,
    /// otherwise the drawn recording cropped or placed at random, or with probability <see cref="TaggerOptions.SceneProbability"/>
    /// made a scene-like window (<see cref="SceneWindows"/>); the recording's speed and equaliser changed first when
    /// <paramref name="timbre"/> is given; then gain and shift, then mixup among the isolated recordings.
    /// </summary>
    private (float[] Audio, float[] Targets) TrainingBatch(
        TaggingSet train, ReadOnlySpan<int> picks, int sampleRate, int windowSamples, int nothing, QuietWindows quiet, SceneWindows? scenes, TimbreAugmentation? timbre, Augmentation? augmentation, Random rng)
    {
        var labelCount = train.Labels.Count;
        var audio = new float[picks.Length * windowSamples];
        var targets = new float[picks.Length * labelCount];
        var sounding = new List<int>();
        for (var i = 0; i < picks.Length; i++)
        {
            var window = audio.AsSpan(i * windowSamples, windowSamples);
            if (rng.NextDouble() < _options.NothingFraction)
            {
                quiet.Fill(window, rng);
                targets[(i * labelCount) + nothing] = 1;
                continue;
            }

            var recording = train.Recordings[picks[i]];
            var samples = TaggingSet.Read(recording, sampleRate);
            if (timbre is not null)
            {
                samples = timbre.ChangeSpeed(samples, windowSamples, rng);
                timbre.Equalise(samples, rng);
            }

            if (scenes is not null && rng.NextDouble() < _options.SceneProbability)
            {
                // Already a mix at scene levels: neither mixed into nor mixed in (mixup would bury its quiet event).
                if (scenes.Fill(window, samples, recording, rng) is { } background)
                {
                    targets[(i * labelCount) + background] = 1;
                }
            }
            else
            {
                TaggingSet.CopyWindow(samples, window, rng);
                sounding.Add(i);
            }

            if (augmentation is not null && rng.NextDouble() < _options.ReverbProbability)
            {
                var reverberant = window.ToArray();
                RoomReverb.Apply(reverberant, sampleRate, RoomReverb.MinRt60 + (rng.NextDouble() * (RoomReverb.MaxRt60 - RoomReverb.MinRt60)), 0.2 + (rng.NextDouble() * 0.5), rng);
                reverberant.CopyTo(window);
            }

            targets[(i * labelCount) + recording.Label] = 1;
        }

        augmentation?.PerturbWaveforms(audio, picks.Length, rng);
        if (augmentation is not null && sounding.Count > 1)
        {
            var original = (float[])audio.Clone();
            var originalTargets = (float[])targets.Clone();
            foreach (var i in sounding)
            {
                if (rng.NextDouble() >= _options.MixupProbability)
                {
                    continue;
                }

                var j = sounding[rng.Next(sounding.Count - 1)];
                j = j == i ? sounding[^1] : j;
                var gain = (float)Math.Pow(10, -rng.NextDouble() * _options.MixupMaxAttenuationDb / 20);
                var window = audio.AsSpan(i * windowSamples, windowSamples);
                var other = original.AsSpan(j * windowSamples, windowSamples);
                for (var s = 0; s < windowSamples; s++)
                {
                    window[s] = Math.Clamp(window[s] + (gain * other[s]), -1f, 1f);
                }

                for (var l = 0; l < labelCount; l++)
                {
                    targets[(i * labelCount) + l] = Math.Max(targets[(i * labelCount) + l], originalTargets[(j * labelCount) + l]);
                }
            }
        }

        return (audio, targets);
    }

    /// <summary>
    /// Validation: each recording once, its window centred; plus one quiet window per 20 recordings (fixed by the seed) so
    /// that <see cref="TaggingSet.Nothing"/> has an AP too. With <paramref name="scenes"/>, each recording is a scene
    /// window instead (the draws fixed by the seed, so every epoch sees the same windows); a window's background is then
    /// left out of its label's AP (<see cref="TaggingMetrics.Score"/>).
    /// </summary>
    internal static TaggingScores Evaluate(
        TaggingEncoder encoder, IReadOnlyList<TaggedRecording> recordings, QuietWindows quietWindows, IReadOnlyList<string> labels, int windowSamples, int batchSize, int seed, CancellationToken cancellationToken, SceneWindows? scenes = null)
    {
        var quiet = Math.Max(1, recordings.Count / 20);
        var windows = recordings.Count + quiet;
        var truth = new int[windows];
        var backgrounds = Enumerable.Repeat(-1, windows).ToArray();
        var sceneRandom = new Random(seed + 1);
        var probabilities = new float[windows][];
        var quietRandom = new Random(seed);
        var sampleRate = encoder.Config.Frontend.SampleRate;
        encoder.eval();
        for (var first = 0; first < windows; first += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(batchSize, windows - first);
            var audio = new float[count * windowSamples];
            for (var i = 0; i < count; i++)
            {
                var window = audio.AsSpan(i * windowSamples, windowSamples);
                if (first + i < recordings.Count)
                {
                    var recording = recordings[first + i];
                    var samples = TaggingSet.Read(recording, sampleRate);
                    if (scenes is null)
                    {
                        TaggingSet.CopyWindow(samples, window, random: null);
                    }
                    else
                    {
                        backgrounds[first + i] = scenes.Fill(window, samples, recording, sceneRandom) ?? -1;
                    }

                    truth[first + i] = recording.Label;
                }
                else
                {
                    quietWindows.Fill(window, quietRandom);
                    truth[first + i] = labels.Count - 1;
                }
            }

            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var output = encoder.forward(tensor(audio, [count, windowSamples]));
            var flat = output.Logits.sigmoid().data<float>().ToArray();
            for (var i = 0; i < count; i++)
            {
                probabilities[first + i] = flat.AsSpan(i * labels.Count, labels.Count).ToArray();
            }
        }

        encoder.train();
        return TaggingMetrics.Score(probabilities, truth, labels, scenes is null ? null : backgrounds);
    }

    /// <summary>An even spread of at most <paramref name="limit"/> recordings (the val split is sorted by package).</summary>
    private static IReadOnlyList<TaggedRecording> Spread(IReadOnlyList<TaggedRecording> recordings, int? limit) =>
        limit is { } max && max < recordings.Count
            ? Enumerable.Range(0, max).Select(i => recordings[(int)((long)i * recordings.Count / max)]).ToArray()
            : recordings;

    private (TaggingEncoder Encoder, TrainingRecord Record, TaggingHistory History) Start(IReadOnlyList<SoundIndexEntry> entries, string soundsDirectory)
    {
        var options = _options;
        var labels = TaggingSet.LabelsOf(entries.Where(e => string.Equals(e.Split ?? "train", "train", StringComparison.Ordinal)));
        random.manual_seed(options.Seed);
        var config = options.EncoderConfig?.Invoke(labels) ?? TaggingEncoderConfig.Named(options.Size, labels);
        var record = new TrainingRecord
        {
            Method = "tagging",
            Data = soundsDirectory,
            Command = options.CommandLine,
            Size = options.EncoderConfig is null ? options.Size : TrainingRecord.CustomSize,
            BatchSize = options.BatchSize,
            LearningRate = options.LearningRate,
            WeightDecay = options.WeightDecay,
            GradientClip = options.GradientClip,
            Seed = options.Seed,
            Threads = options.Threads,
            WindowSeconds = options.WindowSeconds,
            BalanceExponent = options.BalanceExponent,
            BalancePackages = options.BalancePackages ? true : null,
            SceneWindows = options.SceneProbability > 0 ? options.SceneProbability : null,
            Timbre = options.TimbreProbability > 0 ? options.TimbreProbability : null,
            Started = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        };
        return (new TaggingEncoder(config), record, new TaggingHistory { Labels = labels });
    }

    private (TaggingEncoder Encoder, TrainingRecord Record, TaggingHistory History) Resume(string lastDirectory, string soundsDirectory)
    {
        var record = TrainingRecord.Load(lastDirectory);
        if (!string.Equals(record.Data, soundsDirectory, StringComparison.Ordinal))
        {
            throw new TrainingException($"--resume: {lastDirectory} was trained on {record.Data}, not on {soundsDirectory}.");
        }

        var size = _options.EncoderConfig is null ? _options.Size : TrainingRecord.CustomSize;
        var balance = record.BalanceExponent ?? TaggingSet.DefaultBalanceExponent;
        var scenes = record.SceneWindows ?? 0;
        var timbre = record.Timbre ?? 0;
        var packages = record.BalancePackages ?? false;
        if (record.Method != "tagging" || record.Size != size || record.BatchSize != _options.BatchSize || balance != _options.BalanceExponent || packages != _options.BalancePackages
            || scenes != _options.SceneProbability || timbre != _options.TimbreProbability)
        {
            throw new TrainingException(FormattableString.Invariant(
                $"--resume: {lastDirectory} is a {record.Method} run of size {record.Size} with --batch-size {record.BatchSize}, --balance-exponent {balance}{(packages ? ", --balance-packages" : string.Empty)}, --scene-windows {scenes} and --timbre {timbre}; resume with the same settings."));
        }

        return (Load(lastDirectory), record, TaggingHistory.Load(Path.Combine(lastDirectory, TaggingHistory.FileName)));
    }

    /// <summary>Reads the encoder of a tagger checkpoint folder.</summary>
    public static TaggingEncoder Load(string directory)
    {
        var config = TaggingEncoderConfig.FromJson(File.ReadAllText(Path.Combine(directory, ConfigFileName)));
        var encoder = new TaggingEncoder(config);
        encoder.load(Path.Combine(directory, EncoderFileName));
        return encoder;
    }

    private static void Save(string directory, TaggingEncoder encoder, TorchSharp.Modules.OptimizerHelper? optimizer, TrainingRecord record, TaggingHistory history) =>
        CaptionTrainer.WriteAtomically(directory, staging =>
        {
            File.WriteAllText(Path.Combine(staging, ConfigFileName), encoder.Config.ToJson());
            encoder.save(Path.Combine(staging, EncoderFileName));
            optimizer?.save_state_dict(Path.Combine(staging, CaptionTrainer.OptimizerFileName));
            history.Save(Path.Combine(staging, TaggingHistory.FileName));
            record.Save(staging);
        });
}
