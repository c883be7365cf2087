# shellcheck shell=bash
# Common helpers for the vfio-memattr lab scripts. Sourced, not executed.

# shellcheck disable=SC2034 # used by the scripts that source this file
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034
TOP_DIR=$(cd "$LAB_DIR/.." && pwd)
HOME=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
CACHE=${VFIO_MEMATTR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vfio-memattr}
# shellcheck disable=SC2034
# bookworm-backports: the arm64 headers lab/lint cross-builds against
SUITES="bookworm bookworm-backports trixie trixie-backports sid"

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

# The suite a kernel name (without arm64-) comes from: 6.1 bookworm; 6.12 and
# its rt and cloud flavours trixie (Debian 13); bpo the newest kernel of
# trixie-backports; anything else sid.
suite_of() {
	case $1 in
	6.1) echo bookworm ;;
	6.12|rt|cloud) echo trixie ;;
	bpo) echo trixie-backports ;;
	*) echo sid ;;
	esac
}

# Kernel names (make's KERNELS, lab/run --kernel with arm64- for --arch
# arm64, lab/bench): 6.1, 6.12, bpo, rt, cloud (build only), sid or sid's
# major.minor, debug (sid-debug, <major.minor>-debug), and arm64-6.1,
# arm64-6.12, arm64-bpo, arm64-sid (arm64-<sid major.minor>).
# kernel_setup_args NAME: what lab/setup needs for it (fails: unknown name).
kernel_setup_args() {
	case $1 in
	6.1|6.12|bpo|rt|cloud|arm64-6.1|arm64-6.12|arm64-bpo) echo "$1" ;;
	debug|sid-debug|[0-9]*.[0-9]*-debug) echo "sid debug" ;;
	sid|[0-9]*.[0-9]*) echo sid ;;
	arm64-sid|arm64-[0-9]*.[0-9]*) echo "sid arm64-sid" ;;
	*) return 1 ;;
	esac
}
# kernel_label NAME: the label its files live under in $CACHE (after lab/setup)
kernel_label() {
	case $1 in
	6.1|6.12|bpo|rt|cloud|arm64-6.1|arm64-6.12|arm64-bpo) echo "$1" ;;
	debug|sid-debug|[0-9]*.[0-9]*-debug) echo "$(sid_label)-debug" ;;
	sid|[0-9]*.[0-9]*) sid_label ;;
	arm64-sid|arm64-[0-9]*.[0-9]*) cat "$CACHE/sid-label-arm64" 2>/dev/null || echo arm64-sid ;;
	*) return 1 ;;
	esac
}
KERNEL_NAMES_HELP="6.1, 6.12, bpo, rt, cloud, sid or sid's major.minor, debug; arm64-6.1, arm64-6.12, arm64-bpo, arm64-sid"

# The chroot whose compiler builds for a kernel the host's gcc cannot:
# trixie's kernels (gcc-14) in a trixie chroot, sid's in the sid chroot.
chroot_of_suite() {
	case $1 in trixie|trixie-backports) echo "$CACHE/trixie-chroot" ;; *) echo "$CACHE/sid-chroot" ;; esac
}

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

# The x86 QEMU a guest runs on: sid's qemu-system-x86_64 (lab/setup installs
# qemu-system-x86 into the sid chroot), run from the chroot with its own
# dynamic loader, libraries, firmware and modules, so nothing of it touches
# the host; or, with VFIO_MEMATTR_QEMU=host, Debian bookworm's (7.2, the
# host's), whose TCG segfaulted (qemu-system-x86_64+0x769a7a) or froze in
# long runs and now and then let the guest die of an int3 in early boot
# (docs/lab.md).  Sets the array QEMU_X86 (program and options before the
# machine's own) and QEMU_X86_WHICH (host or sid).
qemu_x86_select() {
	local want=${VFIO_MEMATTR_QEMU:-sid}
	local ch="$CACHE/sid-chroot"
	case $want in
	host)
		QEMU_X86=(qemu-system-x86_64) ;;
	sid)
		[ -x "$ch/usr/bin/qemu-system-x86_64" ] ||
			die "no sid QEMU in $ch (lab/setup installs it; VFIO_MEMATTR_QEMU=host runs the host's)"
		QEMU_X86=("$ch/usr/lib64/ld-linux-x86-64.so.2"
			--library-path "$ch/usr/lib/x86_64-linux-gnu"
			--argv0 qemu-system-x86_64 "$ch/usr/bin/qemu-system-x86_64"
			-L "$ch/usr/share/qemu" -L "$ch/usr/share/seabios")
		export QEMU_MODULE_DIR="$ch/usr/lib/x86_64-linux-gnu/qemu" ;;
	*) die "VFIO_MEMATTR_QEMU: '$want' is neither host nor sid" ;;
	esac
	# shellcheck disable=SC2034 # used by the scripts that source this file
	QEMU_X86_WHICH=$want
}
