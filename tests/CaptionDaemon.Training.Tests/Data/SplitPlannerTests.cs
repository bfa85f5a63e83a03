using CaptionDaemon.Training.Data.Scenes;
using CaptionDaemon.Training.Data.Sounds;

namespace CaptionDaemon.Training.Tests.Data;

public sealed class SplitPlannerTests
{
    [Fact]
    public void Assign_MixedCategorySizes_HoldsOutFromLargeCategoriesAndKeepsSingletonsForTraining()
    {
        var sounds = new List<SourceSound>();
        sounds.AddRange(Make("footsteps", 10));
        sounds.AddRange(Make("dog", 4));
        sounds.AddRange(Make("bird", 3));
        sounds.AddRange(Make("cat", 2));
        foreach (var category in new[] { "lion", "whale", "harp", "gavel", "kiss", "slap", "bell" })
        {
            sounds.AddRange(Make(category, 1));
        }

        var splits = SplitPlanner.Assign(sounds, 0.1, 0.1, seed: 1);

        Assert.Equal(sounds.Count, splits.Count);
        var held = sounds.Where(s => splits[s.Id] != "development").ToList();
        Assert.Equal(3, held.Count(s => splits[s.Id] == "validation")); // round(26 * 0.1)
        Assert.Equal(3, held.Count(s => splits[s.Id] == "evaluation"));
        Assert.DoesNotContain(held, s => sounds.Count(o => o.Category == s.Category) == 1);
        foreach (var category in sounds.Select(s => s.Category).Distinct())
        {
            var size = sounds.Count(s => s.Category == category);
            var training = sounds.Count(s => s.Category == category && splits[s.Id] == "development");
            Assert.True(training >= Math.Min(size, 2), $"{category}: {training} of {size} left for training");
        }
    }

    [Fact]
    public void Assign_OnlySingletons_StillGivesEveryHeldOutSplitOneRecording()
    {
        var sounds = new[] { "a", "b", "c", "d", "e" }.SelectMany(c => Make(c, 1)).ToList();

        var splits = SplitPlanner.Assign(sounds, 0.1, 0.1, seed: 2);

        Assert.Equal(1, splits.Values.Count(v => v == "validation"));
        Assert.Equal(1, splits.Values.Count(v => v == "evaluation"));
        Assert.Equal(3, splits.Values.Count(v => v == "development"));
    }

    [Fact]
    public void Assign_SameSeed_SameAssignment()
    {
        var sounds = Make("footsteps", 12).Concat(Make("door", 6)).ToList();

        Assert.Equal(SplitPlanner.Assign(sounds, 0.2, 0.2, 9), SplitPlanner.Assign(sounds, 0.2, 0.2, 9));
    }

    private static IEnumerable<SourceSound> Make(string category, int count)
        => Enumerable.Range(0, count).Select(i => new SourceSound
        {
            Entry = new SoundIndexEntry
            {
                Id = $"pkg/{category}{i}",
                File = $"audio/pkg/{category}{i}.wav",
                Package = "pkg",
                SourcePath = $"{category}{i}.wav",
                Category = category,
                Caption = "a " + category + " sounds",
                Group = "ENV",
                License = "CC0",
                CopyrightFile = "copyright/pkg.txt",
            },
            Samples = new float[1600],
            ActiveRmsDb = -20,
            IsBackground = false,
            Phrase = EventPhrase.Parse("a " + category + " sounds"),
            GenericPhrase = null,
        });
}
