using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Sounds;
using CaptionDaemon.Training.Data.Sounds.Labelling;
using CaptionDaemon.Training.Evaluation;

namespace CaptionDaemon.Training.Tests.Data;

public sealed class LabelRulesTests : IDisposable
{
    private const string Keywords = """
        words	category	caption	group	weak
        music	-
        glass break*	glass_break	glass shatters	ENV
        footstep*	footsteps	footsteps	ENV
        cattle	cow	cattle moo	ENV
        dog*	dog	a dog barks	ENV
        zip*	zipper	a zipper is pulled	ENV
        gravel	stone	gravel crunches	ENV	yes
        step*	footsteps	footsteps	ENV	yes
        """;

    private const string Rules = """
        # a comment
        package	pattern	action	category	caption	attributes
        kajongg	/voices/(?<sex>male|female)(?<n>\d)/	speech			sex=${sex};lang=en;speaker=en-${sex}${n}
        game	/music/	skip
        game	/drums/	keywords	drums	drums play	group=MUS
        game	/bells/	label	bell	a bell rings	group=ENV
        game	.	keywords
        """;

    private readonly TestFiles _files = new();

    [Theory]
    [InlineData("Footstep_Grass_Walking", new[] { "footstep", "grass", "walking" })]
    [InlineData("breakGlass02", new[] { "break", "glass" })]
    [InlineData("hstep_dirt_MN_13", new[] { "hstep", "dirt", "mn" })]
    public void Words_Name_SplitsAtNonLettersAndCaseChanges(string name, string[] expected)
    {
        Assert.Equal(expected, LabelRules.Words(name));
    }

    [Fact]
    public void Apply_SpeechRule_FillsSexLanguageAndSpeakerFromTheMatch()
    {
        var label = Load().Apply("kajongg", "usr/share/kajongg/voices/female2/b1.ogg");

        Assert.NotNull(label);
        Assert.Equal(("speech", "a woman speaks", "SPEECH", "kajongg:en-female2", "female", "en"),
            (label.Category, label.Caption, label.Group, label.Speaker, label.Sex, label.Language));
    }

    [Theory]
    [InlineData("usr/share/game/sounds/footsteps/gravel1.ogg", "footsteps")] // a weak word of the file name loses to a folder's word
    [InlineData("usr/share/game/sounds/dog_bark.ogg", "dog")]
    [InlineData("usr/share/game/music/dog_theme.ogg", null)] // skip rule before the keywords
    [InlineData("usr/share/game/sounds/gravel1.ogg", "stone")] // weak words label when nothing else does
    [InlineData("usr/share/game/sounds/dog_music.ogg", null)] // '-' keyword in the file name leaves it out
    [InlineData("usr/share/game/sounds/glass_breaking.ogg", "glass_break")]
    [InlineData("usr/share/game/sounds/whatever.ogg", null)] // no keyword, no fallback: not labelled
    [InlineData("usr/share/game/drums/whatever.ogg", "drums")] // keywords rule with a fallback
    [InlineData("usr/share/game/bells/b1.ogg", "bell")]
    [InlineData("public.zip:audio/actor/fauna/animal/cattle_01.ogg", "cow")] // the archive's name is not a word of the path
    public void Apply_Keywords_FindTheCategoryByTheTablesOrder(string path, string? category)
    {
        Assert.Equal(category, Load().Apply("game", path)?.Category);
    }

    [Fact]
    public void Apply_PackageWithoutRules_LabelsNothing()
    {
        Assert.Null(Load().Apply("other", "usr/share/game/sounds/dog.ogg"));
    }

    [Fact]
    public void Load_BadAction_NamesFileAndLine()
    {
        var directory = _files.PathOf("bad");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, LabelRules.KeywordsFileName), Keywords);
        File.WriteAllText(Path.Combine(directory, LabelRules.RulesFileName), "package\tpattern\taction\tcategory\tcaption\tattributes\ngame\t.\tguess\n");

        var ex = Assert.Throws<DatasetFormatException>(() => LabelRules.Load(directory));

        Assert.Contains("line 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'guess'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BundledTables_LoadAndEveryPackageOfTheTableHasRules()
    {
        var rules = LabelRules.Load(LabelRules.BundledDirectory);
        var packages = CatalogBuilder.LoadPackages(Path.Combine(LabelRules.BundledDirectory, CatalogBuilder.PackagesFileName));

        Assert.Empty(packages.Select(p => p.Name).Except(rules.Packages));
        Assert.Contains(packages, p => p.Split == "test");
        Assert.Contains(packages, p => p.Split == "val");
    }

    [Fact]
    public void BundledTables_EveryReviewedFileAndRuleBelongsToAPackageOfTheTable()
    {
        // A package missing from the table is never listed, so its reviewed rows and rules would go unused without a
        // word: ten packages of the first catalog were lost that way when the catalog moved to rules.
        var packages = CatalogBuilder.LoadPackages(Path.Combine(LabelRules.BundledDirectory, CatalogBuilder.PackagesFileName));
        var rules = LabelRules.Load(LabelRules.BundledDirectory);
        var overrides = SoundCatalog.Load(Path.Combine(LabelRules.BundledDirectory, CatalogBuilder.OverridesFileName));

        Assert.Empty(CatalogBuilder.UnlistedPackages(packages, rules, overrides));
        Assert.Equal(["oxygen-sounds", "simutrans-pak64"], CatalogBuilder.UnlistedPackages([.. packages.Where(p => p.Name is not ("simutrans-pak64" or "oxygen-sounds"))], rules, overrides));
    }

    [Fact]
    public void BundledCatalog_MeetsTheScaleTargetsAndEveryCategoryHasSynonyms()
    {
        var catalog = SoundCatalog.Load(SoundCatalog.BundledPath);
        var names = CategoryNames.Load(CategoryNames.BundledPath);
        var packages = CatalogBuilder.LoadPackages(Path.Combine(LabelRules.BundledDirectory, CatalogBuilder.PackagesFileName))
            .ToDictionary(p => p.Name, p => p.Split);

        var speech = catalog.Recordings.Where(r => r.Group == "SPEECH").ToList();
        Assert.True(catalog.Recordings.Count - speech.Count >= 4000, $"{catalog.Recordings.Count - speech.Count} non-speech rows");
        Assert.True(speech.Count >= 3000, $"{speech.Count} speech rows");
        Assert.True(speech.Select(r => r.Speaker).Distinct().Count() >= 20);
        Assert.DoesNotContain(catalog.Recordings, r => packages[r.Package] != r.Split);
        Assert.DoesNotContain(catalog.Recordings.Select(r => r.Category).Distinct(), c => names.Find(c) is null);
    }

    private LabelRules Load()
    {
        var directory = _files.PathOf("rules");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, LabelRules.KeywordsFileName), Keywords);
        File.WriteAllText(Path.Combine(directory, LabelRules.RulesFileName), Rules);
        return LabelRules.Load(directory);
    }

    public void Dispose() => _files.Dispose();
}
