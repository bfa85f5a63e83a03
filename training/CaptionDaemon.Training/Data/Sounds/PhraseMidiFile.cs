using NAudio.Midi;

namespace CaptionDaemon.Training.Data.Sounds;

/// <summary>
/// Writes phrases of one instrument into one standard MIDI file, each phrase at the start of its own slot, so that one
/// run of the synthesizer renders them all (loading a 140 MB soundfont per phrase would cost more than the rendering).
/// The tempo is fixed at 120 bpm with 480 ticks per quarter, i.e. 960 ticks per second; the phrases carry their own tempo
/// in seconds.
/// </summary>
internal static class PhraseMidiFile
{
    private const int TicksPerQuarter = 480;
    private const int MicrosecondsPerQuarter = 500_000;
    private const double TicksPerSecond = TicksPerQuarter * 1e6 / MicrosecondsPerQuarter;
    private const int DrumChannel = 10;
    private const int MelodicChannel = 1;

    /// <summary>Writes <paramref name="phrases"/> with phrase k starting at k * <paramref name="slotSeconds"/>; the file lasts to the end of the last slot.</summary>
    public static void Write(string path, Instrument instrument, IReadOnlyList<Phrase> phrases, double slotSeconds)
    {
        var events = new MidiEventCollection(0, TicksPerQuarter);
        events.AddTrack();
        var channel = instrument.IsDrumKit ? DrumChannel : MelodicChannel;
        events.AddEvent(new TempoEvent(MicrosecondsPerQuarter, 0), 0);
        events.AddEvent(new ControlChangeEvent(0, channel, MidiController.BankSelect, 0), 0);
        events.AddEvent(new PatchChangeEvent(0, channel, instrument.Program), 0);
        events.AddEvent(new ControlChangeEvent(0, channel, MidiController.MainVolume, 110), 0);
        for (var k = 0; k < phrases.Count; k++)
        {
            var slot = k * slotSeconds;
            foreach (var note in phrases[k].Notes)
            {
                var on = Ticks(slot + note.Start);
                var off = Math.Max(on + 1, Ticks(slot + note.Start + note.Duration));
                var noteOn = new NoteOnEvent(on, channel, note.Key, note.Velocity, (int)(off - on));
                events.AddEvent(noteOn, 0);
                events.AddEvent(noteOn.OffEvent ?? throw new InvalidOperationException("NAudio made a note-on without its note-off."), 0);
            }
        }

        // fluidsynth stops rendering at the end of the track: a last, harmless event keeps the final phrase's tail.
        var end = Ticks(phrases.Count * slotSeconds);
        events.AddEvent(new ControlChangeEvent(end, channel, MidiController.AllNotesOff, 0), 0);
        events.PrepareForExport();
        MidiFile.Export(path, events);
    }

    private static long Ticks(double seconds) => (long)Math.Round(seconds * TicksPerSecond);
}
