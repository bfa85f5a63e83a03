using System.Text;
using System.Text.Json.Nodes;

namespace CaptionDaemon.Inference.Tests.Fixtures;

/// <summary>Edits the manifest.json of a bundle copy as JSON, for tests that break a bundle on purpose.</summary>
internal static class ManifestEdits
{
    public static void Edit(string bundle, Action<JsonObject> edit)
    {
        var path = Path.Combine(bundle, "manifest.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString(), Encoding.UTF8);
    }
}
