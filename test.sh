#!/usr/bin/env bash
# The test command (README "Test"): installs the Debian packages the tests use when they are missing, then runs
#   dotnet test CaptionDaemon.sln [ARGS...]
# with ARGS passed on (e.g. ./test.sh --filter FullyQualifiedName~CheckConfig). .ci/run calls this same script.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
# The daemon's integration tests run Debian's mosquitto broker and mosquitto_sub (started by the tests, on free ports).
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_sub >/dev/null || need+=(mosquitto-clients)
# The trainer's charts (ScottPlot, headless) draw their text in DejaVu Sans; the chart tests require it.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
command -v python3 >/dev/null || need+=(python3)
# The caption wire-format tests check every sink's payloads against docs/caption.schema.json with Python's jsonschema,
# and the Home Assistant tests render the discovery templates with Jinja2, Home Assistant's template engine.
python3 -c 'import jsonschema' 2>/dev/null || need+=(python3-jsonschema)
python3 -c 'import jinja2' 2>/dev/null || need+=(python3-jinja2)
# The trainer's data music tests render phrases from the TimGM6mb soundfont (fetched by the tests) with fluidsynth.
command -v fluidsynth >/dev/null || need+=(fluidsynth)
# The unit file is checked with systemd-analyze.
command -v systemd-analyze >/dev/null || need+=(systemd)
# The live page is tested in Debian's headless chromium, driven through its DevTools protocol.
command -v chromium >/dev/null || need+=(chromium)

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
        as_root=(sudo)
    elif [ ${#need[@]} -gt 0 ] || ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
        echo "test.sh: the tests need Debian packages that only root can install: apt-get update && apt-get install ${need[*]:-}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
# The data tests fetch one real Debian package of recordings with `apt-get download`, which needs package lists.
if [ ${#need[@]} -gt 0 ] || ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    "${as_root[@]}" apt-get update -qq
fi
if [ ${#need[@]} -gt 0 ]; then
    echo "test.sh: installing ${need[*]}"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# The whole suite (no arguments) also covers the Gpu flavour (Microsoft.ML.OnnxRuntime.Gpu.Linux, into bin/gpu and
# obj/gpu): restore and build the daemon and run the execution-provider tests on it. Without CUDA, Auto must fall back
# with one line naming the missing library and Cuda must fail with it; with CUDA the same tests require the bundle to
# run on it. A filtered run (arguments given) skips it.
if [ $# -eq 0 ]; then
    dotnet build daemon/CaptionDaemon -p:OnnxRuntimeFlavor=Gpu
    dotnet test tests/CaptionDaemon.Inference.Tests -p:OnnxRuntimeFlavor=Gpu --filter "FullyQualifiedName~.Runtime.ExecutionProviderTests"
fi

exec dotnet test CaptionDaemon.sln "$@"
