using CaptionDaemon.Training.Incremental;

namespace CaptionDaemon.Training.Tests.Incremental;

public sealed class EventMentionTests
{
    [Theory]
    [InlineData("a dog is barking in the distance", "dog", "a dog barks", true)]
    [InlineData("something barked twice", "dog", "a dog barks", true)]
    [InlineData("dogs bark while rain falls", "dog", "a dog barks", true)]
    [InlineData("rain falls on a roof", "dog", "a dog barks", false)]
    [InlineData("someone chops wood", "chopping", "an axe chops wood", true)]
    [InlineData("a car horn honks", "car_horn", "a car horn honks", true)]
    [InlineData("a bell chimes", "clock", "a clock chimes", true)]
    [InlineData("a clock is chiming", "clock", "a clock chimes", true)]
    [InlineData("the sound of something in the background", "dog", "a dog barks", false)]
    public void Names_CaptionAndEvent_MatchesStemsOfTheEventsWords(string caption, string category, string eventCaption, bool expected)
    {
        Assert.Equal(expected, EventMention.Names(caption, new ClipEvent(category, eventCaption)));
    }

    [Theory]
    [InlineData("barks", "bark")]
    [InlineData("barking", "bark")]
    [InlineData("barked", "bark")]
    [InlineData("chopping", "chop")]
    [InlineData("chimes", "chim")]
    [InlineData("chime", "chim")]
    [InlineData("glass", "glass")]
    [InlineData("buses", "bus")]
    [InlineData("ring", "ring")]
    public void Stem_Word_DropsEndings(string word, string stem)
    {
        Assert.Equal(stem, EventMention.Stem(word));
    }
}
