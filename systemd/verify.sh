#!/usr/bin/env bash
# Checks a captiond unit file with `systemd-analyze verify` (default: captiond.service beside this script).
#
# verify insists that ExecStart's program exists, and the daemon is not installed where this runs, so the check runs
# on a copy whose /opt/captiond/captiond points at an executable stand-in in a temporary folder. verify reports most
# mistakes (unknown keys, bad values) as warnings and still exits 0, so any output at all fails the check.
set -euo pipefail

unit=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/captiond.service"}

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "verify.sh: systemd-analyze not found; it comes with the Debian package 'systemd'" >&2
    exit 2
fi
if [[ ! -f "$unit" ]]; then
    echo "verify.sh: no unit file at $unit" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\nexit 0\n' >"$work/captiond"
chmod 0755 "$work/captiond"

# The copy keeps the unit's name: verify checks names and dependencies too.
copy="$work/$(basename "$unit")"
sed "s#/opt/captiond/captiond#$work/captiond#g" "$unit" >"$copy"
if ! grep -q "^ExecStart=$work/captiond" "$copy"; then
    echo "verify.sh: $unit has no ExecStart=/opt/captiond/captiond ..." >&2
    exit 1
fi

status=0
output=$(cd "$work" && systemd-analyze verify "$copy" 2>&1) || status=$?
if [[ $status -ne 0 || -n "$output" ]]; then
    printf '%s\n' "${output//$work\//}" >&2
    echo "verify.sh: $(basename "$unit") FAILED" >&2
    exit 1
fi
echo "verify.sh: $(basename "$unit") OK"
