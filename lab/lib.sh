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

# kernel_facts NAME: what a kernel name stands for, in the KF_* variables.
# The names: make's KERNELS, lab/run --kernel (with arm64- for --arch
# arm64), lab/bench's and lab/setup's arguments, and the labels under
# $CACHE/kernels: 6.1 (bookworm), 6.12 and its rt and cloud flavours
# (trixie, Debian 13), bpo (the newest kernel of trixie-backports), sid or
# sid's major.minor (7.2), debug, sid-debug or <major.minor>-debug
# (lab/debug-kernel's build of sid's kernel), and for the arm64 guests
# arm64-6.1, arm64-6.12, arm64-bpo, arm64-sid or arm64-<sid major.minor>.
#   KF_ARCH      x86_64 or arm64; KF_DEB_ARCH: Debian's name, amd64 or arm64
#   KF_FLAVOUR   Debian's kernel flavour: amd64, rt-amd64, cloud-amd64, arm64
#   KF_BASE      6.1, 6.12, bpo, rt, cloud, or sid for all of sid's names
#   KF_SUITE     the suite its packages come from
#   KF_IMAGE_RE  ERE of the name of its image package, the -unsigned one
#                (lab/setup takes the signed one where there is none)
#   KF_CHROOT    the chroot whose compiler builds for it when the host's gcc
#                cannot: trixie's and trixie-backports' kernels (gcc-14) the
#                trixie chroot, any other the sid chroot
#   KF_SID       1: its label follows sid's kernel ($CACHE/sid-label,
#                $CACHE/sid-label-arm64)
#   KF_PINNED    1: the name asks for a major.minor of sid's (7.2, 7.2-debug,
#                arm64-7.2), which a newer sid leaves behind
#   KF_DEBUG     1: lab/debug-kernel's build (debug, *-debug)
#   KF_BOOT      0: built, never booted (cloud)
#   KF_INSTALL   the suite whose linux-image-amd64 it is, so that lab/install
#                builds a module for it (6.1 bookworm, 6.12 trixie); or empty
#   KF_SPARSE    1: lab/build's module builds run sparse for it (6.1 on the
#                host, 6.12 in the trixie chroot; the sid chroot has none)
#   KF_SETUP     lab/setup's arguments for it
#   KF_LABEL     the label its files live under in $CACHE/kernels; sid's as
#                the cache says now (ask again after lab/setup)
# Any other name: status 1, and the facts lab/setup has always given one,
# those of sid's kernel (arm64's for arm64-*), without KF_SETUP.
# shellcheck disable=SC2034 # the KF_* are for the scripts that source this file
kernel_facts() {
	local n=$1 v
	KF_ARCH=x86_64 KF_SID=0 KF_PINNED=0 KF_BOOT=1 KF_INSTALL="" KF_SPARSE=0
	case $n in
	6.1|6.12|bpo|rt|cloud) KF_BASE=$n KF_SETUP=$n KF_LABEL=$n ;;
	arm64-6.1|arm64-6.12|arm64-bpo) KF_ARCH=arm64 KF_BASE=${n#arm64-} KF_SETUP=$n KF_LABEL=$n ;;
	debug|sid-debug|[0-9]*.[0-9]*-debug)
		KF_BASE=sid KF_SID=1 KF_SETUP="sid debug" KF_LABEL="$(sid_label)-debug"
		case $n in [0-9]*) KF_PINNED=1 ;; esac ;;
	sid|[0-9]*.[0-9]*)
		KF_BASE=sid KF_SID=1 KF_SETUP=sid KF_LABEL=$(sid_label)
		[ "$n" = sid ] || KF_PINNED=1 ;;
	arm64-sid|arm64-[0-9]*.[0-9]*)
		KF_ARCH=arm64 KF_BASE=sid KF_SID=1 KF_SETUP="sid arm64-sid"
		KF_LABEL=$(cat "$CACHE/sid-label-arm64" 2>/dev/null || echo arm64-sid)
		[ "$n" = arm64-sid ] || KF_PINNED=1 ;;
	*)	case $n in arm64-*) kernel_facts arm64-sid ;; *) kernel_facts sid ;; esac
		KF_SETUP=""
		case $n in debug|*-debug) KF_DEBUG=1 ;; esac
		return 1 ;;
	esac
	case $n in debug|*-debug) KF_DEBUG=1 ;; *) KF_DEBUG=0 ;; esac
	case $KF_BASE in
	6.1)	KF_SUITE=bookworm v='6\.1\.0-[0-9]+' ;;
	6.12|rt|cloud) KF_SUITE=trixie v='6\.12\.[0-9]+\+[a-z0-9]+' ;;
	bpo)	KF_SUITE=trixie-backports v='[0-9]+\.[0-9]+\.[0-9]+\+[a-z0-9]+' ;;
	sid)	KF_SUITE=sid v='[0-9]+\.[0-9]+\.[0-9]+\+[a-z0-9]+' ;;
	esac
	KF_DEB_ARCH=amd64 KF_FLAVOUR=amd64
	[ "$KF_ARCH" = arm64 ] && KF_DEB_ARCH=arm64 KF_FLAVOUR=arm64
	case $KF_ARCH-$KF_BASE in x86_64-rt|x86_64-cloud) KF_FLAVOUR=$KF_BASE-amd64 ;; esac
	KF_IMAGE_RE="^linux-image-$v-$KF_FLAVOUR-unsigned\$"
	case $KF_SUITE in
	trixie|trixie-backports) KF_CHROOT="$CACHE/trixie-chroot" ;;
	*) KF_CHROOT="$CACHE/sid-chroot" ;;
	esac
	case $KF_ARCH-$KF_BASE in
	x86_64-6.1) KF_INSTALL=bookworm KF_SPARSE=1 ;;
	x86_64-6.12) KF_INSTALL=trixie KF_SPARSE=1 ;;
	x86_64-cloud) KF_BOOT=0 ;;
	esac
	return 0
}
KERNEL_NAMES_HELP="6.1, 6.12, bpo, rt, cloud, sid or sid's major.minor, debug; arm64-6.1, arm64-6.12, arm64-bpo, arm64-sid"

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

# chroot_apt_install CH [--update] PKG...: apt-get install of PKG (without
# Recommends) in the chroot CH, with this machine's apt date checks (a
# mirror snapshot may carry an expired Release file).  --update refreshes
# the chroot's lists first; without it they are refreshed only when the
# install fails with the lists the chroot has.
chroot_apt_install() {
	local ch=$1 update=0 o inst
	shift
	if [ "$1" = --update ]; then update=1; shift; fi
	# (no apt-config ends the script, whatever a caller makes of a failed
	# install: lab/setup rebuilds its sid chroot after one)
	o=$(apt-config dump 2>/dev/null | sed -n 's/^\(Acquire::Check-Valid-Until\|Acquire::Check-Date\) "\(.*\)";$/-o \1=\2/p' | tr '\n' ' ') || exit
	inst="DEBIAN_FRONTEND=noninteractive apt-get $o install -y -q --no-install-recommends $*"
	if [ $update = 1 ]; then
		chroot_run "$ch" sh -c "apt-get $o update -q && $inst"
	else
		chroot_run "$ch" sh -c "$inst || { apt-get $o update -q && $inst; }"
	fi
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
