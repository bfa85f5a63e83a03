using System.Text;
using CaptionDaemon.Sinks;

namespace CaptionDaemon.Tests.Sinks;

public sealed class OutboxJournalTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("outbox-journal-").FullName;

    private string JournalPath => Path.Combine(_directory, "outbox.jsonl");

    [Fact]
    public void Load_TornLastRecord_KeepsTheWholeRecordsDropsTheTornOneAndAppendsAfterThem()
    {
        using (var journal = new OutboxJournal(_directory))
        {
            journal.Load();
            journal.Append([new OutboxEntry(Captions.Make(1)), new OutboxEntry(Captions.Make(2)), new OutboxEntry(Captions.Make(3))]);
        }

        // A crash in the middle of writing the fourth record: half a line, no newline.
        var whole = File.ReadAllBytes(JournalPath);
        var fourth = File.ReadAllBytes(JournalPath).AsSpan(0, whole.Length / 3).ToArray();
        using (var stream = new FileStream(JournalPath, FileMode.Append))
        {
            stream.Write(fourth, 0, fourth.Length / 2);
        }

        using (var journal = new OutboxJournal(_directory))
        {
            var restored = journal.Load();
            Assert.Equal([1L, 2, 3], restored.Select(e => e.Caption.Sequence));
            Assert.Equal(0, journal.UnreadableLines);
            Assert.Equal(whole.Length, new FileInfo(JournalPath).Length); // the torn bytes are gone
            journal.Append([new OutboxEntry(Captions.Make(4))]);
        }

        using (var journal = new OutboxJournal(_directory))
        {
            Assert.Equal([1L, 2, 3, 4], journal.Load().Select(e => e.Caption.Sequence));
        }
    }

    [Fact]
    public void Load_GarbageLineInTheMiddle_SkipsAndCountsItKeepsTheRest()
    {
        using (var journal = new OutboxJournal(_directory))
        {
            journal.Load();
            journal.Append([new OutboxEntry(Captions.Make(1))]);
        }

        File.AppendAllText(JournalPath, "\0\0\0{\"sourceId\":\n", Encoding.UTF8);
        using (var journal = new OutboxJournal(_directory))
        {
            journal.Load();
            journal.Append([new OutboxEntry(Captions.Make(2))]);
        }

        using (var again = new OutboxJournal(_directory))
        {
            Assert.Equal([1L, 2], again.Load().Select(e => e.Caption.Sequence));
            Assert.Equal(1, again.UnreadableLines);
        }
    }

    [Fact]
    public void Rewrite_ThenCommit_OnlyTheRewrittenEntriesAreRestoredFromTheCommittedOne()
    {
        var entries = Enumerable.Range(1, 5).Select(i => new OutboxEntry(Captions.Make(i))).ToArray();
        using (var journal = new OutboxJournal(_directory))
        {
            journal.Load();
            journal.Append(entries);
            journal.Commit(entries[1].JournalEnd);
            journal.Rewrite(entries[2..]);
            journal.Commit(entries[2].JournalEnd);
        }

        using var again = new OutboxJournal(_directory);
        Assert.Equal([4L, 5], again.Load().Select(e => e.Caption.Sequence));
        Assert.False(File.Exists(JournalPath + ".new"));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
