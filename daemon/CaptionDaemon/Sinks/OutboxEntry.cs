using CaptionDaemon.Contracts;

namespace CaptionDaemon.Sinks;

/// <summary>A caption waiting in a sink's outbox, with where its line ends in the journal once written (0: not yet).</summary>
internal sealed class OutboxEntry(Caption caption)
{
    public Caption Caption { get; } = caption;

    /// <summary>Byte offset just past this caption's journal line; 0 while it is only in memory.</summary>
    public long JournalEnd { get; set; }
}
