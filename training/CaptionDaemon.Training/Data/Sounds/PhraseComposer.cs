using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CaptionDaemon.Training.Data.Sounds;

/// <summary>One note of a phrase, in seconds from the phrase start; for a drum kit the key selects the drum.</summary>
internal readonly record struct PhraseNote(double Start, double Duration, int Key, int Velocity);

/// <summary>A short piece of music for one instrument; <see cref="Pattern"/> names what was written (scale, strum, groove...).</summary>
internal sealed record Phrase(string Pattern, IReadOnlyList<PhraseNote> Notes)
{
    /// <summary>Seconds from the phrase start to the end of its last note (the release tail comes after).</summary>
    public double Length => Notes.Max(n => n.Start + n.Duration);
}

/// <summary>
/// Writes short phrases for an instrument, deterministic from a seed: a key, a tempo, a loudness and a span of
/// 2 to 4.6 s drawn per phrase, and then one of the patterns the instrument's style allows (melodies, scales, single
/// notes, block chords, arpeggios, guitar strums with a few ms between strings, bass lines, drum grooves with fills,
/// timpani rolls, hand percussion).
/// </summary>
internal static class PhraseComposer
{
    public const double ShortestSpanSeconds = 2.0;
    public const double LongestSpanSeconds = 4.6;

    private static readonly int[] s_major = [0, 2, 4, 5, 7, 9, 11];
    private static readonly int[] s_minor = [0, 2, 3, 5, 7, 8, 10];

    // Scale degrees (0 = tonic) of common progressions.
    private static readonly int[][] s_progressions = [[0, 3, 4, 0], [0, 5, 3, 4], [0, 4, 5, 3], [0, 3], [0, 4], [5, 3, 0, 4], [1, 4, 0], [0, 0, 3, 4]];

    // Strum rhythms on an eighth-note grid: D down, U up, '.' rest.
    private static readonly string[] s_strums = ["D.DU.UDU", "D.D.D.D.", "D...D...", "D.DUD.DU", "DUDUDUDU", "D..UD.DU"];

    // Drum grooves on a sixteenth-note grid of one 4/4 bar: kick, snare, cymbal, and the cymbal's drum-map key.
    private static readonly (string Name, string Kick, string Snare, string Cymbal, int CymbalKey)[] s_grooves =
    [
        ("rock", "x.......x.x.....", "....x.......x...", "x.x.x.x.x.x.x.x.", 42),
        ("disco", "x...x...x...x...", "....x.......x...", "..x...x...x...x.", 46),
        ("funk", "x..x..x...x..x..", "....x..x.x..x...", "xxxxxxxxxxxxxxxx", 42),
        ("half-time", "x.........x.....", "........x.......", "x.x.x.x.x.x.x.x.", 42),
        ("ride", "x.........x.....", "......x.......x.", "x...x..xx...x..x", 51),
        ("pop", "x.....x.x.......", "....x.......x...", "x.x.x.x.x.x.x.x.", 42),
    ];

    private static readonly int[] s_toms = [50, 48, 47, 45, 43, 41];

    /// <summary>The seed of one phrase: stable across runs and machines (not string.GetHashCode, which is randomised per process).</summary>
    public static int PhraseSeed(int seed, string soundfont, string category, int index)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{seed}|{soundfont}|{category}|{index}");
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return BinaryPrimitives.ReadInt32LittleEndian(hash) & int.MaxValue;
    }

    public static Phrase Compose(Instrument instrument, int phraseSeed)
    {
        var writer = new PhraseWriter(instrument, new Random(phraseSeed));
        var (pattern, notes) = writer.Write();
        if (notes.Count == 0)
        {
            throw new InvalidOperationException($"No notes were written for {instrument.Category} (pattern {pattern}); its note range {instrument.LowNote}-{instrument.HighNote} is too narrow.");
        }

        return new Phrase(pattern, SeparateRepeatedKeys(notes));
    }

    /// <summary>A note of a key still sounding ends where the same key starts again, so no note-off cuts a later note.</summary>
    private static List<PhraseNote> SeparateRepeatedKeys(List<PhraseNote> notes)
    {
        var sorted = notes.OrderBy(n => n.Start).ThenBy(n => n.Key).ToList();
        for (var i = 0; i < sorted.Count; i++)
        {
            var note = sorted[i];
            var next = sorted.Skip(i + 1).FirstOrDefault(n => n.Key == note.Key && n.Start >= note.Start);
            if (next != default && note.Start + note.Duration > next.Start - 0.005)
            {
                sorted[i] = note with { Duration = Math.Max(0.02, next.Start - note.Start - 0.005) };
            }
        }

        return sorted;
    }

    private sealed class PhraseWriter
    {
        private readonly Instrument _instrument;
        private readonly Random _random;
        private readonly double _span;
        private readonly double _beat;
        private readonly int _root;
        private readonly int[] _scale;
        private readonly int _velocity;
        private readonly List<int> _keys;

        public PhraseWriter(Instrument instrument, Random random)
        {
            _instrument = instrument;
            _random = random;
            _span = Uniform(ShortestSpanSeconds, LongestSpanSeconds);
            var bpm = instrument.Style switch
            {
                PhraseStyle.Sustained => Uniform(50, 90),
                PhraseStyle.Drums or PhraseStyle.Percussion => Uniform(75, 150),
                _ => Uniform(65, 150),
            };
            _beat = 60 / bpm;
            _root = random.Next(12);
            _scale = random.NextDouble() < 0.4 ? s_minor : s_major;
            _velocity = random.Next(55, 116);
            _keys = Enumerable.Range(instrument.LowNote, instrument.HighNote - instrument.LowNote + 1)
                .Where(k => instrument.IsDrumKit || _scale.Contains(((k - _root) % 12 + 12) % 12))
                .ToList();
        }

        public (string Pattern, List<PhraseNote> Notes) Write()
        {
            var pattern = Pick(_instrument.Style switch
            {
                PhraseStyle.Melody => [("melody", 4), ("scale", 2), ("single", 1), ("arpeggio", 1)],
                PhraseStyle.Chords => [("chords", 3), ("arpeggio", 2), ("melody", 2), ("scale", 1), ("single", 1)],
                PhraseStyle.Strum => [("strum", 5), ("arpeggio", 2), ("melody", 1), ("single", 1)],
                PhraseStyle.Arpeggio => [("arpeggio", 4), ("chords", 2), ("melody", 2), ("scale", 1), ("single", 1)],
                PhraseStyle.Sustained => [("sustained", 4), ("slow-melody", 2), ("single", 1), ("chords", 1)],
                PhraseStyle.Bassline => [("bassline", 4), ("melody", 1), ("single", 1)],
                PhraseStyle.Drums => [("groove", 1)],
                PhraseStyle.Hits => [("hits", 3), ("roll", 2), ("two-tone", 2)],
                PhraseStyle.Percussion => [("percussion", 1)],
                _ => throw new InvalidOperationException($"Unknown phrase style {_instrument.Style}."),
            });
            var notes = pattern switch
            {
                "melody" => Melody([0.5, 0.5, 1, 1, 1, 1.5, 2]),
                "slow-melody" => Melody([1, 2, 2, 3]),
                "scale" => Scale(),
                "single" => Single(),
                "chords" => Chords(),
                "arpeggio" => Arpeggio(),
                "strum" => Strum(),
                "sustained" => Sustained(),
                "bassline" => Bassline(),
                "groove" => Groove(),
                "hits" => Hits(),
                "roll" => Roll(),
                "two-tone" => TwoTone(),
                _ => Percussion(),
            };
            return (pattern, notes);
        }

        private List<PhraseNote> Melody(double[] beats)
        {
            var notes = new List<PhraseNote>();
            var legato = Uniform(0.75, 1.0);
            var index = _random.Next(_keys.Count / 4, Math.Max(_keys.Count / 4 + 1, _keys.Count * 3 / 4));
            int[] steps = [-3, -2, -1, -1, 0, 1, 1, 2, 3];
            var t = 0.0;
            while (t < _span - 0.15)
            {
                var length = Math.Min(beats[_random.Next(beats.Length)] * _beat, _span - t);
                var last = t + length >= _span - 0.15;
                // Rests now and then, never first or last.
                if (notes.Count == 0 || last || _random.NextDouble() > 0.1)
                {
                    notes.Add(new PhraseNote(t, last ? _span - t : length * legato, _keys[index], Velocity()));
                }

                t += length;
                index = Reflect(index + steps[_random.Next(steps.Length)], _keys.Count);
            }

            return notes;
        }

        private List<PhraseNote> Scale()
        {
            var step = _beat * (_random.NextDouble() < 0.5 ? 0.5 : 1);
            var count = Math.Max(4, (int)(_span / step));
            step = _span / count;
            var up = _random.NextDouble() < 0.6;
            var start = up ? _random.Next(0, Math.Max(1, _keys.Count - count)) : _random.Next(Math.Min(count, _keys.Count - 1), _keys.Count);
            var notes = new List<PhraseNote>();
            for (var i = 0; i < count; i++)
            {
                var index = Reflect(start + (up ? i : -i), _keys.Count);
                var last = i == count - 1;
                notes.Add(new PhraseNote(i * step, last ? step : step * 0.95, _keys[index], Velocity(i % 4 == 0 ? 6 : 0)));
            }

            return notes;
        }

        /// <summary>One to three held notes, or a single held chord.</summary>
        private List<PhraseNote> Single()
        {
            var count = _random.Next(1, 4);
            var segment = _span / count;
            var notes = new List<PhraseNote>();
            var chord = _instrument.Style is PhraseStyle.Chords or PhraseStyle.Strum or PhraseStyle.Arpeggio && _random.NextDouble() < 0.4;
            for (var i = 0; i < count; i++)
            {
                var duration = i == count - 1 ? segment : segment * Uniform(0.7, 1.0);
                if (chord)
                {
                    notes.AddRange(ChordKeys(Degree(), ChordFloor(), 4).Select(k => new PhraseNote(i * segment, duration, k, Velocity())));
                }
                else
                {
                    notes.Add(new PhraseNote(i * segment, duration, _keys[_random.Next(_keys.Count / 5, Math.Max(_keys.Count / 5 + 1, _keys.Count * 4 / 5))], Velocity()));
                }
            }

            return notes;
        }

        private List<PhraseNote> Chords()
        {
            var progression = Progression();
            var segment = _span / progression.Length;
            var hitsPerChord = _random.Next(3) switch { 0 => 1, 1 => Math.Max(1, (int)Math.Round(segment / _beat)), _ => 2 };
            var size = _random.Next(3, 5);
            var floor = ChordFloor();
            var bass = _random.NextDouble() < 0.5;
            var notes = new List<PhraseNote>();
            for (var c = 0; c < progression.Length; c++)
            {
                var keys = ChordKeys(progression[c], floor, size);
                if (bass && keys.Count > 0 && keys[0] - 12 >= _instrument.LowNote)
                {
                    keys.Insert(0, keys[0] - 12);
                }

                var hit = segment / hitsPerChord;
                for (var h = 0; h < hitsPerChord; h++)
                {
                    var start = c * segment + h * hit;
                    var last = c == progression.Length - 1 && h == hitsPerChord - 1;
                    var velocity = Velocity(h == 0 ? 6 : -4);
                    notes.AddRange(keys.Select(k => new PhraseNote(start, last ? hit : hit * 0.92, k, Math.Clamp(velocity + _random.Next(-4, 5), 1, 127))));
                }
            }

            return notes;
        }

        private List<PhraseNote> Arpeggio()
        {
            var progression = Progression();
            var segment = _span / progression.Length;
            var step = Math.Max(0.09, _beat * (_random.NextDouble() < 0.5 ? 0.25 : 0.5));
            var shape = _random.Next(3);
            var floor = ChordFloor();
            var notes = new List<PhraseNote>();
            for (var c = 0; c < progression.Length; c++)
            {
                var tones = ChordKeys(progression[c], floor, _random.Next(4, 7));
                var order = shape switch
                {
                    0 => tones,
                    1 => Enumerable.Reverse(tones).ToList(),
                    _ => tones.Concat(Enumerable.Reverse(tones).Skip(1).Take(Math.Max(0, tones.Count - 2))).ToList(),
                };
                var end = (c + 1) * segment;
                var i = 0;
                for (var t = c * segment; t < end - 0.05 && order.Count > 0; t += step, i++)
                {
                    // Plucked and struck strings ring on until the chord changes.
                    notes.Add(new PhraseNote(t, Math.Min(end - t, 2.0), order[i % order.Count], Velocity(i % order.Count == 0 ? 8 : 0)));
                }
            }

            return notes;
        }

        private List<PhraseNote> Strum()
        {
            var progression = Progression();
            var segment = _span / progression.Length;
            var rhythm = s_strums[_random.Next(s_strums.Length)];
            var eighth = _beat / 2;
            var stagger = Uniform(0.008, 0.025);
            var floor = _instrument.LowNote + _random.Next(0, 8);
            var size = _random.Next(4, 7);
            var strums = new List<(double Time, bool Down, IReadOnlyList<int> Keys)>();
            for (var c = 0; c < progression.Length; c++)
            {
                var keys = ChordKeys(progression[c], floor, size);
                var slot = 0;
                for (var t = c * segment; t < (c + 1) * segment - 0.05; t += eighth, slot++)
                {
                    var mark = rhythm[slot % rhythm.Length];
                    if (mark != '.' && keys.Count > 0)
                    {
                        strums.Add((t, mark == 'D', keys));
                    }
                }
            }

            var notes = new List<PhraseNote>();
            for (var s = 0; s < strums.Count; s++)
            {
                var (time, down, keys) = strums[s];
                var until = s + 1 < strums.Count ? strums[s + 1].Time : _span;
                // A down strum hits every string low to high; an up strum the top three or four, high to low, softer.
                var strings = down ? keys : keys.Reverse().Take(Math.Min(keys.Count, _random.Next(3, 5))).ToList();
                var velocity = Velocity(down ? 6 : -12);
                for (var i = 0; i < strings.Count; i++)
                {
                    var start = time + i * stagger * Uniform(0.8, 1.2);
                    notes.Add(new PhraseNote(start, Math.Max(0.05, until - start), strings[i], Math.Clamp(velocity + _random.Next(-5, 6), 1, 127)));
                }
            }

            return notes;
        }

        private List<PhraseNote> Sustained()
        {
            var count = _random.Next(1, 4);
            var segment = _span / count;
            var chords = _random.NextDouble() < 0.6;
            var progression = Progression();
            var floor = ChordFloor();
            var notes = new List<PhraseNote>();
            for (var i = 0; i < count; i++)
            {
                var keys = chords
                    ? ChordKeys(progression[i % progression.Length], floor, _random.Next(3, 5))
                    : [_keys[_random.Next(_keys.Count / 5, Math.Max(_keys.Count / 5 + 1, _keys.Count * 4 / 5))]];
                var velocity = Velocity();
                notes.AddRange(keys.Select(k => new PhraseNote(i * segment, i == count - 1 ? segment : segment * 0.97, k, velocity)));
            }

            return notes;
        }

        private List<PhraseNote> Bassline()
        {
            var progression = Progression();
            var segment = _span / progression.Length;
            var step = _beat * (_random.NextDouble() < 0.7 ? 1 : 0.5);
            var figure = _random.Next(3);
            var detached = Uniform(0.6, 0.95);
            var notes = new List<PhraseNote>();
            for (var c = 0; c < progression.Length; c++)
            {
                var root = RootIndex(progression[c], _instrument.LowNote + _random.Next(0, 6));
                var i = 0;
                for (var t = c * segment; t < (c + 1) * segment - 0.05; t += step, i++)
                {
                    // Root repeated, root-fifth, or a walk up the scale from the root.
                    var index = figure switch
                    {
                        0 => root,
                        1 => i % 2 == 0 ? root : root + 4,
                        _ => root + i % 4,
                    };
                    var last = c == progression.Length - 1 && t + step >= _span - 0.05;
                    notes.Add(new PhraseNote(t, last ? _span - t : step * detached, _keys[Math.Clamp(index, 0, _keys.Count - 1)], Velocity(i % 4 == 0 ? 6 : 0)));
                }
            }

            return notes;
        }

        private List<PhraseNote> Groove()
        {
            var groove = s_grooves[_random.Next(s_grooves.Length)];
            var sixteenth = _beat / 4;
            var fill = _random.NextDouble() < 0.4;
            var crash = _random.NextDouble() < 0.5;
            var steps = (int)(_span / sixteenth);
            var fillFrom = steps - (_random.NextDouble() < 0.5 ? 4 : 8);
            var notes = new List<PhraseNote>();
            if (crash)
            {
                notes.Add(Drum(0, 49, Velocity(10)));
            }

            for (var s = 0; s < steps; s++)
            {
                var t = s * sixteenth;
                var bar = s % 16;
                if (fill && s >= fillFrom)
                {
                    var tom = s_toms[Math.Min(s_toms.Length - 1, (s - fillFrom) * s_toms.Length / Math.Max(1, steps - fillFrom))];
                    notes.Add(Drum(t, _random.NextDouble() < 0.25 ? 38 : tom, Velocity(4)));
                    continue;
                }

                if (groove.Kick[bar] == 'x')
                {
                    notes.Add(Drum(t, 36, Velocity(bar % 4 == 0 ? 8 : 0)));
                }

                if (groove.Snare[bar] == 'x')
                {
                    notes.Add(Drum(t, 38, Velocity(bar % 4 == 0 ? 6 : -6)));
                }

                if (groove.Cymbal[bar] == 'x' && !(crash && s == 0))
                {
                    notes.Add(Drum(t, groove.CymbalKey, Velocity(bar % 4 == 0 ? 0 : bar % 2 == 0 ? -10 : -20)));
                }
            }

            // The phrase ends on a hit, as a drummer would stop.
            notes.Add(Drum(steps * sixteenth, _random.NextDouble() < 0.5 ? 49 : 36, Velocity(10)));
            return notes.Where(n => n.Key >= _instrument.LowNote && n.Key <= _instrument.HighNote).ToList();
        }

        private List<PhraseNote> Hits()
        {
            var notes = new List<PhraseNote>();
            var t = 0.0;
            while (t < _span - 0.3)
            {
                var gap = Uniform(0.4, 1.4);
                // The last hit rings to the end of the span.
                gap = t + gap > _span - 0.3 ? _span - t : gap;
                notes.Add(new PhraseNote(t, gap, _keys[_random.Next(_keys.Count)], Velocity(_random.Next(-10, 11))));
                t += gap;
            }

            return notes;
        }

        private List<PhraseNote> Roll()
        {
            var key = _keys[_random.Next(_keys.Count)];
            var rate = Uniform(0.05, 0.09);
            var rollEnd = _span * Uniform(0.5, 0.85);
            var notes = new List<PhraseNote>();
            var from = _random.Next(25, 60);
            var to = _random.Next(90, 128);
            for (var t = 0.0; t < rollEnd; t += rate)
            {
                // A crescendo through the roll, then one accent.
                var velocity = (int)(from + (to - from) * t / rollEnd) + _random.Next(-6, 7);
                notes.Add(new PhraseNote(t, rate, key, Math.Clamp(velocity, 1, 127)));
            }

            notes.Add(new PhraseNote(rollEnd, _span - rollEnd, key, Math.Clamp(to + 5, 1, 127)));
            return notes;
        }

        private List<PhraseNote> TwoTone()
        {
            var low = _keys[_random.Next(Math.Max(1, _keys.Count / 2))];
            var high = _keys.FirstOrDefault(k => k >= low + 5, _keys[^1]);
            var step = _beat * (_random.NextDouble() < 0.5 ? 0.5 : 1);
            var notes = new List<PhraseNote>();
            var i = 0;
            for (var t = 0.0; t < _span - 0.1; t += step, i++)
            {
                if (i > 0 && _random.NextDouble() < 0.15)
                {
                    continue;
                }

                var last = t + step >= _span - 0.1;
                notes.Add(new PhraseNote(t, last ? _span - t : step, i % 2 == 0 ? low : high, Velocity(i % 4 == 0 ? 10 : 0)));
            }

            return notes;
        }

        /// <summary>A one-bar hand-drum pattern, repeated: downbeats likely, sixteenths less so.</summary>
        private List<PhraseNote> Percussion()
        {
            var sixteenth = _beat / 4;
            var template = new int?[16];
            for (var s = 0; s < 16; s++)
            {
                var chance = s % 4 == 0 ? 0.8 : s % 2 == 0 ? 0.55 : 0.3;
                template[s] = s == 0 || _random.NextDouble() < chance ? _keys[_random.Next(_keys.Count)] : null;
            }

            var notes = new List<PhraseNote>();
            var steps = (int)(_span / sixteenth);
            for (var s = 0; s < steps; s++)
            {
                if (template[s % 16] is { } key)
                {
                    notes.Add(Drum(s * sixteenth, key, Velocity(s % 4 == 0 ? 10 : -8)));
                }
            }

            notes.Add(Drum(steps * sixteenth, _keys[0], Velocity(8)));
            return notes;
        }

        private PhraseNote Drum(double start, int key, int velocity) => new(start, 0.2, key, velocity);

        /// <summary>Chord tones stacked in thirds from the degree's root at or above <paramref name="floor"/>, inside the range.</summary>
        private List<int> ChordKeys(int degree, int floor, int count)
        {
            var root = RootIndex(degree, floor);
            int[] offsets = [0, 2, 4, 7, 9, 11, 14];
            return offsets.Take(count).Select(o => root + o).Where(i => i < _keys.Count).Select(i => _keys[i]).ToList();
        }

        /// <summary>The index in the scale keys of the degree's root, the first at or above <paramref name="floor"/>.</summary>
        private int RootIndex(int degree, int floor)
        {
            var pitchClass = (_root + _scale[degree % 7]) % 12;
            var index = _keys.FindIndex(k => k >= floor && k % 12 == pitchClass);
            return index >= 0 ? index : Math.Max(0, _keys.FindIndex(k => k % 12 == pitchClass));
        }

        private int ChordFloor() => _instrument.LowNote + (int)((_instrument.HighNote - _instrument.LowNote) * Uniform(0.1, 0.4));

        private int[] Progression() => s_progressions[_random.Next(s_progressions.Length)];

        private int Degree() => _random.Next(7);

        private int Velocity(int accent = 0) => Math.Clamp(_velocity + accent + _random.Next(-8, 9), 1, 127);

        private double Uniform(double low, double high) => low + (high - low) * _random.NextDouble();

        private string Pick(IReadOnlyList<(string Name, int Weight)> choices)
        {
            var roll = _random.Next(choices.Sum(c => c.Weight));
            foreach (var (name, weight) in choices)
            {
                if (roll < weight)
                {
                    return name;
                }

                roll -= weight;
            }

            return choices[^1].Name;
        }

        /// <summary>Folds an index back into [0, count) at both ends, so walks and scales turn around at the range's edges.</summary>
        private static int Reflect(int index, int count)
        {
            if (count <= 1)
            {
                return 0;
            }

            var period = 2 * (count - 1);
            var i = ((index % period) + period) % period;
            return i < count ? i : period - i;
        }
    }
}
