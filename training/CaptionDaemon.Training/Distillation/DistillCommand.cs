using System.CommandLine;
using System.Globalization;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Distillation;

/// <summary><c>captiond-train distill</c>: knowledge distillation of a student from a teacher (<see cref="DistillationTrainer"/>).</summary>
internal static class DistillCommand
{
    public static Command Create()
    {
        var teacher = new Option<string>("--teacher") { Description = "Teacher: a 'train' run folder (its best/), a checkpoint folder or a caption bundle (ONNX, run through the inference library).", Required = true };
        var data = new Option<string>("--data") { Description = "Data set in the Clotho layout.", Required = true };
        var output = new Option<string>("--out") { Description = "Output folder, laid out like 'train' (best/, last/, test captions).", Required = true };
        var targetsCache = new Option<string?>("--targets-cache") { Description = "Folder of cached teacher targets (default: kd-targets/ under the teacher's folder)." };
        var seqKd = new Option<double>("--seq-kd") { Description = "Weight of the cross-entropy on the teacher's beam captions (0 disables).", DefaultValueFactory = _ => 1.0 };
        var encKd = new Option<string>("--enc-kd") { Description = "Encoder-level KD on the projected pooled embeddings: none, mse or contrastive.", DefaultValueFactory = _ => EncoderDistillation.Contrastive };
        encKd.AcceptOnlyFromAmong(EncoderDistillation.Kinds);
        var encKdWeight = new Option<double>("--enc-kd-weight") { Description = "Weight of the encoder-level KD loss.", DefaultValueFactory = _ => 1.0 };
        var encKdDim = new Option<int>("--enc-kd-dim") { Description = "Size both projection heads map to (trained, not exported).", DefaultValueFactory = _ => EncoderDistillation.DefaultSharedDim };
        var tokKd = new Option<double>("--tok-kd") { Description = "Weight of token-level KD on the teacher's top-k next-token distributions (0 disables; needs the teacher's TorchSharp weights).", DefaultValueFactory = _ => 0.0 };
        var tokKdTopK = new Option<int>("--tok-kd-top-k") { Description = "Teacher probabilities kept per step for token-level KD.", DefaultValueFactory = _ => 10 };
        var teacherBeam = new Option<int>("--teacher-beam") { Description = "Beam of the teacher's pseudo-captions.", DefaultValueFactory = _ => 3 };
        var unlabelled = new Option<string?>("--unlabelled") { Description = "Folder of audio-only clips (searched recursively), trained on through L_seq and L_enc only." };
        var labelledFraction = new Option<double>("--labelled-fraction") { Description = "Fraction of the development clips that keep their captions (chosen with --seed).", DefaultValueFactory = _ => 1.0 };
        var unlabelledFromRest = new Option<bool>("--unlabelled-from-rest") { Description = "Use the development clips that lost their captions (--labelled-fraction) as audio-only data." };
        var encPretrain = new Option<int>("--enc-pretrain-epochs") { Description = "Epochs of encoder-only KD before the full loss.", DefaultValueFactory = _ => 0 };

        var size = new Option<string>("--size") { Description = "Student size when there is no --encoder: student or teacher (CNN presets).", DefaultValueFactory = _ => "student" };
        size.AcceptOnlyFromAmong("student", "teacher");
        var epochs = new Option<int>("--epochs") { Description = "Epochs of the full loss.", DefaultValueFactory = _ => 30 };
        var batchSize = new Option<int>("--batch-size") { Description = "Labelled clips per step (and as many audio-only clips).", DefaultValueFactory = _ => 16 };
        var learningRate = new Option<double>("--lr") { Description = "Peak learning rate of AdamW.", DefaultValueFactory = _ => 5e-4 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay.", DefaultValueFactory = _ => 0.01 };
        var warmup = new Option<int?>("--warmup-steps") { Description = "Linear warm-up steps (default: 5% of all steps)." };
        var gradientClip = new Option<double>("--grad-clip") { Description = "Maximum global gradient norm.", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<int>("--seed") { Description = "Seed of weights, labelled clips, clip order and crops.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "Torch and ONNX Runtime threads, parallel ffmpeg decoders.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var maxTrainClips = new Option<int?>("--max-train-clips") { Description = "Use the first N development clips only." };
        var augment = new Option<string>("--augment") { Description = "Waveform and SpecAugment augmentation: auto (off for the student), on or off.", DefaultValueFactory = _ => "auto" };
        augment.AcceptOnlyFromAmong("auto", "on", "off");
        var (resume, checkpointMinutes) = TrainCommand.ResumeOptions();
        var (encoder, freezeEncoderEpochs) = TrainCommand.EncoderOptions();
        freezeEncoderEpochs.Description += " While frozen, encoder-level KD trains only its projection heads.";

        var command = new Command("distill", "Train a student by knowledge distillation: L = L_sup + a_seq L_seq + a_enc L_enc (+ a_tok L_tok), optionally with audio-only data.");
        foreach (var option in new Option[]
        {
            teacher, data, output, targetsCache, seqKd, encKd, encKdWeight, encKdDim, tokKd, tokKdTopK, teacherBeam, unlabelled, labelledFraction, unlabelledFromRest, encPretrain,
            size, encoder, freezeEncoderEpochs, epochs, batchSize, learningRate, weightDecay, warmup, gradientClip, seed, threads, maxTrainClips, augment, resume, checkpointMinutes,
        })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var options = new DistillOptions
                {
                    Train = new TrainOptions
                    {
                        DataDirectory = parseResult.GetValue(data)!,
                        OutputDirectory = parseResult.GetValue(output)!,
                        Size = parseResult.GetValue(size)!,
                        Epochs = parseResult.GetValue(epochs),
                        BatchSize = parseResult.GetValue(batchSize),
                        LearningRate = parseResult.GetValue(learningRate),
                        WeightDecay = parseResult.GetValue(weightDecay),
                        WarmupSteps = parseResult.GetValue(warmup),
                        GradientClip = parseResult.GetValue(gradientClip),
                        Seed = parseResult.GetValue(seed),
                        Threads = parseResult.GetValue(threads),
                        MaxTrainClips = parseResult.GetValue(maxTrainClips),
                        Augment = parseResult.GetValue(augment) switch { "on" => true, "off" => false, _ => null },
                        Resume = parseResult.GetValue(resume),
                        CheckpointInterval = TrainCommand.CheckpointInterval(parseResult.GetValue(checkpointMinutes)),
                        CommandLine = TrainCommand.CommandLine(parseResult),
                        EncoderDirectory = parseResult.GetValue(encoder),
                        FreezeEncoderEpochs = parseResult.GetValue(freezeEncoderEpochs),
                    },
                    TeacherDirectory = parseResult.GetValue(teacher)!,
                    TargetsCacheDirectory = parseResult.GetValue(targetsCache),
                    SequenceWeight = parseResult.GetValue(seqKd),
                    EncoderKd = parseResult.GetValue(encKd)!,
                    EncoderWeight = parseResult.GetValue(encKdWeight),
                    EncoderSharedDim = parseResult.GetValue(encKdDim),
                    TokenWeight = parseResult.GetValue(tokKd),
                    TokenTopK = parseResult.GetValue(tokKdTopK),
                    TeacherBeam = parseResult.GetValue(teacherBeam),
                    UnlabelledDirectory = parseResult.GetValue(unlabelled),
                    LabelledFraction = parseResult.GetValue(labelledFraction),
                    UnlabelledFromRest = parseResult.GetValue(unlabelledFromRest),
                    EncoderPretrainEpochs = parseResult.GetValue(encPretrain),
                };
                var isTerminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;
                var record = new DistillationTrainer(options, new TrainingProgress(error, isTerminal)).Run(cancellationToken);
                parseResult.InvocationConfiguration.Output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"distilled {record.Method}: best epoch {record.BestEpoch}, validation CIDEr-D {record.BestValidationCiderD:0.0000}, test CIDEr-D {record.Metrics?.CiderD.ToString("0.0000", CultureInfo.InvariantCulture) ?? "(no evaluation split)"}"));
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is ArgumentException or TrainingException or DatasetFormatException or AudioDecodeException or InvalidDataException or IOException or BundleException or InvalidOperationException)
            {
                error.WriteLine("distill: " + ex.Message);
                return Task.FromResult(2);
            }
        });
        return command;
    }
}
