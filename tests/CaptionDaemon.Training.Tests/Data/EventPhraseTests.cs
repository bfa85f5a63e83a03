using CaptionDaemon.Training.Data.Scenes;

namespace CaptionDaemon.Training.Tests.Data;

public sealed class EventPhraseTests
{
    [Theory]
    [InlineData("a dog barks", "a dog barks twice", "a dog is barking", "a dog barking twice", "a dog can be heard barking twice")]
    [InlineData("birds sing in a forest", "birds sing in a forest twice", "birds are singing in a forest", "birds singing in a forest twice", "birds can be heard singing in a forest twice")]
    [InlineData("dice are rolled", "dice are rolled twice", "dice are being rolled", "dice being rolled twice", "dice can be heard being rolled twice")]
    [InlineData("an explosion", "an explosion is heard twice", "an explosion can be heard", "an explosion twice", "an explosion can be heard twice")]
    [InlineData("footsteps on gravel", "footsteps on gravel are heard twice", "footsteps on gravel can be heard", "footsteps on gravel twice", "footsteps on gravel can be heard twice")]
    [InlineData("a accordion plays", "an accordion plays twice", "an accordion is playing", "an accordion playing twice", "an accordion can be heard playing twice")]
    [InlineData("someone bites an apple", "someone bites an apple twice", "someone is biting an apple", "someone biting an apple twice", "someone can be heard biting an apple twice")]
    [InlineData("a bus drives", "a bus drives twice", "a bus is driving", "a bus driving twice", "a bus can be heard driving twice")]
    [InlineData("night insects", "night insects are heard twice", "night insects can be heard", "night insects twice", "night insects can be heard twice")]
    [InlineData("chopping wood", "someone chops wood twice", "someone is chopping wood", "someone chopping wood twice", "someone can be heard chopping wood twice")]
    public void Parse_CatalogCaption_GivesGrammaticalForms(string caption, string clause, string progressive, string gerund, string heard)
    {
        var phrase = EventPhrase.Parse(caption);

        Assert.Equal(clause, phrase.Clause("twice"));
        Assert.Equal(progressive, phrase.Progressive());
        Assert.Equal(gerund, phrase.Gerund("twice"));
        Assert.Equal(heard, phrase.HeardDoing("twice"));
    }

    [Theory]
    [InlineData("chops", "chopping")]
    [InlineData("hums", "humming")]
    [InlineData("opens", "opening")]
    [InlineData("moos", "mooing")]
    [InlineData("whines", "whining")]
    [InlineData("crashes", "crashing")]
    [InlineData("flies", "flying")]
    [InlineData("gallops", "galloping")]
    [InlineData("caws", "cawing")]
    [InlineData("hisses", "hissing")]
    public void Ing_ThirdPersonVerb_FollowsSpellingRules(string verb, string expected)
    {
        Assert.Equal(expected, EventPhrase.Ing(verb, isBaseForm: false));
    }

    [Fact]
    public void WithSubject_GenericBird_KeepsVerbAndRest()
    {
        var phrase = EventPhrase.Parse("a hawk screeches").WithSubject("a bird", plural: false);

        Assert.Equal("a bird screeches", phrase.Clause());
        Assert.Equal("a bird is screeching", phrase.Progressive());
    }
}
