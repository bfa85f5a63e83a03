using System.Text.Json;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Scenes;

namespace CaptionDaemon.Training.Tests.Data;

[Collection(TestSoundsCollection.Name)]
public sealed class SceneSetBuilderTests(TestSoundsFixture sounds) : IDisposable
{
    private const int Clips = 40;
    private readonly TestFiles _files = new();

    [Fact]
    public void Build_SameSeedTwice_WritesIdenticalSets()
    {
        var first = Build("first", seed: 7);
        var second = Build("second", seed: 7);

        foreach (var split in ClothoDataset.Splits)
        {
            Assert.Equal(File.ReadAllText(ClothoDataset.CaptionsPath(first, split)), File.ReadAllText(ClothoDataset.CaptionsPath(second, split)));
            foreach (var wav in Directory.EnumerateFiles(ClothoDataset.AudioDirectory(first, split)))
            {
                Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(Path.Combine(ClothoDataset.AudioDirectory(second, split), Path.GetFileName(wav))));
            }
        }

        Assert.Equal(File.ReadAllText(Path.Combine(first, SceneSetBuilder.ScenesFileName)), File.ReadAllText(Path.Combine(second, SceneSetBuilder.ScenesFileName)));
    }

    [Fact]
    public void Build_OtherSeed_WritesOtherScenes()
    {
        var first = Build("a", seed: 7);
        var other = Build("b", seed: 8);

        Assert.NotEqual(
            File.ReadAllText(ClothoDataset.CaptionsPath(first, ClothoDataset.Development)),
            File.ReadAllText(ClothoDataset.CaptionsPath(other, ClothoDataset.Development)));
    }

    [Fact]
    public void Build_BackgroundChanceZero_PutsEveryEventInABareRoom()
    {
        static int EventsOverBackgrounds(string root) => File.ReadAllLines(Path.Combine(root, SceneSetBuilder.ScenesFileName)).Count(line =>
        {
            using var json = JsonDocument.Parse(line);
            var scene = json.RootElement;
            return scene.GetProperty("kind").GetString() is "single" or "mixture" or "speech" or "music"
                && scene.GetProperty("background").ValueKind == JsonValueKind.Object;
        });

        Assert.True(EventsOverBackgrounds(Build("designed", seed: 5)) > 0, "the designed mix puts no event over a background");
        Assert.Equal(0, EventsOverBackgrounds(Build("bare", seed: 5, backgroundChance: 0)));
    }

    [Fact]
    public void Build_RealRecordings_EveryRecordingBelongsToOneSplit()
    {
        var root = Build("splits", seed: 3);

        var scenes = ReadScenes(root);
        var splitsOfRecording = scenes
            .SelectMany(s => s.Ids.Select(id => (Id: id, s.Split)))
            .GroupBy(x => x.Id)
            .ToDictionary(g => g.Key, g => g.Select(x => x.Split).Distinct().ToList());
        Assert.All(splitsOfRecording, pair => Assert.True(pair.Value.Count == 1, $"{pair.Key} is used in {string.Join(", ", pair.Value)}"));
        foreach (var split in ClothoDataset.Splits)
        {
            Assert.Contains(scenes, s => s.Split == split);
        }

        // Backgrounds count as recordings too, and some clips have them.
        Assert.Contains(scenes, s => s.Background is not null);
    }

    [Fact]
    public void Build_SplitByClip_TestScenesReuseTrainingRecordingsInNewMixes()
    {
        var root = Build("by-clip", seed: 3, splitByRecording: false);

        var scenes = ReadScenes(root);
        var trained = scenes.Where(s => s.Split == ClothoDataset.Development).SelectMany(s => s.Ids).ToHashSet();
        var tested = scenes.Where(s => s.Split == ClothoDataset.Evaluation).ToList();
        Assert.NotEmpty(tested);
        Assert.Contains(tested.SelectMany(s => s.Ids), trained.Contains);
        foreach (var split in ClothoDataset.Splits)
        {
            Assert.Equal(scenes.Count(s => s.Split == split), ClothoDataset.Load(root, split, CancellationToken.None).Count);
        }
    }

    [Fact]
    public void Build_RealRecordings_ClothoLayoutReadsBackWithFiveCaptionsAndTenSecondClips()
    {
        var root = Build("layout", seed: 5);

        var total = 0;
        foreach (var split in ClothoDataset.Splits)
        {
            var clips = ClothoDataset.Load(root, split);
            total += clips.Count;
            Assert.All(clips, clip =>
            {
                Assert.Equal(5, clip.Captions.Count);
                // A single event named by a plain noun ("footsteps") has four phrasings; every other clip has five.
                Assert.True(clip.Captions.Distinct().Count() >= 4, $"{clip.Id}: {string.Join(" | ", clip.Captions)}");
                var info = WavFile.ReadInfo(clip.AudioPath);
                Assert.Equal(new WavInfo(16000, 1, 16, 160000), info);
            });
            // One clip per split through ffmpeg as well: the files are ordinary WAV for any reader.
            var decoded = AudioDecoder.Decode(clips[0].AudioPath, 16000, CancellationToken.None);
            Assert.Equal(160000, decoded.Length);
            // Quiet clips hold only a noise floor near -60 dBFS: not digital silence, but no 0.01 peak either.
            Assert.True(decoded.Max(MathF.Abs) > 0.0003f, "the clip is silent");
            Assert.True(decoded.Max(MathF.Abs) <= 0.96f, "the clip clips");
        }

        Assert.Equal(Clips, total);
        Assert.Equal(Clips * 6 / 10, ClothoDataset.Load(root, ClothoDataset.Development).Count);
        var notice = File.ReadAllText(Path.Combine(root, SceneSetBuilder.NoticeFileName));
        Assert.Contains("Debian package: ufoai-sound", notice, StringComparison.Ordinal);
        Assert.Contains("GPL-2+", notice, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_RealRecordings_CaptionsNameTheEventsOfTheirScene()
    {
        var root = Build("captions", seed: 11);

        foreach (var scene in ReadScenes(root))
        {
            foreach (var caption in scene.Captions)
            {
                // Every event is named in every caption: by its subject, or (with a generic subject such as
                // "a gun" for "a shotgun") by its verb; footsteps may read "someone walks".
                foreach (var eventCaption in scene.EventCaptions)
                {
                    var phrase = EventPhrase.Parse(eventCaption);
                    var names = phrase.Kind == PhraseKind.Noun
                        ? phrase.Subject.Split(' ').Where(w => w.Length > 2).Append("walk").ToList()
                        : [phrase.Subject.Split(' ')[^1], phrase.Verb, EventPhrase.Ing(phrase.Verb, phrase.Plural || phrase.Kind == PhraseKind.Passive)];
                    Assert.True(
                        names.Any(w => caption.Contains(w, StringComparison.OrdinalIgnoreCase)),
                        $"'{caption}' does not mention '{eventCaption}'");
                }
            }
        }
    }

    [Fact]
    public void Build_IntoUnrelatedFolder_RefusesToOverwrite()
    {
        var root = _files.PathOf("unrelated");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "precious.txt"), "keep me");

        var options = new SceneSetOptions { SoundsDirectory = sounds.Directory, OutputDirectory = root, Clips = 5 };

        Assert.Throws<IOException>(() => new SceneSetBuilder(options, TextWriter.Null).Build(CancellationToken.None));
        Assert.True(File.Exists(Path.Combine(root, "precious.txt")));
    }

    private string Build(string name, int seed, bool splitByRecording = true, double backgroundChance = 1.0)
    {
        var root = _files.PathOf(name);
        var options = new SceneSetOptions
        {
            SoundsDirectory = sounds.Directory,
            OutputDirectory = root,
            Clips = Clips,
            Seed = seed,
            ValidationFraction = 0.2,
            TestFraction = 0.2,
            SplitByRecording = splitByRecording,
            BackgroundChance = backgroundChance,
            // The fixture is one package, all of it training data: split its recordings here.
            UsePackageSplits = false,
        };
        new SceneSetBuilder(options, TextWriter.Null).Build(CancellationToken.None);
        return root;
    }

    private static List<SceneLine> ReadScenes(string root)
    {
        var lines = File.ReadAllLines(Path.Combine(root, SceneSetBuilder.ScenesFileName));
        Assert.Equal(Clips, lines.Length);
        return lines.Select(line =>
        {
            using var json = JsonDocument.Parse(line);
            var scene = json.RootElement;
            var events = scene.GetProperty("events").EnumerateArray().ToList();
            var background = scene.GetProperty("background");
            var ids = events.Select(e => e.GetProperty("recording_id").GetString()!).ToList();
            string? backgroundId = null;
            if (background.ValueKind == JsonValueKind.Object)
            {
                backgroundId = background.GetProperty("recording_id").GetString();
                ids.Add(backgroundId!);
            }

            return new SceneLine(
                scene.GetProperty("split").GetString()!,
                ids,
                backgroundId,
                events.Select(e => e.GetProperty("caption").GetString()!).ToList(),
                scene.GetProperty("captions").EnumerateArray().Select(c => c.GetString()!).ToList());
        }).ToList();
    }

    public void Dispose() => _files.Dispose();

    private sealed record SceneLine(string Split, List<string> Ids, string? Background, List<string> EventCaptions, List<string> Captions);
}
