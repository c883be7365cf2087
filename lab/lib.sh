# shellcheck shell=bash
# Common helpers for the vfio-memattr lab scripts. Sourced, not executed.

# shellcheck disable=SC2034 # used by the scripts that source this file
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034
TOP_DIR=$(cd "$LAB_DIR/.." && pwd)
HOME=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
CACHE=${VFIO_MEMATTR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vfio-memattr}
# shellcheck disable=SC2034
SUITES="bookworm bookworm-backports sid"

log()  { printf '[lab] %s\n' "$*" >&2; }
die()  { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

# Debian mirror URI, read from the machine's own apt configuration at run time.
debian_uri() {
	local uri=""
	if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
		# deb822: first "URIs:" of a stanza whose Suites mention a plain
		# release (not -security).
		uri=$(awk '
			/^[[:space:]]*$/ { if (u != "" && s ~ /(^| )[a-z]+( |$)/ && s !~ /security/) { print u; exit } u=""; s=""; next }
			/^URIs:/ { u=$2 }
			/^Suites:/ { $1=""; s=$0 }
			END { if (u != "" && s !~ /security/) print u }' \
			/etc/apt/sources.list.d/*.sources | head -n1)
	fi
	if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
		uri=$(awk '$1=="deb" { for (i=2;i<=NF;i++) if ($i ~ /^(https?|file|ftp):/) { if ($(i+1) !~ /security/) { print $i; exit } } }' \
			/etc/apt/sources.list | head -n1)
	fi
	[ -n "$uri" ] || die "cannot find a Debian mirror URI in /etc/apt/sources.list{,.d}"
	printf '%s\n' "$uri"
}

# apt options for a private configuration of one suite.
apt_opts() {
	local suite=$1
	local d="$CACHE/apt/$suite"
	printf '%s\n' -o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" \
		-o "Dir::State::status=$d/status" -o APT::Get::List-Cleanup=0 \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root
}
sapt_get()   { local s=$1; shift; local -a o; mapfile -t o < <(apt_opts "$s"); apt-get -q "${o[@]}" "$@"; }
sapt_cache() { local s=$1; shift; local -a o; mapfile -t o < <(apt_opts "$s"); apt-cache "${o[@]}" "$@"; }

suite_of() { case $1 in 6.1) echo bookworm;; 6.12) echo bookworm-backports;; *) echo sid;; esac; }

# Per-kernel facts written by lab/setup: $CACHE/kernels/<label>/env
kernel_env() {
	local f="$CACHE/kernels/$1/env"
	[ -r "$f" ] || die "kernel $1 not set up (run lab/setup)"
	# shellcheck disable=SC1090
	. "$f"
}

sid_label() { cat "$CACHE/sid-label" 2>/dev/null || echo 7.2; }

# Run a command in a chroot with /proc mounted; unmount also on failure.
chroot_run() {
	local ch=$1; shift
	mount -t proc proc "$ch/proc"
	local rc=0
	( trap 'umount "$ch/proc" 2>/dev/null || umount -l "$ch/proc"' EXIT; chroot "$ch" "$@" ) || rc=$?
	return $rc
}

# Serialise cache writers (setup, builds, initramfs) between concurrent lab
# runs; held until the calling script exits.
lab_lock() {
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	if ! flock -n 9; then
		log "waiting for another lab process (lock $CACHE/.lock)"
		flock 9
	fi
}
