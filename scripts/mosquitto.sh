#!/usr/bin/env bash
# Starts a local Mosquitto for the live twin: 127.0.0.1 only, no anonymous access,
# users `ingest` (reads twinverse/# and spBv1.0/#) and `plant` (writes them), from
# passwords given in the environment. Config, password file and ACL go to $DIR.
#   INGEST_PASSWORD=… PLANT_PASSWORD=… scripts/mosquitto.sh [PORT] [DIR]
set -euo pipefail
port="${1:-1883}"
dir="${2:-.twinverse/mosquitto}"
: "${INGEST_PASSWORD:?set INGEST_PASSWORD}" "${PLANT_PASSWORD:?set PLANT_PASSWORD}"
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || {
    echo "mosquitto is not installed: run make (scripts/system-deps.sh)" >&2; exit 1; }
mkdir -p "$dir"
: > "$dir/passwd"
mosquitto_passwd -b "$dir/passwd" ingest "$INGEST_PASSWORD"
mosquitto_passwd -b "$dir/passwd" plant "$PLANT_PASSWORD"
cat > "$dir/acl" <<ACL
user ingest
topic read twinverse/#
topic read spBv1.0/#

user plant
topic write twinverse/#
topic write spBv1.0/#
ACL
sed -e "s#@PORT@#$port#" -e "s#@DIR@#$(cd "$dir" && pwd)#" \
    "$(dirname "$0")/mosquitto.conf.in" > "$dir/mosquitto.conf"
[ "$(id -u)" -eq 0 ] && echo "user root" >> "$dir/mosquitto.conf"
exec "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$dir/mosquitto.conf"
