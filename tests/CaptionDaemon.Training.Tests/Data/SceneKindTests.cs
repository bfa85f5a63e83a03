using System.Text.Json;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Scenes;
using CaptionDaemon.Training.Data.Sounds;
using CaptionDaemon.Training.Evaluation;

namespace CaptionDaemon.Training.Tests.Data;

/// <summary>
/// Clip kinds on the real recordings of the test package. Its two human voices (a man groaning, a woman screaming)
/// are relabelled as speech of two speakers and a crackling fire as piano music, so every kind can be made; the mixer
/// does not listen, it goes by the index rows. The gunshot recordings and the woman are held out as a test package.
/// </summary>
[Collection(TestSoundsCollection.Name)]
public sealed class SceneKindTests : IDisposable
{
    private const int SampleRate = 16000;
    private readonly TestFiles _files = new();
    private readonly string _sounds;

    public SceneKindTests(TestSoundsFixture fixture)
    {
        _sounds = _files.PathOf("sounds");
        Directory.CreateDirectory(_sounds);
        var rows = SoundIndex.Load(fixture.Directory).Select(e =>
        {
            var row = e with { File = Path.Combine(fixture.Directory, e.File), CopyrightFile = Path.Combine(fixture.Directory, e.CopyrightFile) };
            return e.Id switch
            {
                "ufoai-sound/civilians_malehurt02" => row with { Category = "speech", Group = "SPEECH", Caption = "a man speaks", Sex = "male", Speaker = "test:man", Split = null },
                "ufoai-sound/civilians_civfemscream01a" => row with { Category = "speech", Group = "SPEECH", Caption = "a woman speaks", Sex = "female", Speaker = "test:woman", Split = "test" },
                "ufoai-sound/ambience_fire1" => row with { Category = "piano", Group = "MUS", Caption = "a piano plays", Split = null },
                _ when e.Category == "gunshot" => row with { Split = "test" },
                // The fixture is one training package; without a split of their own the rest are split by recording.
                _ => row with { Split = null },
            };
        });
        SoundIndex.Write(_sounds, rows);
    }

    [Fact]
    public void Generate_500Clips_KindSharesMatchTheDefaults()
    {
        var scenes = Generate(500);

        foreach (var (kind, share) in SceneKindShares.Default.Shares)
        {
            var measured = scenes.Count(s => s.Kind == SceneKinds.Name(kind)) / 500.0;
            // Binomial spread at 500 clips is at most 2.2 points; 6 points leaves room without hiding a wrong mix.
            Assert.True(Math.Abs(measured - share) < 0.06, $"{SceneKinds.Name(kind)}: {measured:0.000} of clips, expected {share:0.000}");
        }
    }

    [Fact]
    public void Generate_QuietClips_CaptionsAreNothingNotableAndNameNoEvent()
    {
        var names = CategoryNames.LoadBundled();
        var quiet = Generate(300).Where(s => s.Kind == "quiet").ToList();

        Assert.NotEmpty(quiet);
        Assert.All(quiet, scene =>
        {
            Assert.True(scene.Quiet);
            Assert.Empty(scene.Events);
            Assert.All(scene.Captions, caption =>
            {
                Assert.True(SceneKinds.IsNothingNotable(caption), $"'{caption}' is not a nothing-notable phrasing");
                Assert.All(names.NamedIn(caption), c => Assert.True(c.Background, $"'{caption}' names the event category {c.Name}"));
            });
        });
    }

    [Fact]
    public void Generate_QuietClipsWithASteadyTone_SayOnlyThatAtTheToneLevel()
    {
        var library = SoundLibrary.Load(_sounds, SampleRate, CancellationToken.None);
        var generator = new SceneGenerator(library.Sounds, splitOf: null, SampleRate, seconds: 4, new SceneKindShares(new Dictionary<SceneKind, double> { [SceneKind.Quiet] = 1 }));
        var toned = Enumerable.Range(0, 80)
            .Select(i => generator.Generate(ClothoDataset.Development, $"{i}.wav", new Random(SceneSetBuilder.ClipSeed(5, ClothoDataset.Development, i))))
            .Where(g => g.Scene.Tone is not null)
            .ToList();

        Assert.InRange(toned.Count, 5, 40);
        Assert.All(toned, g =>
        {
            var tone = g.Scene.Tone!;
            Assert.InRange(tone.FrequencyHz, 100, 5000);
            Assert.InRange(tone.Partials, 1, 3);
            Assert.InRange(tone.LevelDb, -50, -18);
            Assert.All(g.Scene.Captions, c =>
            {
                Assert.True(SceneKinds.IsNothingNotable(c), $"'{c}' is not a nothing-notable phrasing");
                Assert.Contains("steady tone", c, StringComparison.OrdinalIgnoreCase);
            });
            // The clip is the tone over its noise floor: its level is the power sum of the two.
            var floor = g.Scene.NoiseDb is { } noise ? Math.Pow(10, noise / 10) : 0;
            var expected = 10 * Math.Log10(Math.Pow(10, tone.LevelDb / 10) + floor);
            Assert.InRange(QuietClips.RmsDb(g.Audio), expected - 0.5, expected + 0.5);
        });
    }

    [Fact]
    public void Generate_AmbienceClips_AreNotQuietAndNameTheirBackground()
    {
        var names = CategoryNames.LoadBundled();
        var ambience = Generate(300).Where(s => s.Kind == "ambience").ToList();

        Assert.NotEmpty(ambience);
        Assert.All(ambience, scene =>
        {
            Assert.False(scene.Quiet);
            Assert.All(scene.Captions, caption => Assert.True(
                names.Names(caption, scene.Background!.Category),
                $"'{caption}' does not name {scene.Background.Category}"));
        });
    }

    [Fact]
    public void Generate_SpeechAndMusicClips_CaptionsNameSpeechAndTheInstrument()
    {
        var names = CategoryNames.LoadBundled();
        var scenes = Generate(300);
        var speech = scenes.Where(s => s.Kind == "speech").ToList();
        var music = scenes.Where(s => s.Kind == "music").ToList();

        Assert.NotEmpty(speech);
        Assert.Contains(speech, s => s.Events.Count == 2);
        Assert.All(speech.SelectMany(s => s.Captions), c => Assert.True(names.Names(c, "speech"), $"'{c}' does not name speech"));
        Assert.NotEmpty(music);
        Assert.All(music.SelectMany(s => s.Captions), c => Assert.True(names.Names(c, "piano"), $"'{c}' does not name the piano"));
        // A radio or television is a background: never an event, and no kind lists it among events.
        Assert.All(scenes.Where(s => s.Kind == "media_background"), s => Assert.NotNull(s.Background!.Media));
    }

    [Fact]
    public void Build_IndexNamesTestSplit_NoTestRecordingReachesATrainingScene()
    {
        var root = Build("split", seed: 4, clips: 60);

        var heldOut = SoundIndex.Load(_sounds).Where(e => e.Split == "test").Select(e => e.Id).ToHashSet();
        var scenes = ReadScenes(root);
        var used = scenes.Select(s => (s.Split, Ids: s.Ids)).ToList();
        Assert.DoesNotContain(used.Where(u => u.Split != ClothoDataset.Evaluation).SelectMany(u => u.Ids), heldOut.Contains);
        Assert.Contains(used.Where(u => u.Split == ClothoDataset.Evaluation).SelectMany(u => u.Ids), heldOut.Contains);
    }

    [Fact]
    public void Build_SameSeedTwiceWithEveryKind_WritesIdenticalBytes()
    {
        var first = Build("first", seed: 9, clips: 30);
        var second = Build("second", seed: 9, clips: 30);

        Assert.Equal(File.ReadAllBytes(Path.Combine(first, SceneSetBuilder.ScenesFileName)), File.ReadAllBytes(Path.Combine(second, SceneSetBuilder.ScenesFileName)));
        foreach (var split in ClothoDataset.Splits)
        {
            foreach (var wav in Directory.EnumerateFiles(ClothoDataset.AudioDirectory(first, split)))
            {
                Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(Path.Combine(ClothoDataset.AudioDirectory(second, split), Path.GetFileName(wav))));
            }
        }
    }

    [Fact]
    public void Apply_RealRecording_KeepsLengthAndFiniteSamplesAndAddsATail()
    {
        var entry = SoundIndex.Load(_sounds).First(e => e.Id == "ufoai-sound/doors_door1-close");
        var dry = WavFile.TryReadMono16(entry.File, SampleRate, CancellationToken.None)!;
        var wet = dry.ToArray();

        RoomReverb.Apply(wet, SampleRate, rt60: 0.9, wet: 0.5, new Random(1));

        Assert.Equal(dry.Length, wet.Length);
        Assert.All(wet, s => Assert.True(float.IsFinite(s)));
        // Reverberation fills the decay after the door's loud part: the last quarter gains energy relative to the whole.
        static double TailShare(float[] x) => x.Skip(x.Length * 3 / 4).Sum(s => (double)s * s) / x.Sum(s => (double)s * s);
        Assert.True(TailShare(wet) > TailShare(dry), $"tail share {TailShare(wet):0.0000} not above the dry {TailShare(dry):0.0000}");
    }

    [Fact]
    public void Generate_DigitalSilenceChance_SomeClipsHaveNoNoiseFloorAndTheDefaultDrawsNothingNew()
    {
        var library = SoundLibrary.Load(_sounds, SampleRate, CancellationToken.None);
        var plain = new SceneGenerator(library.Sounds, splitOf: null, SampleRate, seconds: 4);
        var explicitZero = new SceneGenerator(library.Sounds, splitOf: null, SampleRate, seconds: 4, digitalSilenceChance: 0);
        var silent = new SceneGenerator(library.Sounds, splitOf: null, SampleRate, seconds: 4, shares: SceneKindShares.Parse("single=1"), backgroundChance: 0, digitalSilenceChance: 1);
        var half = new SceneGenerator(library.Sounds, splitOf: null, SampleRate, seconds: 4, digitalSilenceChance: 0.5);

        // Chance 0 leaves the random sequence alone: the same clips, sample for sample, as a generator without the option.
        var (a, audioA) = plain.Generate(ClothoDataset.Development, "0.wav", new Random(11));
        var (b, audioB) = explicitZero.Generate(ClothoDataset.Development, "0.wav", new Random(11));
        Assert.Equal(audioA, audioB);
        Assert.NotNull(a.NoiseDb);
        Assert.Equal(a.NoiseDb, b.NoiseDb);

        // Chance 1, one event and no background: no noise floor, so most of the clip is exactly zero.
        for (var i = 0; i < 5; i++)
        {
            var (scene, audio) = silent.Generate(ClothoDataset.Development, $"{i}.wav", new Random(100 + i));
            Assert.Null(scene.NoiseDb);
            Assert.True(audio.Count(x => x == 0) > audio.Length / 4, $"clip {i}: {audio.Count(x => x == 0)} of {audio.Length} samples are zero");
        }

        var floors = Enumerable.Range(0, 40).Select(i => half.Generate(ClothoDataset.Development, $"{i}.wav", new Random(200 + i)).Scene.NoiseDb).ToList();
        Assert.InRange(floors.Count(f => f is null), 8, 32);
        Assert.All(floors.OfType<double>(), f => Assert.InRange(f, -66, -54));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SceneGenerator(library.Sounds, splitOf: null, SampleRate, seconds: 4, digitalSilenceChance: 1.5));
    }

    [Fact]
    public void Parse_UnknownKind_ThrowsNamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() => SceneKindShares.Parse("single=1,radio=0.5"));

        Assert.Contains("radio=0.5", error.Message, StringComparison.Ordinal);
    }

    private List<Scene> Generate(int count)
    {
        var library = SoundLibrary.Load(_sounds, SampleRate, CancellationToken.None);
        var generator = new SceneGenerator(library.Sounds, splitOf: null, SampleRate, seconds: 4);
        return Enumerable.Range(0, count)
            .AsParallel().AsOrdered()
            .Select(i => generator.Generate(ClothoDataset.Development, $"{i}.wav", new Random(SceneSetBuilder.ClipSeed(3, ClothoDataset.Development, i))).Scene)
            .ToList();
    }

    private string Build(string name, int seed, int clips)
    {
        var root = _files.PathOf(name);
        var options = new SceneSetOptions
        {
            SoundsDirectory = _sounds,
            OutputDirectory = root,
            Clips = clips,
            Seed = seed,
            Seconds = 4,
            ValidationFraction = 0.2,
            TestFraction = 0.2,
        };
        new SceneSetBuilder(options, TextWriter.Null).Build(CancellationToken.None);
        return root;
    }

    private static List<(string Split, List<string> Ids)> ReadScenes(string root)
        => File.ReadAllLines(Path.Combine(root, SceneSetBuilder.ScenesFileName)).Select(line =>
        {
            using var json = JsonDocument.Parse(line);
            var scene = json.RootElement;
            var ids = scene.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("recording_id").GetString()!).ToList();
            if (scene.GetProperty("background") is { ValueKind: JsonValueKind.Object } background)
            {
                ids.Add(background.GetProperty("recording_id").GetString()!);
                if (background.GetProperty("chained") is { ValueKind: JsonValueKind.Array } chained)
                {
                    ids.AddRange(chained.EnumerateArray().Select(c => c.GetString()!));
                }
            }

            return (scene.GetProperty("split").GetString()!, ids);
        }).ToList();

    public void Dispose() => _files.Dispose();
}
