using System.Text.Json.Nodes;
using CaptionDaemon.Training.Reporting;

namespace CaptionDaemon.Training.Tests.Reporting;

/// <summary>Paths recorded relative to named roots, and read back.</summary>
public sealed class RecordedPathsTests
{
    private static readonly RecordedPaths Paths = new("/srv/checkouts/CaptionDaemon", "/home/alice", "/tmp");

    [Theory]
    [InlineData("/srv/checkouts/CaptionDaemon/models/default", "models/default")]
    [InlineData("/srv/checkouts/CaptionDaemon", ".")]
    [InlineData("/srv/checkouts/scenes-30k", "$WORK/scenes-30k")]
    [InlineData("/home/alice/.cache/captiond/reproduce-default/scenes", "~/.cache/captiond/reproduce-default/scenes")]
    [InlineData("/tmp/demo/vacuum/", "$TMP/demo/vacuum")]
    [InlineData("/mnt/disk2/runs/kd-full", "<elsewhere>/kd-full")]
    public void Record_PathUnderEachRoot_IsRelativeToThatRoot(string path, string recorded)
    {
        Assert.Equal(recorded, Paths.Record(path));
    }

    [Theory]
    [InlineData("/tmp/ci", "/tmp/captiond-export-1/checkpoint", "$TMP/captiond-export-1/checkpoint")]
    [InlineData("/home/alice/CaptionDaemon", "/home/alice/scenes", "~/scenes")]
    public void Record_CheckoutRightInTheTempOrHomeFolder_UsesThatFoldersName(string checkout, string path, string recorded)
    {
        Assert.Equal(recorded, new RecordedPaths(checkout, "/home/alice", "/tmp").Record(path));
    }

    [Theory]
    [InlineData("models/default", "/srv/checkouts/CaptionDaemon/models/default")]
    [InlineData("$WORK/scenes-30k", "/srv/checkouts/scenes-30k")]
    [InlineData("~/.cache/x", "/home/alice/.cache/x")]
    [InlineData("$TMP/demo/vacuum", "/tmp/demo/vacuum")]
    [InlineData("/data/old/absolute", "/data/old/absolute")]
    public void Resolve_RecordedPath_IsTheFolderOnThisMachine(string recorded, string path)
    {
        Assert.Equal(path, Paths.Resolve(recorded));
    }

    [Fact]
    public void Resolve_ElsewhereOrWithoutACheckout_IsUnknown()
    {
        Assert.Null(Paths.Resolve("<elsewhere>/kd-full"));
        Assert.Null(new RecordedPaths(null, "/home/alice", "/tmp").Resolve("models/default"));
    }

    [Fact]
    public void RecordCommand_AbsolutePathsAmongWords_RecordsOnlyThose()
    {
        var command = "captiond-train train --data /srv/checkouts/scenes-30k --out=/tmp/run --encoder '/home/alice/tag2/run/best' --lr 1/1000";

        Assert.Equal(
            "captiond-train train --data $WORK/scenes-30k --out=$TMP/run --encoder '~/tag2/run/best' --lr 1/1000",
            Paths.RecordCommand(command));
    }

    [Fact]
    public void RecordAll_TrainingSection_RewritesNestedPathsAndCommandsAndKeepsTheRest()
    {
        var training = new JsonObject
        {
            ["data"] = "/srv/checkouts/scenes-30k",
            ["epochs"] = 2,
            ["method"] = "sup+seq/contrastive",
            ["teacher"] = new JsonObject { ["path"] = "/tmp/teacher" },
            ["runs"] = new JsonArray("/home/alice/runs/a", "b"),
            ["calibration"] = new JsonObject { ["command"] = "captiond-train calibrate --bundle /srv/checkouts/CaptionDaemon/models/default" },
        };

        var recorded = Paths.RecordAll(training)!;

        Assert.Equal("$WORK/scenes-30k", recorded["data"]!.GetValue<string>());
        Assert.Equal(2, recorded["epochs"]!.GetValue<int>());
        Assert.Equal("sup+seq/contrastive", recorded["method"]!.GetValue<string>());
        Assert.Equal("$TMP/teacher", recorded["teacher"]!["path"]!.GetValue<string>());
        Assert.Equal(["~/runs/a", "b"], recorded["runs"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal("captiond-train calibrate --bundle models/default", recorded["calibration"]!["command"]!.GetValue<string>());
        Assert.Equal("/srv/checkouts/scenes-30k", training["data"]!.GetValue<string>());
    }

    [Fact]
    public void RecordUnder_InsideTheFolder_IsRelativeToIt()
    {
        Assert.Equal("runs/sup-f1-s1", Paths.RecordUnder("/srv/checkouts/kd-full", "/srv/checkouts/kd-full/runs/sup-f1-s1"));
        Assert.Equal("$WORK/data/scenes", Paths.RecordUnder("/srv/checkouts/kd-full", "/srv/checkouts/data/scenes"));
    }
}
