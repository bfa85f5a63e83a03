#!/usr/bin/env bash
# Installs captiond as a systemd service (run as root, from a checkout of the repository). Safe to run again: it
# upgrades the daemon in place and never touches an existing configuration.
#
#   sudo systemd/install.sh                  publish for this machine, install, enable, check the configuration and
#                                            start it when it is valid
#   sudo systemd/install.sh --cpu | --gpu    ONNX Runtime for the CPU, or for CUDA (default: --gpu when nvidia-smi
#                                            finds a GPU, else --cpu)
#   sudo systemd/install.sh --no-start       install only; prints how to start
#   sudo systemd/install.sh --uninstall      stop and remove the service and /opt/captiond (keeps /etc/captiond
#                                            and /var/lib/captiond; add --purge to remove them too)
#
# What goes where (the unit file agrees):
#   <prefix>/ (default /opt/captiond)        `dotnet publish daemon/CaptionDaemon -r linux-x64|linux-arm64`: captiond,
#                                            plugins/<Name>/, models/default/; native libraries of this machine only
#   <prefix>/captiond.example.json           the example of this version, always refreshed; not read by the daemon
#   /etc/systemd/system/captiond.service     the unit (ExecStart=<prefix>/captiond run --config /etc/captiond/captiond.json)
#   /etc/captiond/captiond.json              only if absent: the demo (a bundled scene, the embedded broker and the
#                                            metrics on 127.0.0.1 only), to be edited; the daemon reads /etc/captiond/*.json
#   /etc/captiond/captiond.env               root-only environment file for secrets (CAPTIOND__...), only if absent
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
default_prefix=/opt/captiond

prefix=$default_prefix
destdir=
from=
start=yes
uninstall=no
purge=no
flavor=

usage() {
    cat <<USAGE
Usage: $(basename "$0") [options]
  --prefix DIR     install the daemon into DIR (default $default_prefix)
  --from DIR       install an already published daemon from DIR instead of running dotnet publish
  --gpu            publish with ONNX Runtime for CUDA (-p:OnnxRuntimeFlavor=Gpu); the default when nvidia-smi finds a GPU
  --cpu            publish with ONNX Runtime for the CPU (-p:OnnxRuntimeFlavor=Cpu); the default otherwise
  --no-start       do not enable or start the service; print how to
  --uninstall      stop, disable and remove the service and the daemon; keep configuration and state
  --purge          with --uninstall: remove /etc/captiond and /var/lib/captiond too
  --destdir DIR    stage every file under DIR (for packaging); never calls systemctl
  -h, --help       this text
USAGE
}

die() {
    echo "install.sh: $*" >&2
    exit 1
}

while [[ $# -gt 0 ]]; do
    case $1 in
        --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
        --prefix=*) prefix=${1#*=}; shift ;;
        --from) from=${2:?--from needs a directory}; shift 2 ;;
        --from=*) from=${1#*=}; shift ;;
        --destdir) destdir=${2:?--destdir needs a directory}; shift 2 ;;
        --destdir=*) destdir=${1#*=}; shift ;;
        --no-start) start=no; shift ;;
        --gpu) flavor=Gpu; shift ;;
        --cpu) flavor=Cpu; shift ;;
        --uninstall) uninstall=yes; shift ;;
        --purge) purge=yes; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

# The prefix is removed whole on --uninstall: refuse anything that is not a plain absolute folder of its own.
prefix=${prefix%/}
[[ $prefix == /* && $prefix != *..* && $prefix =~ ^/[^/]+/. ]] || die "--prefix must be an absolute path at least two levels deep, was '$prefix'"
[[ $purge == no || $uninstall == yes ]] || die "--purge goes with --uninstall"
if [[ -n $destdir ]]; then
    mkdir -p "$destdir"
    destdir=$(cd "$destdir" && pwd)
elif [[ $(id -u) -ne 0 ]]; then
    die "run as root (sudo $0 $*), or stage the files with --destdir"
fi

unit_dir=$destdir/etc/systemd/system
unit=$unit_dir/captiond.service
dropin_dir=$unit_dir/captiond.service.d
config_dir=$destdir/etc/captiond
install_dir=$destdir$prefix

# systemctl only for a real install on a machine that runs systemd (not in a container build, not when staging).
have_systemd() {
    [[ -z $destdir && -d /run/systemd/system ]]
}

if [[ $uninstall == yes ]]; then
    if have_systemd; then
        systemctl disable --now captiond.service 2>/dev/null || true
    fi
    rm -f "$unit"
    rm -rf "$dropin_dir"
    if [[ -d $install_dir ]]; then
        [[ -e $install_dir/captiond ]] || die "$install_dir has no captiond in it; not removing it"
        rm -rf "$install_dir"
    fi
    if [[ $purge == yes ]]; then
        rm -rf "$config_dir" "$destdir/var/lib/captiond" "$destdir/var/lib/private/captiond"
    fi
    if have_systemd; then
        systemctl daemon-reload
    fi
    echo "captiond removed."
    if [[ $purge == no ]]; then
        echo "Kept: /etc/captiond (configuration) and /var/lib/captiond (state); --uninstall --purge removes them."
    fi
    exit 0
fi

# 1. The daemon: publish for this machine's runtime only (the daemon's publish also publishes the first-party plugins
#    into plugins/<Name>/ and the shipped model into models/default/), or take a folder published elsewhere.
case $(uname -m) in
    x86_64 | amd64) rid=linux-x64 ;;
    aarch64 | arm64) rid=linux-arm64 ;;
    *) die "no .NET runtime identifier known for this machine ($(uname -m)); publish elsewhere and use --from" ;;
esac
if [[ -z $flavor ]]; then
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
        flavor=Gpu
        flavor_why="nvidia-smi found a GPU; --cpu to override"
    else
        flavor=Cpu
        flavor_why="no GPU found by nvidia-smi; --gpu to override"
    fi
else
    flavor_why="as asked"
fi
# ONNX Runtime's CUDA package is built for Linux x64 only.
if [[ $flavor == Gpu && $rid != linux-x64 ]]; then
    if [[ $flavor_why == "as asked" ]]; then
        die "--gpu: ONNX Runtime's GPU package is for linux-x64 only, this machine is $rid; use --cpu"
    fi
    flavor=Cpu
    flavor_why="nvidia-smi found a GPU, but ONNX Runtime's GPU package is for linux-x64 only"
fi
stage=
cleanup() {
    if [[ -n $stage ]]; then rm -rf "$stage"; fi
}
trap cleanup EXIT
if [[ -z $from ]]; then
    dotnet=${DOTNET:-$(command -v dotnet || true)}
    [[ -n $dotnet ]] || die "dotnet not found (under sudo, PATH may lack it: DOTNET=/path/to/dotnet sudo -E $0)"
    stage=$(mktemp -d)
    echo "Publishing the daemon (Release, $rid, ONNX Runtime for $flavor: $flavor_why) ..."
    "$dotnet" publish "$repo/daemon/CaptionDaemon" -c Release -r "$rid" --self-contained false \
        -p:OnnxRuntimeFlavor="$flavor" -o "$stage" --nologo
    from=$stage
else
    from=$(cd "$from" && pwd)
    if [[ $flavor_why == "as asked" ]]; then
        echo "note: --$(tr '[:upper:]' '[:lower:]' <<<"$flavor") chooses the ONNX Runtime package when publishing; $from is installed as it was published."
    fi
fi
[[ -x $from/captiond ]] || die "$from has no executable captiond: not a published daemon"

umask 022
mkdir -p "$install_dir"
# Folders that a version owns whole are replaced, so that a removed plugin file or model file does not linger;
# other files are replaced file by file. --remove-destination unlinks first: a running daemon keeps its old files
# until it restarts, instead of reading half-copied ones.
for owned in "$from"/plugins/* "$from"/models/* "$from"/runtimes; do
    [[ -d $owned ]] || continue
    rm -rf "${install_dir:?}/${owned#"$from"/}"
done
cp -R --remove-destination "$from/." "$install_dir/"
chmod 0755 "$install_dir/captiond"
# A folder published without -r (e.g. by --from) carries native libraries for every platform under runtimes/<rid>/:
# keep only what this machine can load.
pruned=0
while IFS= read -r -d '' native; do
    case ${native##*/} in
        "$rid" | linux | unix) ;;
        *) rm -rf "$native"; pruned=$((pruned + 1)) ;;
    esac
done < <(find "$install_dir" -type d -path '*/runtimes/*' -prune -print0)
# 2. The unit, pointed at the prefix.
mkdir -p "$unit_dir"
sed "s#$default_prefix#$prefix#g" "$here/captiond.service" >"$unit.tmp"
chmod 0644 "$unit.tmp"
mv -f "$unit.tmp" "$unit"

# A framework-dependent captiond finds .NET in the usual places by itself; elsewhere the unit must say where.
# ProtectHome=yes hides /home and /root from the service, so .NET must not live there.
rm -rf "$dropin_dir"
dotnet_host=$(command -v dotnet || true)
dotnet_root=
if [[ -n $dotnet_host ]]; then
    dotnet_root=$(dirname "$(readlink -f "$dotnet_host")")
fi
if [[ -n $dotnet_root && ! -e $from/libcoreclr.so ]]; then
    case $dotnet_root in
        /usr/share/dotnet | /usr/lib/dotnet) ;;
        /home/* | /root/*)
            echo "warning: .NET is installed in $dotnet_root, which ProtectHome=yes hides from the service;" >&2
            echo "         install .NET system-wide (e.g. /usr/share/dotnet) before starting captiond." >&2
            ;;
        *)
            mkdir -p "$dropin_dir"
            printf '[Service]\nEnvironment=DOTNET_ROOT=%s\n' "$dotnet_root" >"$dropin_dir/dotnet.conf"
            ;;
    esac
fi

# 3. Configuration. The example goes next to the daemon, where it is not read: the daemon reads every
#    /etc/captiond/*.json, so an example there would add its placeholder sources to every installation.
sed "s#$default_prefix#$prefix#g" "$here/captiond.example.json" >"$install_dir/captiond.example.json"
chmod 0644 "$install_dir/captiond.example.json"
mkdir -p "$config_dir"
if [[ -e $config_dir/captiond.example.json ]]; then
    rm -f "$config_dir/captiond.example.json"
    echo "Removed /etc/captiond/captiond.example.json (an earlier install put it there, where it was read as configuration)."
fi
if [[ ! -e $config_dir/captiond.json ]]; then
    install -m 0644 "$here/captiond.json" "$config_dir/captiond.json"
    config_note="Wrote /etc/captiond/captiond.json: the demo (a bundled scene, looping; the embedded MQTT broker and the metrics on 127.0.0.1 only)."
else
    config_note="Kept your /etc/captiond/captiond.json."
fi
if [[ ! -e $config_dir/captiond.env ]]; then
    cat >"$config_dir/captiond.env" <<'ENV'
# Environment for captiond, readable by root only: put secrets here rather than in captiond.json.
# Each variable overrides one setting, "__" between the levels, e.g.
# CAPTIOND__Sinks__mqtt__Url=mqtts://captiond:secret@broker.local:8883
ENV
    chmod 0600 "$config_dir/captiond.env"
fi
echo "$config_note"

# ffmpeg reads microphones, cameras and streams (the ffmpeg source type); the demo and WAV files do without it.
if command -v ffmpeg >/dev/null 2>&1; then
    ffmpeg_note="ffmpeg: $(command -v ffmpeg)"
else
    ffmpeg_note="ffmpeg: NOT FOUND. Sources of type ffmpeg (microphones, cameras, streams) need it: apt-get install ffmpeg"
    echo "warning: ffmpeg is not installed; sources of type ffmpeg (microphones, cameras, streams) need it: sudo apt-get install ffmpeg" >&2
fi

# The installed daemon checks the installed configuration with the code that runs it; only a valid one is started.
check_output=
if check_output=$(env ${dotnet_root:+DOTNET_ROOT="$dotnet_root"} CAPTIOND_CONFIG_DIR="$config_dir" \
    "$install_dir/captiond" check-config --config "$config_dir/captiond.json" 2>&1); then
    config_valid=yes
else
    config_valid=no
fi
echo "captiond check-config:"
sed 's/^/  /' <<<"$check_output"

# 4. systemd: enabled always (unless --no-start); started only with a valid configuration.
started=no
if have_systemd; then
    systemctl daemon-reload
    if [[ $start == yes ]]; then
        systemctl enable captiond.service
        if [[ $config_valid == yes ]]; then
            # Restart, so that an upgrade runs the new files.
            systemctl restart captiond.service
            started=yes
        else
            systemctl stop captiond.service 2>/dev/null || true
        fi
    elif [[ $config_valid == yes ]]; then
        systemctl try-restart captiond.service
    fi
elif [[ -z $destdir ]]; then
    echo "systemd is not running here: skipped daemon-reload, enable and start."
fi

echo
echo "Done:"
echo "  daemon:        $prefix ($rid; $(if [[ -n $stage ]]; then echo "ONNX Runtime for $flavor, $flavor_why"; else echo "from $from"; fi)$(if [[ $pruned -gt 0 ]]; then echo "; removed the native libraries of $pruned other platforms"; fi))"
echo "  unit:          /etc/systemd/system/captiond.service"
echo "  configuration: /etc/captiond/captiond.json ($(if [[ $config_valid == yes ]]; then echo valid; else echo "NOT VALID, see above"; fi))"
echo "  example:       $prefix/captiond.example.json (every source and sink type; not read by the daemon)"
echo "  $ffmpeg_note"
if [[ $started == yes ]]; then
    echo "  service:       enabled and started"
elif [[ $config_valid == no && $start == yes ]] && have_systemd; then
    echo "  service:       enabled, NOT started: fix /etc/captiond/captiond.json, then: systemctl restart captiond"
fi
echo
echo "Next:"
echo "  Edit /etc/captiond/captiond.json: your Sources and Sinks (copy from $prefix/captiond.example.json)."
echo "  Check it:                         $prefix/captiond check-config"
echo "  Apply it:                         systemctl restart captiond"
if [[ $started == no ]]; then
    echo "  Start it now and at every boot:   systemctl daemon-reload && systemctl enable --now captiond"
fi
echo "  Watch the captions:               mosquitto_sub -h 127.0.0.1 -t 'captiond/#' -v   (apt-get install mosquitto-clients)"
echo "  Follow its log:                   journalctl -u captiond -f"
echo "  State and health:                 systemctl status captiond; curl http://127.0.0.1:9464/healthz"
echo "  Remove it:                        $0 --uninstall"
