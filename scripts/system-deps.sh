#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/debian-packages.txt that are not yet installed
# (a line "package:command" is skipped when that command is already on PATH).
# Runs as root, or through sudo when that is available; says what to do otherwise.
set -euo pipefail
cd "$(dirname "$0")"
mapfile -t wanted < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' debian-packages.txt)
missing=()
for entry in "${wanted[@]}"; do
    pkg=${entry%%:*}
    cmd=${entry#*:}
    # "package:command" — a command already on PATH (from another source, e.g. Node.js
    # from NodeSource with its own npm) is enough; Debian's package would conflict with it.
    if [ "$cmd" != "$entry" ] && command -v "$cmd" >/dev/null; then
        continue
    fi
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
    run=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    run=(sudo)
else
    echo "twinverse needs these Debian packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${run[@]}" apt-get update -qq || true
"${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
