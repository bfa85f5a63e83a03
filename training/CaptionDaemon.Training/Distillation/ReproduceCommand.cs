using System.CommandLine;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Distillation;

/// <summary><c>captiond-train reproduce kd</c>: the knowledge-distillation comparison (<see cref="KdReproduction"/>).</summary>
internal static class ReproduceCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder for the runs, bundles, results.json, results.md and reproduction.json.", Required = true };
        var quick = new Option<bool>("--quick") { Description = "A small scene set, smaller CNN teacher and student (the given taggers with --student-encoder/--teacher-encoder), one seed and short training: the whole pipeline in minutes." };
        var data = new Option<string?>("--data") { Description = "Scene set in the Clotho layout (default: generate one into OUT/data from --sounds)." };
        var sounds = new Option<string>("--sounds") { Description = "Sounds folder of 'data fetch', for generating the scenes.", DefaultValueFactory = _ => Data.Sounds.SoundFetcher.DefaultDirectory };
        var clips = new Option<int?>("--clips") { Description = "Clips of the generated scene set (default 2000; 60 with --quick)." };
        var devClips = new Option<int?>("--dev-clips") { Description = "Use the first N development clips of the set (default 480; all with --quick); 0: all." };
        var valClips = new Option<int?>("--val-clips") { Description = "Use the first N validation clips (default 80; all with --quick); 0: all." };
        var evalClips = new Option<int?>("--eval-clips") { Description = "Use the first N evaluation clips (default 200; all with --quick); 0: all." };
        var teacher = new Option<string?>("--teacher") { Description = "A trained teacher (run folder, checkpoint or bundle; e.g. a 'train --encoder' run on the large tagger) instead of training one into OUT/teacher." };
        var teacherEncoder = new Option<string?>("--teacher-encoder") { Description = "Without --teacher: train the teacher on this tagger checkpoint ('tag --size large' best/), as 'train --encoder' does (default: the CNN teacher preset)." };
        var teacherFreeze = new Option<int?>("--teacher-freeze-encoder-epochs") { Description = "With --teacher-encoder: the teacher's epochs on the frozen tagger (default 1 when it has 2 or more epochs, else 0)." };
        var studentEncoder = new Option<string?>("--student-encoder") { Description = "A tagger checkpoint ('tag --size small' best/) every student starts from, as 'distill --encoder' does (default: the CNN student preset)." };
        var freeze = new Option<int?>("--freeze-encoder-epochs") { Description = "With --student-encoder: epochs of an --epochs-long student on the frozen tagger; longer runs (scarce labels) freeze the same share of their steps. Must be below --epochs: while frozen, encoder KD trains only its projection heads (default 1 when --epochs is 2 or more, else 0)." };
        var recordings = new Option<string?>("--recordings") { Description = "Isolated test recordings (path<TAB>category, as 'data catalog --list F --split test --per-category N' writes) for isolated_recall (default: listed from --sounds into OUT/recordings-test.tsv)." };
        var recordingsPerCategory = new Option<int?>("--recordings-per-category") { Description = "Without --recordings: at most this many test recordings per category from --sounds (default 20)." };
        var teacherEpochs = new Option<int?>("--teacher-epochs") { Description = "Epochs of the teacher (default 6; 2 with --quick)." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs of every student (default 2; 1 with --quick)." };
        var scarce = new Option<double?>("--scarce-fraction") { Description = "The scarce label fraction (default 0.1; 0.25 with --quick)." };
        var seeds = new Option<int?>("--seeds") { Description = "Seeds per student configuration, 1..N (default 1: a second seed adds about 25 min to the full run)." };
        var batchSize = new Option<int?>("--batch-size") { Description = "Clips per step (default 8)." };
        var maxTrainClips = new Option<int?>("--max-train-clips") { Description = "Use the first N development clips only." };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate of the students (default 1e-3)." };
        var teacherLr = new Option<double?>("--teacher-lr") { Description = "Peak learning rate of the teacher (default 5e-4; 1e-3 with --quick)." };
        var threads = new Option<int?>("--threads") { Description = "Torch and ONNX Runtime threads for training and evaluation (default 2; timing always uses 1)." };

        var kd = new Command(
            "kd",
            "Reproduce the encoder-level KD comparison: teacher, sup, +seq, +seq+mse, +seq+contrastive at 100% and a scarce label fraction, the best + audio-only; "
            + "on the tagger models with --student-encoder (and --teacher-encoder or --teacher). Every row of results.json has CIDEr-D, isolated_recall (eval --recordings) and event_recall (eval --data); writes results.md and charts.");
        foreach (var option in new Option[]
        {
            output, quick, data, sounds, clips, devClips, valClips, evalClips, teacher, teacherEncoder, teacherFreeze, studentEncoder, freeze, recordings, recordingsPerCategory,
            teacherEpochs, epochs, scarce, seeds, batchSize, lr, teacherLr, maxTrainClips, threads,
        })
        {
            kd.Options.Add(option);
        }

        kd.SetAction((parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var outputDirectory = parseResult.GetValue(output)!;
                var preset = parseResult.GetValue(quick) ? KdReproductionOptions.QuickPreset(outputDirectory) : new KdReproductionOptions { OutputDirectory = outputDirectory };
                var options = preset with
                {
                    DataDirectory = parseResult.GetValue(data),
                    SoundsDirectory = parseResult.GetValue(sounds)!,
                    Clips = parseResult.GetValue(clips) ?? preset.Clips,
                    Subset = new SplitSizes(
                        Size(parseResult.GetValue(devClips), preset.Subset.Development),
                        Size(parseResult.GetValue(valClips), preset.Subset.Validation),
                        Size(parseResult.GetValue(evalClips), preset.Subset.Evaluation)),
                    TeacherDirectory = parseResult.GetValue(teacher),
                    TeacherEncoder = parseResult.GetValue(teacherEncoder),
                    TeacherFreezeEncoderEpochs = parseResult.GetValue(teacherFreeze),
                    StudentEncoder = parseResult.GetValue(studentEncoder),
                    FreezeEncoderEpochs = parseResult.GetValue(freeze),
                    RecordingsList = parseResult.GetValue(recordings),
                    RecordingsPerCategory = parseResult.GetValue(recordingsPerCategory) ?? preset.RecordingsPerCategory,
                    TeacherEpochs = parseResult.GetValue(teacherEpochs) ?? preset.TeacherEpochs,
                    StudentEpochs = parseResult.GetValue(epochs) ?? preset.StudentEpochs,
                    ScarceFraction = parseResult.GetValue(scarce) ?? preset.ScarceFraction,
                    Seeds = parseResult.GetValue(seeds) is { } n ? Enumerable.Range(1, n).ToArray() : preset.Seeds,
                    BatchSize = parseResult.GetValue(batchSize) ?? preset.BatchSize,
                    LearningRate = parseResult.GetValue(lr) ?? preset.LearningRate,
                    TeacherLearningRate = parseResult.GetValue(teacherLr) ?? preset.TeacherLearningRate,
                    MaxTrainClips = parseResult.GetValue(maxTrainClips),
                    Threads = parseResult.GetValue(threads) ?? preset.Threads,
                };
                var isTerminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;
                var rows = new KdReproduction(options, new TrainingProgress(error, isTerminal)).Run(cancellationToken);
                parseResult.InvocationConfiguration.Output.Write(KdReproduction.Table(rows));
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is ArgumentException or TrainingException or DatasetFormatException or AudioDecodeException or InvalidDataException or IOException or BundleException or InvalidOperationException)
            {
                error.WriteLine("reproduce kd: " + ex.Message);
                return Task.FromResult(2);
            }
        });

        // 0 on the command line keeps the whole split.
        static int? Size(int? given, int? preset) => given is { } n ? (n > 0 ? n : null) : preset;

        var command = new Command("reproduce", "Reproduce the comparisons of the papers the project is built on.");
        command.Subcommands.Add(kd);
        return command;
    }
}
