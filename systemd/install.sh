#!/usr/bin/env bash
# Installs captiond as a systemd service (run as root, from a checkout of the repository). Safe to run again: it
# upgrades the daemon in place and never touches an existing configuration.
#
#   sudo systemd/install.sh                  publish, install, enable and start
#   sudo systemd/install.sh --no-start       install only; prints how to start
#   sudo systemd/install.sh --uninstall      stop and remove the service and /opt/captiond (keeps /etc/captiond
#                                            and /var/lib/captiond; add --purge to remove them too)
#
# What goes where (the unit file agrees):
#   <prefix>/ (default /opt/captiond)        `dotnet publish daemon/CaptionDaemon`: captiond, plugins/<Name>/, models/default/
#   /etc/systemd/system/captiond.service     the unit (ExecStart=<prefix>/captiond run --config /etc/captiond/captiond.json)
#   /etc/captiond/captiond.json              from captiond.example.json, only if absent
#   /etc/captiond/captiond.example.json      the example of this version, always refreshed
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

usage() {
    cat <<USAGE
Usage: $(basename "$0") [options]
  --prefix DIR     install the daemon into DIR (default $default_prefix)
  --from DIR       install an already published daemon from DIR instead of running dotnet publish
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

# 1. The daemon: publish (the daemon's publish also publishes the first-party plugins into plugins/<Name>/ and the
#    shipped model into models/default/), or take a folder published elsewhere.
stage=
cleanup() {
    if [[ -n $stage ]]; then rm -rf "$stage"; fi
}
trap cleanup EXIT
if [[ -z $from ]]; then
    dotnet=${DOTNET:-$(command -v dotnet || true)}
    [[ -n $dotnet ]] || die "dotnet not found (under sudo, PATH may lack it: DOTNET=/path/to/dotnet sudo -E $0)"
    stage=$(mktemp -d)
    echo "Publishing the daemon (Release) ..."
    "$dotnet" publish "$repo/daemon/CaptionDaemon" -c Release -o "$stage" --nologo
    from=$stage
else
    from=$(cd "$from" && pwd)
fi
[[ -x $from/captiond ]] || die "$from has no executable captiond: not a published daemon"

umask 022
mkdir -p "$install_dir"
# Folders that a version owns whole are replaced, so that a removed plugin file or model file does not linger;
# other files are replaced file by file. --remove-destination unlinks first: a running daemon keeps its old files
# until it restarts, instead of reading half-copied ones.
for owned in "$from"/plugins/* "$from"/models/*; do
    [[ -d $owned ]] || continue
    rm -rf "${install_dir:?}/${owned#"$from"/}"
done
cp -R --remove-destination "$from/." "$install_dir/"
chmod 0755 "$install_dir/captiond"

# 2. The unit, pointed at the prefix.
mkdir -p "$unit_dir"
sed "s#$default_prefix#$prefix#g" "$here/captiond.service" >"$unit.tmp"
chmod 0644 "$unit.tmp"
mv -f "$unit.tmp" "$unit"

# A framework-dependent captiond finds .NET in the usual places by itself; elsewhere the unit must say where.
# ProtectHome=yes hides /home and /root from the service, so .NET must not live there.
rm -rf "$dropin_dir"
dotnet_host=$(command -v dotnet || true)
if [[ -n $dotnet_host && ! -e $from/libcoreclr.so ]]; then
    dotnet_root=$(dirname "$(readlink -f "$dotnet_host")")
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

# 3. Configuration: the example always, the configuration and the secrets file only when absent.
mkdir -p "$config_dir"
sed "s#$default_prefix#$prefix#g" "$here/captiond.example.json" >"$config_dir/captiond.example.json"
chmod 0644 "$config_dir/captiond.example.json"
if [[ ! -e $config_dir/captiond.json ]]; then
    install -m 0644 "$config_dir/captiond.example.json" "$config_dir/captiond.json"
    echo "Wrote /etc/captiond/captiond.json from the example: edit its Sources and Sinks."
else
    echo "Kept the existing /etc/captiond/captiond.json (the example of this version: /etc/captiond/captiond.example.json)."
fi
if [[ ! -e $config_dir/captiond.env ]]; then
    cat >"$config_dir/captiond.env" <<'ENV'
# Environment for captiond, readable by root only: put secrets here rather than in captiond.json.
# Each variable overrides one setting, "__" between the levels, e.g.
# CAPTIOND__Sinks__mqtt__Url=mqtts://captiond:secret@broker.local:8883
ENV
    chmod 0600 "$config_dir/captiond.env"
fi

# 4. systemd.
if have_systemd; then
    systemctl daemon-reload
    if [[ $start == yes ]]; then
        systemctl enable captiond.service
        # Restart, so that an upgrade runs the new files.
        systemctl restart captiond.service
    else
        systemctl try-restart captiond.service
    fi
elif [[ -z $destdir ]]; then
    echo "systemd is not running here: skipped daemon-reload, enable and start."
fi

echo
echo "captiond is installed in $prefix."
if [[ $start == no || -n $destdir ]] || ! have_systemd; then
    echo "Start it now and at every boot:   systemctl daemon-reload && systemctl enable --now captiond"
fi
echo "Follow its log:                   journalctl -u captiond -f"
echo "State and health:                 systemctl status captiond; curl http://127.0.0.1:9464/healthz"
echo "Remove it:                        $0 --uninstall"
