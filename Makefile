# vfio-memattr top-level Makefile.
#   make check     host unit tests + guest test suites on Debian's 6.1
#                  (bookworm), 6.12 (trixie), bpo (trixie-backports' newest)
#                  and sid kernels in QEMU, x86-64 and arm64 guests, trixie's
#                  PREEMPT_RT kernel (rt), build checks for its cloud kernel
#                  (cloud) (KERNELS="6.1 arm64-6.12" selects; SPARSE=0
#                  skips the sparse pass of the 6.1 and 6.12 module builds;
#                  7.2-debug, the last default row: lab/debug-kernel's
#                  KASAN/lockdep/kmemleak build, docs/lab.md; 6.1 and 6.12
#                  come after the others: their guests boot the modules
#                  lab/install's real apt install built, in the background)
#   make demo      the end-to-end demo (lab/demo)
#   make setup     only prepare the lab (host packages, kernels, chroot)
#   make lint      checkpatch --strict and an arm64 W=1 cross build of the module
#                  (also part of make check; VFIO_MEMATTR_LINT=0 skips it there)
#   make hostcheck build tests/host/hostcheck into the lab cache
#   make deb       the Debian packages (debian/: vfio-memattr-dkms,
#                  libvfio-memattr2, libvfio-memattr-dev, vfio-memattr-tools)
#                  into $CACHE/build/deb/out, with lintian (lab/deb)
#   make bench     P1-P4 against stock vfio-pci on each kernel (lab/bench;
#                  DOC=1 writes the tables into docs/benchmarks.md)
# The lab cache is $VFIO_MEMATTR_CACHE, else $XDG_CACHE_HOME/vfio-memattr,
# else ~/.cache/vfio-memattr.  See docs/lab.md.

KERNELS ?= 7.2 bpo rt cloud 6.1 6.12 arm64-6.1 arm64-6.12 arm64-bpo arm64-7.2 7.2-debug
SPARSE ?= 1
export KERNELS
export VFIO_MEMATTR_SPARSE := $(SPARSE)

.PHONY: check demo setup hostcheck lint deb bench

check:
	@lab/check

demo:
	@lab/demo

setup:
	@lab/setup

lint:
	@lab/setup && lab/lint

hostcheck:
	@lab/build host

deb:
	@lab/setup >/dev/null && lab/deb build
bench:
	@lab/bench $(if $(filter 1,$(DOC)),--doc)
