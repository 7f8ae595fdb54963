#!/usr/bin/env bash
# Installs gearhear as a systemd service from a built checkout (npm run build, model exported):
#   /opt/gearhear                            the package, with production dependencies only
#   /etc/gearhear/config.json                from config.example.json, only if absent
#   /etc/gearhear/mqtt-password              empty, mode 0600, only if absent
#   /usr/local/bin/gearhear                  runs the CLI (gearhear doctor, gearhear config print)
#   /etc/systemd/system/gearhear.service     then daemon-reload, enable, (re)start
# Safe to run again: the package is replaced, config and password are kept.
#
# Usage: sudo deploy/systemd/install.sh [--prefix DIR] [--dry-run] [--no-start] [--from DIR]
#   --prefix DIR  install into DIR as if it were / (an OS image, a test); systemd is not asked to
#                 reload or start anything, the unit is enabled with `systemctl --root=DIR`
#   --dry-run     change nothing outside --prefix: commands that touch the running system
#                 (npm ci, systemctl) are printed, not run; with no --prefix nothing is written
#   --no-start    enable the service but do not start or restart it
#   --from DIR    the built checkout to install from (default: the one holding this script)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
prefix=/
dry_run=no
start=yes
min_node_major=20

die() { echo "install.sh: error: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --prefix) [[ -n "${2:-}" ]] || die "--prefix needs a folder"; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --dry-run) dry_run=yes; shift ;;
    --no-start) start=no; shift ;;
    --from) [[ -n "${2:-}" ]] || die "--from needs a folder"; repo="$(cd "$2" && pwd)"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[[ "$prefix" == /* ]] || prefix="$(pwd)/$prefix"
prefix="${prefix%/}"
root="${prefix:-/}"
app="$prefix/opt/gearhear"
etc="$prefix/etc/gearhear"
unit_dir="$prefix/etc/systemd/system"

# write_step: changes files under the prefix; printed only in a dry run onto the real root.
write_step() {
  if [[ "$dry_run" == yes && "$root" == / ]]; then echo "would run: $*"; else "$@"; fi
}
# system_step: touches the running system or the network; printed only in any dry run.
system_step() {
  if [[ "$dry_run" == yes ]]; then echo "would run: $*"; else "$@"; fi
}

# --- checks ------------------------------------------------------------------------------------
node_bin=/usr/bin/node   # ExecStart in gearhear.service
if [[ "$root" != / || ! -x "$node_bin" ]]; then
  [[ "$root" == / ]] && [[ "$dry_run" == no ]] && die "$node_bin is missing; gearhear.service runs it. Install Node.js $min_node_major+ (NodeSource or your distribution) so that it is there."
  node_bin="$(command -v node)" || die "node is not installed; install Node.js $min_node_major or newer."
fi
node_major="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
(( node_major >= min_node_major )) || die "$node_bin is Node.js $("$node_bin" --version); gearhear needs $min_node_major or newer (Debian 12 ships 18: use NodeSource's nodejs 20)."
command -v npm >/dev/null || die "npm is not installed; it comes with Node.js (NodeSource) or the 'npm' package."
command -v arecord >/dev/null || die "arecord is not installed; it reads the microphone: apt-get install alsa-utils"
getent group audio >/dev/null || say "warning: there is no 'audio' group; gearhear.service (SupplementaryGroups=audio) will not start without it."
if [[ "$root" == / && "$dry_run" == no && "$(id -u)" != 0 ]]; then
  die "installing into / needs root: sudo $0 (or try --dry-run, or --prefix DIR)"
fi
say "node $("$node_bin" --version) at $node_bin, arecord at $(command -v arecord)"

# --- the package -------------------------------------------------------------------------------
staging="$(mktemp -d -t gearhear-install.XXXXXX)"
trap 'rm -rf "$staging"' EXIT
"$here/../stage-production.sh" "$repo" "$staging/app"
system_step bash -c "cd '$staging/app' && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error"
system_step sh "$here/../trim-onnxruntime.sh" "$staging/app"
system_step sh "$here/../trim-speech-embedding.sh" "$staging/app"
guide="$here/../../docs/deploy-systemd.md"   # the unit's Documentation=
if [[ -f "$guide" ]]; then mkdir -p "$staging/app/docs" && cp "$guide" "$staging/app/docs/"; fi

write_step mkdir -p "$prefix/opt" "$etc" "$unit_dir"
write_step rm -rf "$app.new" "$app.old"
write_step cp -R "$staging/app" "$app.new"
write_step chmod -R u=rwX,go=rX "$app.new"
if [[ -e "$app" ]]; then write_step mv "$app" "$app.old"; fi
write_step mv "$app.new" "$app"
write_step rm -rf "$app.old"
say "package installed in $app"

# --- configuration (kept when present) ---------------------------------------------------------
if [[ -e "$etc/config.json" ]]; then
  say "kept $etc/config.json"
else
  write_step install -m 0644 "$here/config.example.json" "$etc/config.json"
  say "wrote $etc/config.json from config.example.json: set mqtt.url, device.id and audio.source"
fi
if [[ -e "$etc/mqtt-password" ]]; then
  say "kept $etc/mqtt-password"
else
  write_step install -m 0600 /dev/null "$etc/mqtt-password"
  say "created an empty $etc/mqtt-password (mode 0600): put the broker password there"
fi

# --- the command ------------------------------------------------------------------------------
printf '#!/bin/sh\n# gearhear CLI, installed by deploy/systemd/install.sh\nexec /usr/bin/node /opt/gearhear/dist/src/cli/main.js "$@"\n' >"$staging/gearhear"
write_step mkdir -p "$prefix/usr/local/bin"
write_step install -m 0755 "$staging/gearhear" "$prefix/usr/local/bin/gearhear"

# --- the unit ----------------------------------------------------------------------------------
write_step install -m 0644 "$here/gearhear.service" "$unit_dir/gearhear.service"
if [[ "$root" == / ]]; then
  system_step systemctl daemon-reload
  system_step systemctl enable gearhear.service
  if [[ "$start" == yes ]]; then
    system_step systemctl restart gearhear.service
    say "started: journalctl -u gearhear -f"
  fi
else
  system_step systemctl --root="$prefix" enable gearhear.service
fi
say "done"
