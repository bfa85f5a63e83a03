using System.Globalization;

namespace CaptionDaemon.Training.Data;

/// <summary>An AudioCaps split as found on disk: the clips with audio and the ones whose audio is missing.</summary>
/// <param name="Clips">One clip per (youtube_id, start_time), with every caption of that clip in CSV order.</param>
/// <param name="MissingAudio">Ids (<c>youtube_id_start</c>) of the clips listed in the CSV whose audio file was not found.</param>
internal sealed record AudioCapsScan(IReadOnlyList<CaptionedClip> Clips, IReadOnlyList<string> MissingAudio);

/// <summary>
/// The AudioCaps layout: a CSV with columns <c>audiocap_id,youtube_id,start_time,caption</c> (one row per caption) and a
/// folder of audio files. Rows with the same <c>youtube_id</c> and <c>start_time</c> are one clip with several captions
/// (the validation and test splits have five per clip).
/// <para>
/// The audio of a clip is looked up in the folder (not recursively), any extension of <see cref="AudioFiles.Extensions"/>,
/// by these names in order: <c>&lt;audiocap_id&gt;</c> (of any row of the clip), <c>&lt;youtube_id&gt;_&lt;start&gt;</c>
/// and AudioSet's <c>Y&lt;youtube_id&gt;_&lt;start&gt;.000_&lt;start+10&gt;.000</c> (start written as in the CSV, as an
/// integer, or with three decimals; with or without the leading <c>Y</c>), and <c>&lt;youtube_id&gt;</c> or
/// <c>Y&lt;youtube_id&gt;</c> when that video has only one clip in the CSV. These are the names the common AudioCaps
/// download scripts produce.
/// </para>
/// </summary>
internal static class AudioCapsDataset
{
    /// <summary>Loads the clips whose audio exists; clips without audio (deleted videos are normal in AudioCaps) are skipped.</summary>
    /// <exception cref="DatasetFormatException">The CSV is malformed, or not one clip has audio (a wrong folder, most likely).</exception>
    public static IReadOnlyList<CaptionedClip> Load(string csv, string audioDir, CancellationToken cancellationToken = default)
        => Scan(csv, audioDir, cancellationToken).Clips;

    /// <summary>Like <see cref="Load"/>, and also says which clips have no audio.</summary>
    public static AudioCapsScan Scan(string csv, string audioDir, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(csv);
        ArgumentException.ThrowIfNullOrEmpty(audioDir);
        var table = CsvTable.Load(csv, cancellationToken);
        var idColumn = table.Column("audiocap_id");
        var videoColumn = table.Column("youtube_id");
        var startColumn = table.Column("start_time");
        var captionColumn = table.Column("caption");

        var groups = new Dictionary<(string Video, string Start), ClipRows>();
        var order = new List<ClipRows>();
        foreach (var row in table.Rows)
        {
            var video = row.Fields[videoColumn].Trim();
            var start = row.Fields[startColumn].Trim();
            if (video.Length == 0 || start.Length == 0)
            {
                throw new DatasetFormatException($"{csv} line {row.Line}: empty youtube_id or start_time.");
            }

            if (!double.TryParse(start, NumberStyles.Float, CultureInfo.InvariantCulture, out var startSeconds) || startSeconds < 0)
            {
                throw new DatasetFormatException($"{csv} line {row.Line}: start_time '{start}' is not a number of seconds.");
            }

            var caption = row.Fields[captionColumn].Trim();
            if (caption.Length == 0)
            {
                throw new DatasetFormatException($"{csv} line {row.Line}: empty caption.");
            }

            if (!groups.TryGetValue((video, start), out var clip))
            {
                clip = new ClipRows(video, start, startSeconds);
                groups.Add((video, start), clip);
                order.Add(clip);
            }

            clip.AudioCapIds.Add(row.Fields[idColumn].Trim());
            clip.Captions.Add(caption);
        }

        var audioRoot = Path.GetFullPath(audioDir);
        if (!Directory.Exists(audioRoot))
        {
            throw new DatasetFormatException($"AudioCaps audio folder '{audioRoot}' does not exist.");
        }

        // One directory listing instead of a File.Exists per candidate name per clip (AudioCaps train has ~50k clips).
        var filesByStem = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(audioRoot).Where(AudioFiles.IsAudio).Order(StringComparer.Ordinal))
        {
            filesByStem.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        }

        var clipsPerVideo = order.GroupBy(c => c.Video).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var clips = new List<CaptionedClip>(order.Count);
        var missing = new List<string>();
        foreach (var clip in order)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var id = $"{clip.Video}_{clip.Start}";
            var audio = CandidateNames(clip, clipsPerVideo[clip.Video] == 1)
                .Select(name => filesByStem.GetValueOrDefault(name))
                .FirstOrDefault(path => path is not null);
            if (audio is null)
            {
                missing.Add(id);
            }
            else
            {
                clips.Add(new CaptionedClip(id, audio, clip.Captions));
            }
        }

        if (clips.Count == 0 && order.Count > 0)
        {
            var example = order[0];
            throw new DatasetFormatException(
                $"None of the {order.Count} clips of '{csv}' has audio in '{audioRoot}'; expected files named like "
                + $"'{example.AudioCapIds[0]}.wav', '{example.Video}_{example.Start}.wav' or 'Y{example.Video}_{example.StartSeconds:0.000}_{example.StartSeconds + 10:0.000}.wav'.");
        }

        return new AudioCapsScan(clips, missing);
    }

    private static IEnumerable<string> CandidateNames(ClipRows clip, bool onlyClipOfVideo)
    {
        foreach (var id in clip.AudioCapIds.Where(id => id.Length > 0))
        {
            yield return id;
        }

        var inv = CultureInfo.InvariantCulture;
        string[] starts =
        [
            clip.Start,
            Math.Round(clip.StartSeconds).ToString("0", inv),
            clip.StartSeconds.ToString("0.000", inv),
        ];
        var end = (clip.StartSeconds + 10).ToString("0.000", inv);
        foreach (var prefix in new[] { string.Empty, "Y" })
        {
            foreach (var start in starts.Distinct(StringComparer.Ordinal))
            {
                yield return $"{prefix}{clip.Video}_{start}";
            }

            yield return $"{prefix}{clip.Video}_{starts[2]}_{end}";
            if (onlyClipOfVideo)
            {
                yield return prefix + clip.Video;
            }
        }
    }

    private sealed class ClipRows(string video, string start, double startSeconds)
    {
        public string Video { get; } = video;

        public string Start { get; } = start;

        public double StartSeconds { get; } = startSeconds;

        public List<string> AudioCapIds { get; } = [];

        public List<string> Captions { get; } = [];
    }
}
