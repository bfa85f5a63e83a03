using CaptionDaemon.Training.Data.Scenes;

namespace CaptionDaemon.Training.Tests.Data;

public sealed class SceneCaptionerTests
{
    private static readonly CaptionEvent s_rain = new(EventPhrase.Parse("rain falls"), null, 1, Distant: false);

    [Fact]
    public void Caption_DogTwiceOverRain_FiveDistinctCaptionsNamingBothAndTheCount()
    {
        var dog = new CaptionEvent(EventPhrase.Parse("a dog barks"), null, Repeats: 2, Distant: false);

        for (var seed = 0; seed < 50; seed++)
        {
            var captions = SceneCaptioner.Caption([dog], [false], s_rain, new Random(seed));

            Assert.Equal(5, captions.Count);
            Assert.Equal(5, captions.Distinct().Count());
            Assert.All(captions, c => Assert.Contains("dog", c, StringComparison.Ordinal));
            Assert.True(captions.Count(c => c.Contains("rain", StringComparison.OrdinalIgnoreCase)) >= 4, string.Join(" | ", captions));
            Assert.Contains(captions, c => c.Contains("twice", StringComparison.Ordinal));
            Assert.All(captions, c => Assert.True(char.IsUpper(c[0]), c));
            Assert.All(captions, c => Assert.True(c.Split(' ').Length <= SceneCaptioner.MaxWords, c));
        }
    }

    [Fact]
    public void Caption_DistantEventThenSecondEvent_SaysDistanceAndOrder()
    {
        var owl = new CaptionEvent(EventPhrase.Parse("an owl hoots"), null, 1, Distant: true);
        var door = new CaptionEvent(EventPhrase.Parse("a door closes"), null, 1, Distant: false);

        var captions = Enumerable.Range(0, 20).SelectMany(seed => SceneCaptioner.Caption([owl, door], [false, false], null, new Random(seed))).ToList();

        Assert.All(captions, c => Assert.Contains("owl", c, StringComparison.Ordinal));
        Assert.All(captions, c => Assert.Contains("door", c, StringComparison.Ordinal));
        Assert.All(captions, c => Assert.True(c.Contains("distance", StringComparison.Ordinal) || c.Contains("far away", StringComparison.Ordinal), c));
        Assert.Contains(captions, c => c.Contains("followed by", StringComparison.Ordinal));
        Assert.DoesNotContain(captions, c => c.Contains("while", StringComparison.Ordinal));
    }

    [Fact]
    public void Caption_OverlappingEvents_UsesSimultaneityNotSequence()
    {
        var cat = new CaptionEvent(EventPhrase.Parse("a cat meows"), null, 1, Distant: false);
        var bell = new CaptionEvent(EventPhrase.Parse("a bell dings"), null, 1, Distant: false);

        var captions = Enumerable.Range(0, 20).SelectMany(seed => SceneCaptioner.Caption([cat, bell], [false, true], null, new Random(seed))).ToList();

        Assert.DoesNotContain(captions, c => c.Contains("followed by", StringComparison.Ordinal) || c.Contains("then", StringComparison.Ordinal));
        Assert.Contains(captions, c => c.Contains("while", StringComparison.Ordinal));
    }
}
