// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * nvme-cmb - a minimal userspace NVMe driver on libvfio-memattr that puts
 * its I/O submission queue in the controller memory buffer (CMB), mapped
 * write-combined.
 *
 *   1. open the VFIO device, enable memory space and bus mastering;
 *   2. map BAR0 (registers, doorbells) NC;
 *   3. find the CMB (CAP.CMBS, CMBMSC.CRE, CMBLOC, CMBSZ) and map its BAR
 *      range with the preferences WC, NC;
 *   4. reset and enable the controller with the admin queues in host
 *      memory (DMA mapped through the library), Identify;
 *   5. program CMBMSC (controller base address = the BAR's bus address),
 *      create an I/O CQ in host memory and an I/O SQ inside the CMB;
 *   6. write N 4 KiB blocks of the lib/vfio-memattr-pattern.h pattern, flush,
 *      read them back into host memory and verify;
 *   7. shut the controller down.
 * Commands go into the CMB SQ with vfio_memattr_wc_copy() (64-byte SQEs),
 * then vfio_memattr_wc_flush(), then the doorbell on the NC BAR0 mapping.
 * If the controller cannot hold SQs in its CMB, the SQ stays in host memory
 * and the write data buffers go to the CMB instead (PRPs into the CMB).
 *
 * Output: a human summary, or kselftest TAP with --tap; in both cases a
 * final "# HOSTCHECK nvme-disk OFFSET LENGTH SEED nvme-cmb" line lets the
 * host check the disk image (tests/host/hostcheck).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>
#include <linux/vfio_memattr.h>

#include "vfio-memattr.h"
#include "vfio-memattr-mmio.h"
#include "vfio-memattr-pattern.h"
#include "nvme.h"

#define PROG		"nvme-cmb"
#define BLOCK		4096u		/* bytes per I/O command */
#define PAGE		4096u
#define ADMIN_QSIZE	32u
#define IO_QSIZE	64u
#define IO_QID		1u
#define CMB_DATA_OFF	(64u * 1024u)	/* data buffers in CMB (no SQS) */
#define BAR0_MAP_MAX	(16u * 1024u)
#define CMD_TIMEOUT_MS	30000u		/* TCG is slow */
#define RDY_TIMEOUT_MIN_MS 10000u
#define PAT_LIST	"/sys/kernel/debug/x86/pat_memtype_list"

/* ------------------------------------------------------------------ TAP */

enum test_id {
	T_CMB_FOUND, T_BAR0_NC, T_CMB_WC, T_CMB_PAT, T_ENABLED, T_SQ_CMB,
	T_WRITES, T_VERIFY, T_NR
};

static const char *const test_desc[T_NR] = {
	[T_CMB_FOUND]	= "CMB found",
	[T_BAR0_NC]	= "BAR0 (registers, doorbells) mapped NC",
	[T_CMB_WC]	= "CMB mapped WC",
	[T_CMB_PAT]	= "PAT type write-combining for the CMB range",
	[T_ENABLED]	= "controller enabled",
	[T_SQ_CMB]	= "I/O SQ in CMB created",
	[T_WRITES]	= "writes completed",
	[T_VERIFY]	= "read-back verified",
};

static bool tap;
static int next_test;		/* next test to report */
static int nr_failed;

static void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void info(const char *fmt, ...)
{
	va_list ap;

	if (tap)
		fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* One clear error line (stderr; a TAP diagnostic with --tap). */
static void err_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err_line(const char *fmt, ...)
{
	va_list ap;
	FILE *f = tap ? stdout : stderr;

	fflush(stdout);
	fputs(tap ? "# " PROG ": " : PROG ": ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

/* Report test @t; tests before it that were not reported are skipped. */
static void result(enum test_id t, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void result(enum test_id t, bool ok, const char *fmt, ...)
{
	char note[256] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(note, sizeof(note), fmt, ap);
		va_end(ap);
	}
	while (next_test < (int)t) {
		if (tap)
			printf("ok %d - %s # SKIP not run\n", next_test + 1, test_desc[next_test]);
		next_test++;
	}
	if (!ok)
		nr_failed++;
	if (tap) {
		printf("%s %d - %s%s%s\n", ok ? "ok" : "not ok", (int)t + 1, test_desc[t],
		       note[0] ? " # " : "", note);
		fflush(stdout);
	}
	next_test = (int)t + 1;
}

static void skip(enum test_id t, const char *why)
{
	while (next_test < (int)t) {
		if (tap)
			printf("ok %d - %s # SKIP not run\n", next_test + 1, test_desc[next_test]);
		next_test++;
	}
	if (tap)
		printf("ok %d - %s # SKIP %s\n", (int)t + 1, test_desc[t], why);
	next_test = (int)t + 1;
}

/* After a fatal error: the rest cannot run. */
static void skip_rest(const char *why)
{
	while (next_test < T_NR) {
		if (tap)
			printf("ok %d - %s # SKIP %s\n", next_test + 1, test_desc[next_test], why);
		next_test++;
	}
}

/* ------------------------------------------------------------ helpers */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double ms_since(uint64_t t0)
{
	return (double)(now_ns() - t0) / 1e6;
}

static void pause_a_little(unsigned int *spins)
{
	if (++*spins > 1000) {
		struct timespec ts = { 0, 20000 };

		nanosleep(&ts, NULL);
	}
}

/* Physical start of BAR @bar from /sys/bus/pci/devices/<bdf>/resource. */
static int bar_phys(const char *bdf, unsigned int bar, uint64_t *start)
{
	char path[PATH_MAX], line[256];
	unsigned long long s, e, fl;
	unsigned int i;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	for (i = 0; fgets(line, sizeof(line), f); i++) {
		if (i == bar) {
			fclose(f);
			if (sscanf(line, "%llx %llx %llx", &s, &e, &fl) != 3 || !s)
				return -ENOENT;
			*start = s;
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

/* ------------------------------------------------------------------ PAT */

struct pat_entry {
	uint64_t start, end;	/* [start, end) */
	char type[32];
};

static struct pat_entry *pat;
static int pat_nr = -1;		/* -1: not read; -2: unreadable */
static char pat_why[128];

static void pat_load(void)
{
	char line[256], typ[32];
	unsigned long long s, e;
	int cap = 0;
	FILE *f;

	free(pat);
	pat = NULL;
	pat_nr = 0;
	f = fopen(PAT_LIST, "r");
	if (!f && errno == ENOENT && access("/sys/kernel/debug/x86", F_OK) != 0) {
		/* debugfs not mounted: mount it (root only; harmless otherwise) */
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
		f = fopen(PAT_LIST, "r");
	}
	if (!f) {
		snprintf(pat_why, sizeof(pat_why), "%s: %s", PAT_LIST, strerror(errno));
		pat_nr = -2;
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "[mem 0x");

		if (!p || sscanf(p, "[mem 0x%llx-0x%llx] %31s", &s, &e, typ) != 3)
			continue;
		if (pat_nr == cap) {
			struct pat_entry *n;

			cap = cap ? 2 * cap : 64;
			n = realloc(pat, (size_t)cap * sizeof(*pat));
			if (!n)
				break;
			pat = n;
		}
		pat[pat_nr].start = s;
		pat[pat_nr].end = e;
		snprintf(pat[pat_nr].type, sizeof(pat[pat_nr].type), "%s", typ);
		pat_nr++;
	}
	fclose(f);
}

/*
 * Print the PAT lines overlapping [start, start + len) and check that they
 * cover the whole range with type @want.  Returns 1 (all @want), 0 (some
 * other type or a hole), -1 (list unreadable).
 */
static int pat_check(const char *what, uint64_t start, uint64_t len, const char *want,
		     char *got, size_t gotlen)
{
	uint64_t end = start + len, a;
	bool all = true, any = false;
	int i;

	got[0] = 0;
	if (pat_nr < 0)
		pat_load();
	if (pat_nr < 0) {
		info("  PAT %s: %s", what, pat_why);
		snprintf(got, gotlen, "unknown");
		return -1;
	}
	for (i = 0; i < pat_nr; i++) {
		if (pat[i].end <= start || pat[i].start >= end)
			continue;
		info("  PAT %s: [mem 0x%016" PRIx64 "-0x%016" PRIx64 "] %s", what,
		     pat[i].start, pat[i].end, pat[i].type);
		if (strcmp(pat[i].type, want))
			all = false;
		if (!strstr(got, pat[i].type) && strlen(got) + strlen(pat[i].type) + 2 < gotlen) {
			if (got[0])
				strcat(got, ",");
			strcat(got, pat[i].type);
		}
		any = true;
	}
	if (!any) {
		info("  PAT %s: no entry covers 0x%" PRIx64 "-0x%" PRIx64 "%s", what, start, end,
		     strcmp(want, "uncached-minus") ? "" : " (x86 maps it uncached-minus)");
		snprintf(got, gotlen, "none");
		/* NC reserves nothing; a range without an entry is UC- on x86 */
		return strcmp(want, "uncached-minus") ? 0 : 1;
	}
	/* every page covered by some entry */
	for (a = start; a < end; a += PAGE) {
		bool cov = false;

		for (i = 0; i < pat_nr && !cov; i++)
			cov = pat[i].start <= a && pat[i].end >= a + PAGE;
		if (!cov) {
			info("  PAT %s: page 0x%" PRIx64 " not covered by any entry", what, a);
			return 0;
		}
	}
	return all ? 1 : 0;
}

/* --------------------------------------------------------------- queues */

struct sq {
	uint8_t *base;		/* host memory or the CMB WC mapping */
	uint64_t addr;		/* PRP address the controller uses */
	bool in_cmb;
	uint16_t qid, size, tail;
	volatile uint32_t *db;
};

struct cq {
	volatile struct nvme_cqe *base;
	uint64_t addr;
	uint16_t qid, size, head;
	uint16_t phase;
	volatile uint32_t *db;
};

struct ctrl {
	struct vfio_memattr_dev *dev;
	char bdf[32];
	volatile uint8_t *regs;
	uint64_t cap;
	uint32_t dstrd;
	uint32_t rdy_timeout_ms;
	/* host DMA memory */
	uint8_t *host;
	uint64_t host_iova, host_len;
	bool host_mapped;
	/* CMB */
	uint8_t *cmb;
	uint64_t cmb_addr;	/* controller address of the CMB start */
	uint64_t cmb_len;
	struct sq asq, iosq;
	struct cq acq, iocq;
	uint16_t next_cid;
	unsigned long admin_cmds, io_cmds;
	bool enabled;
};

static uint32_t reg_read32(struct ctrl *c, uint32_t off)
{
	return vfio_memattr_read32(c->regs + off);
}

static uint64_t reg_read64(struct ctrl *c, uint32_t off)
{
	return vfio_memattr_read64(c->regs + off);
}

static void reg_write32(struct ctrl *c, uint32_t off, uint32_t v)
{
	vfio_memattr_write32(c->regs + off, v);
}

/* 64-bit registers as two 32-bit writes, low then high (any controller). */
static void reg_write64_split(struct ctrl *c, uint32_t off, uint64_t v)
{
	vfio_memattr_write32(c->regs + off, (uint32_t)v);
	vfio_memattr_write32(c->regs + off + 4, (uint32_t)(v >> 32));
}

static volatile uint32_t *doorbell(struct ctrl *c, uint16_t qid, bool cq)
{
	uint32_t off = NVME_REG_DBS + (2u * qid + (cq ? 1u : 0u)) * (4u << c->dstrd);

	return (volatile uint32_t *)(c->regs + off);
}

static int sq_push(struct sq *q, const struct nvme_sqe *cmd)
{
	uint8_t *slot = q->base + (size_t)q->tail * sizeof(*cmd);

	if (q->in_cmb) {
		int rc = vfio_memattr_wc_copy(slot, cmd, sizeof(*cmd));

		if (rc)
			return rc;
	} else {
		memcpy(slot, cmd, sizeof(*cmd));
	}
	q->tail = (uint16_t)((q->tail + 1) % q->size);
	return 0;
}

static void sq_ring(struct sq *q)
{
	if (q->in_cmb)
		vfio_memattr_wc_flush();	/* WC SQE stores ordered before the doorbell */
	else
		vfio_memattr_dma_wmb();		/* SQEs in host memory before the doorbell */
	vfio_memattr_write32(q->db, q->tail);
}

/* Wait for the next completion on @q; 0, -ETIMEDOUT. */
static int cq_wait(struct cq *q, struct nvme_cqe *out, uint32_t timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	unsigned int spins = 0;

	for (;;) {
		volatile struct nvme_cqe *e = &q->base[q->head];
		uint16_t st = e->status;

		if ((st & 1) == q->phase) {
			vfio_memattr_dma_rmb();	/* the rest of the CQE after its phase bit */
			out->dw0 = e->dw0;
			out->dw1 = e->dw1;
			out->sqhd = e->sqhd;
			out->sqid = e->sqid;
			out->cid = e->cid;
			out->status = e->status;
			if (++q->head == q->size) {
				q->head = 0;
				q->phase ^= 1;
			}
			vfio_memattr_write32(q->db, q->head);
			return 0;
		}
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		pause_a_little(&spins);
	}
}

static const char *opname(bool admin, uint8_t opc)
{
	if (admin) {
		switch (opc) {
		case NVME_ADM_DELETE_SQ: return "Delete I/O SQ";
		case NVME_ADM_CREATE_SQ: return "Create I/O SQ";
		case NVME_ADM_DELETE_CQ: return "Delete I/O CQ";
		case NVME_ADM_CREATE_CQ: return "Create I/O CQ";
		case NVME_ADM_IDENTIFY: return "Identify";
		}
		return "admin command";
	}
	switch (opc) {
	case NVME_CMD_FLUSH: return "Flush";
	case NVME_CMD_WRITE: return "Write";
	case NVME_CMD_READ: return "Read";
	}
	return "I/O command";
}

/* Check a completion; prints one line and returns -EIO on error status. */
static int cqe_check(const struct nvme_cqe *e, bool admin, uint8_t opc)
{
	uint16_t sf = (uint16_t)(e->status >> 1);

	if (!sf)
		return 0;
	err_line("%s failed: status 0x%03x (SCT %u, SC 0x%02x)%s", opname(admin, opc),
		 sf & 0x7ff, NVME_STATUS_SCT(sf), NVME_STATUS_SC(sf),
		 (!admin || opc != NVME_ADM_CREATE_SQ) ? "" :
		 NVME_STATUS_SC(sf) == 0x0a ? " (invalid queue address)" : "");
	return -EIO;
}

/* Submit one admin command and wait for it. */
static int admin_cmd(struct ctrl *c, struct nvme_sqe *cmd, struct nvme_cqe *cqe)
{
	struct nvme_cqe tmp;
	int rc;

	if (!cqe)
		cqe = &tmp;
	cmd->cid = c->next_cid++;
	rc = sq_push(&c->asq, cmd);
	if (rc)
		return rc;
	sq_ring(&c->asq);
	c->admin_cmds++;
	rc = cq_wait(&c->acq, cqe, CMD_TIMEOUT_MS);
	if (rc) {
		err_line("%s: no completion within %u ms (CSTS 0x%08x)", opname(true, cmd->opc),
			 CMD_TIMEOUT_MS, reg_read32(c, NVME_REG_CSTS));
		return rc;
	}
	if (cqe->cid != cmd->cid) {
		err_line("%s: completion for command id %u, expected %u", opname(true, cmd->opc),
			 cqe->cid, cmd->cid);
		return -EIO;
	}
	return cqe_check(cqe, true, cmd->opc);
}

/* Wait until (CSTS & mask) == want, bounded. */
static int wait_csts(struct ctrl *c, uint32_t mask, uint32_t want, uint32_t timeout_ms,
		     uint32_t *last)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	unsigned int spins = 0;
	uint32_t v;

	for (;;) {
		v = reg_read32(c, NVME_REG_CSTS);
		if (last)
			*last = v;
		if (v == 0xffffffffu)
			return -ENODEV;
		if ((v & mask) == want)
			return 0;
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		pause_a_little(&spins);
	}
}

static int ctrl_disable(struct ctrl *c)
{
	uint32_t cc = reg_read32(c, NVME_REG_CC), csts;
	int rc;

	if (!(cc & NVME_CC_EN) && !(reg_read32(c, NVME_REG_CSTS) & NVME_CSTS_RDY))
		return 0;
	reg_write32(c, NVME_REG_CC, cc & ~NVME_CC_EN);
	rc = wait_csts(c, NVME_CSTS_RDY, 0, c->rdy_timeout_ms, &csts);
	if (rc)
		err_line("controller did not become disabled within %u ms (CSTS 0x%08x)",
			 c->rdy_timeout_ms, csts);
	return rc;
}

/* ----------------------------------------------------------- the program */

struct opts {
	const char *bdf;
	unsigned long blocks;
	uint64_t lba;
	uint64_t seed;
	bool seed_set;
	unsigned int batch;
	uint64_t iova;
	bool allow_nc, allow_sysfs, data_in_cmb;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [options] [BDF]\n"
"A minimal userspace NVMe driver on libvfio-memattr: I/O submission queue in\n"
"the controller memory buffer (CMB) mapped write-combined, N 4 KiB blocks\n"
"written, read back and verified.  The device must be bound to\n"
"vfio-pci-memattr (or vfio-pci: NC only).  ALL DATA IN THE BLOCKS IS LOST.\n"
"  BDF                 PCI address (default: $MEMATTR_NVME)\n"
"  -n, --blocks N      4 KiB blocks to write and read back (default 64)\n"
"  -l, --lba L         first LBA, in the namespace's LBA size (default 8)\n"
"  -s, --seed S        pattern seed (default: random)\n"
"  -b, --batch B       commands per doorbell write (default 16, max %u)\n"
"      --iova A        IOVA of the host DMA buffer (default 0x10000000)\n"
"      --allow-nc      go on when the CMB can only be mapped NC\n"
"      --allow-sysfs   allow the sysfs resourceN_wc fallback for WC\n"
"      --data-in-cmb   SQ in host memory, write data in the CMB (what is done\n"
"                      when the controller cannot hold SQs in its CMB)\n"
"      --tap           kselftest TAP output (exit 0 when nothing failed)\n"
"  -h, --help\n"
"Exit status: 0 success, 1 error, 2 usage, 4 (TAP) no device given.\n",
		IO_QSIZE - 1);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return (errno || end == s || *end || *s == '-') ? -1 : 0;
}

static const char *src_name(enum vfio_memattr_source s)
{
	return vfio_memattr_source_name(s);
}

/* Check the device is bound to a VFIO driver; one clear line if not. */
static int check_binding(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *drv;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (access(path, F_OK)) {
		err_line("%s: no such PCI device", bdf);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		err_line("%s is not bound to any driver; bind it to vfio-pci-memattr first "
			 "(vfio-memattr bind %s)", bdf, bdf);
		return -ENOENT;
	}
	link[n] = 0;
	drv = strrchr(link, '/');
	drv = drv ? drv + 1 : link;
	if (strncmp(drv, "vfio", 4)) {
		err_line("%s is bound to %s, not to a vfio driver; bind it to vfio-pci-memattr "
			 "first (vfio-memattr bind %s)", bdf, drv, bdf);
		return -ENOENT;
	}
	info("device   %s, driver %s", bdf, drv);
	return 0;
}

static void normalize_bdf(const char *in, char *out, size_t len)
{
	const char *colon = strchr(in, ':');

	if (colon && !strchr(colon + 1, ':'))
		snprintf(out, len, "0000:%s", in);	/* "00:04.0" */
	else
		snprintf(out, len, "%s", in);
}

static int run(const struct opts *o, uint64_t *hc_off, uint64_t *hc_len, bool *hc_ok)
{
	enum vfio_memattr nc_pref[] = { VFIO_MEMATTR_NC };
	enum vfio_memattr wc_pref[] = { VFIO_MEMATTR_WC, VFIO_MEMATTR_NC };
	struct vfio_memattr_mapping *bar0m = NULL, *cmbm = NULL;
	struct vfio_memattr_bar b0, bc;
	struct ctrl c;
	struct nvme_sqe cmd;
	struct nvme_cqe cqe;
	uint64_t bar0_len, cmb_unit, cmb_off, cmb_size, bar_phys0 = 0, bar_physc = 0;
	uint64_t t_start = now_ns(), t0, nsze, bytes = (uint64_t)o->blocks * BLOCK;
	uint32_t vs, cmbloc, cmbsz, cmb_bir, cc, csts, lbasz, lbas_per_block, classrev;
	uint16_t pcicmd, ids[2];
	uint8_t *id, *wdata_host, *rdata;
	uint64_t wdata_addr_base;
	bool sq_in_cmb, data_in_cmb = false;
	char got[128], model[41], serial[21], fw[9];
	enum vfio_memattr attr0, attrc;
	unsigned long i, done;
	int rc, ret = -1, pr;

	memset(&c, 0, sizeof(c));
	normalize_bdf(o->bdf, c.bdf, sizeof(c.bdf));

	/* 1. device */
	if (check_binding(c.bdf))
		return -1;
	rc = vfio_memattr_open(c.bdf, 0, &c.dev);
	if (rc) {
		err_line("%s: cannot open the VFIO device: %s%s", c.bdf, strerror(-rc),
			 rc == -EBUSY ? " (in use, or other devices of its IOMMU group are not "
			 "bound to vfio)" : "");
		return -1;
	}
	rc = vfio_memattr_region_read(c.dev, VFIO_PCI_CONFIG_REGION_INDEX, 0, ids, 4);
	if (!rc)
		rc = vfio_memattr_region_read(c.dev, VFIO_PCI_CONFIG_REGION_INDEX, 8, &classrev, 4);
	if (!rc && (classrev >> 8) != 0x010802) {
		err_line("%s (%04x:%04x) is not an NVMe controller (class 0x%06x, want 0x010802)",
			 c.bdf, ids[0], ids[1], classrev >> 8);
		goto out;
	}
	if (!rc)
		rc = vfio_memattr_region_read(c.dev, VFIO_PCI_CONFIG_REGION_INDEX, 4, &pcicmd, 2);
	if (!rc) {
		pcicmd |= 0x0002 | 0x0004 | 0x0400;	/* memory, bus master, INTx off */
		rc = vfio_memattr_region_write(c.dev, VFIO_PCI_CONFIG_REGION_INDEX, 4, &pcicmd, 2);
	}
	if (rc) {
		err_line("%s: config space access failed: %s", c.bdf, strerror(-rc));
		goto out;
	}
	info("pci      %04x:%04x, command 0x%04x (memory, bus master)", ids[0], ids[1], pcicmd);

	/* 2. BAR0 NC */
	rc = vfio_memattr_bar_info(c.dev, 0, &b0);
	if (rc || !b0.size) {
		err_line("%s: BAR0 unusable: %s", c.bdf, rc ? strerror(-rc) : "not implemented");
		result(T_CMB_FOUND, false, "BAR0 unusable");
		goto out;
	}
	bar0_len = b0.size < BAR0_MAP_MAX ? b0.size : BAR0_MAP_MAX;
	if (bar0_len < PAGE)
		bar0_len = PAGE;
	rc = vfio_memattr_map(c.dev, 0, 0, bar0_len, nc_pref, 1, 0, &bar0m);
	if (rc && bar0_len > 2 * PAGE) {
		/* registers + the doorbells of queues 0 and 1 fit in 8 KiB */
		info("BAR0     mapping %" PRIu64 " KiB failed (%s), trying 8 KiB",
		     bar0_len >> 10, strerror(-rc));
		bar0_len = 2 * PAGE;
		rc = vfio_memattr_map(c.dev, 0, 0, bar0_len, nc_pref, 1, 0, &bar0m);
	}
	if (rc) {
		err_line("%s: cannot map BAR0 NC: %s", c.bdf, strerror(-rc));
		result(T_CMB_FOUND, false, "BAR0 not mapped");
		goto out;
	}
	c.regs = vfio_memattr_mapping_addr(bar0m);
	attr0 = vfio_memattr_mapping_attr(bar0m);
	bar_phys(c.bdf, 0, &bar_phys0);

	c.cap = reg_read64(&c, NVME_REG_CAP);
	vs = reg_read32(&c, NVME_REG_VS);
	if (c.cap == ~0ull) {
		err_line("%s: BAR0 reads all ones: device not responding", c.bdf);
		result(T_CMB_FOUND, false, "device not responding");
		goto out;
	}
	c.dstrd = NVME_CAP_DSTRD(c.cap);
	c.rdy_timeout_ms = NVME_CAP_TO(c.cap) * 500u;
	if (c.rdy_timeout_ms < RDY_TIMEOUT_MIN_MS)
		c.rdy_timeout_ms = RDY_TIMEOUT_MIN_MS;
	info("nvme     CAP 0x%016" PRIx64 " (MQES %u, TO %u ms, DSTRD %u, CMBS %u), VS %u.%u.%u",
	     c.cap, NVME_CAP_MQES(c.cap) + 1, NVME_CAP_TO(c.cap) * 500u, c.dstrd,
	     NVME_CAP_CMBS(c.cap), vs >> 16, (vs >> 8) & 0xff, vs & 0xff);

	/* 3. CMB: with CAP.CMBS (NVMe 1.4) CMBLOC/CMBSZ read 0 until CMBMSC.CRE */
	cmbsz = reg_read32(&c, NVME_REG_CMBSZ);
	if (!cmbsz && NVME_CAP_CMBS(c.cap)) {
		reg_write32(&c, NVME_REG_CMBMSC, (uint32_t)NVME_CMBMSC_CRE);
		cmbsz = reg_read32(&c, NVME_REG_CMBSZ);
	}
	cmbloc = reg_read32(&c, NVME_REG_CMBLOC);
	if (!cmbsz) {
		err_line("%s: the controller has no CMB (CAP.CMBS %u, CMBSZ 0): start it with "
			 "-device nvme,...,cmb_size_mb=N", c.bdf, NVME_CAP_CMBS(c.cap));
		result(T_CMB_FOUND, false, "no CMB");
		goto out;
	}
	cmb_unit = 4096ull << (4 * NVME_CMBSZ_SZU(cmbsz));
	cmb_size = (uint64_t)NVME_CMBSZ_SZ(cmbsz) * cmb_unit;
	cmb_off = (uint64_t)NVME_CMBLOC_OFST(cmbloc) * cmb_unit;
	cmb_bir = NVME_CMBLOC_BIR(cmbloc);
	sq_in_cmb = (cmbsz & NVME_CMBSZ_SQS) && !o->data_in_cmb;
	info("cmb      CMBLOC 0x%08x CMBSZ 0x%08x: BAR%u offset 0x%" PRIx64 ", %" PRIu64
	     " MiB, SQS %u CQS %u LISTS %u RDS %u WDS %u%s", cmbloc, cmbsz, cmb_bir, cmb_off,
	     cmb_size >> 20, !!(cmbsz & NVME_CMBSZ_SQS), !!(cmbsz & NVME_CMBSZ_CQS),
	     !!(cmbsz & NVME_CMBSZ_LISTS), !!(cmbsz & NVME_CMBSZ_RDS), !!(cmbsz & NVME_CMBSZ_WDS),
	     NVME_CAP_CMBS(c.cap) ? " (NVMe 1.4 scheme: CMBMSC)" : " (legacy CMB)");
	if (cmb_bir > 5 || cmb_size == 0) {
		err_line("%s: CMB location invalid (BIR %u, size %" PRIu64 ")", c.bdf, cmb_bir,
			 cmb_size);
		result(T_CMB_FOUND, false, "CMB location invalid");
		goto out;
	}
	rc = vfio_memattr_bar_info(c.dev, cmb_bir, &bc);
	if (rc || bc.size < cmb_off + cmb_size) {
		err_line("%s: CMB BAR%u unusable: %s", c.bdf, cmb_bir,
			 rc ? strerror(-rc) : "smaller than the CMB");
		result(T_CMB_FOUND, false, "CMB BAR unusable");
		goto out;
	}
	bar_phys(c.bdf, cmb_bir, &bar_physc);
	result(T_CMB_FOUND, true, NULL);
	info("bar      BAR0 0x%" PRIx64 " %" PRIu64 " KiB; BAR%u 0x%" PRIx64 " %" PRIu64
	     " MiB%s%s, memattr kernel support %s (supported:%s%s%s)", bar_phys0, b0.size >> 10,
	     cmb_bir, bar_physc, bc.size >> 20,
	     (bc.flags & VFIO_MEMATTR_BAR_PREFETCH) ? " prefetchable" : "",
	     (bc.flags & VFIO_MEMATTR_BAR_MEM64) ? " 64-bit" : "",
	     bc.kernel_support ? "yes" : "no",
	     (bc.supported & (1u << VFIO_MEMATTR_NC)) ? " NC" : "",
	     (bc.supported & (1u << VFIO_MEMATTR_WC)) ? " WC" : "",
	     (bc.supported & (1u << VFIO_MEMATTR_DEV)) ? " DEV" : "");

	/* BAR0 mapping report (the PAT list is read once, after both mappings) */
	rc = vfio_memattr_map(c.dev, cmb_bir, cmb_off, cmb_size, wc_pref, 2,
			      o->allow_sysfs ? VFIO_MEMATTR_MAP_ALLOW_SYSFS : 0, &cmbm);
	info("mapping  BAR0 0x0+0x%" PRIx64 " (registers, doorbells): %s via %s at %p", bar0_len,
	     vfio_memattr_attr_name(attr0), src_name(vfio_memattr_mapping_source(bar0m)),
	     (void *)c.regs);
	pr = pat_check("BAR0", bar_phys0, bar0_len, "uncached-minus", got, sizeof(got));
	result(T_BAR0_NC, attr0 == VFIO_MEMATTR_NC && pr != 0, "%s via %s, PAT %s",
	       vfio_memattr_attr_name(attr0), src_name(vfio_memattr_mapping_source(bar0m)), got);

	if (rc) {
		err_line("%s: cannot map the CMB (BAR%u 0x%" PRIx64 "+0x%" PRIx64 ") WC or NC: %s",
			 c.bdf, cmb_bir, cmb_off, cmb_size, strerror(-rc));
		result(T_CMB_WC, false, "map failed: %s", strerror(-rc));
		goto out;
	}
	c.cmb = vfio_memattr_mapping_addr(cmbm);
	c.cmb_len = cmb_size;
	attrc = vfio_memattr_mapping_attr(cmbm);
	info("mapping  BAR%u 0x%" PRIx64 "+0x%" PRIx64 " (CMB), asked WC then NC: %s via %s at %p",
	     cmb_bir, cmb_off, cmb_size, vfio_memattr_attr_name(attrc),
	     src_name(vfio_memattr_mapping_source(cmbm)), (void *)c.cmb);
	result(T_CMB_WC, attrc == VFIO_MEMATTR_WC, "%s via %s", vfio_memattr_attr_name(attrc),
	       src_name(vfio_memattr_mapping_source(cmbm)));
	pr = pat_check("CMB ", bar_physc + cmb_off, cmb_size, "write-combining", got, sizeof(got));
	if (pr < 0)
		skip(T_CMB_PAT, "PAT list unreadable");
	else
		result(T_CMB_PAT, pr == 1, "PAT %s", got);
	if (attrc != VFIO_MEMATTR_WC) {
		if (!tap && !o->allow_nc) {
			err_line("%s: WC refused for the CMB (BAR%u): got %s via %s%s; "
				 "use --allow-nc to go on with NC", c.bdf, cmb_bir,
				 vfio_memattr_attr_name(attrc), src_name(vfio_memattr_mapping_source(cmbm)),
				 bc.kernel_support ? "" : " (device not bound to vfio-pci-memattr?)");
			goto out;
		}
		info("warning  the CMB is mapped %s, not WC: the SQEs are written uncached",
		     vfio_memattr_attr_name(attrc));
	} else if (pr == 0) {
		info("warning  the library reports WC but the PAT list does not say write-combining");
	}

	/* host DMA memory: admin SQ, admin CQ, identify, I/O CQ, I/O SQ (if not in CMB),
	 * write data, read data */
	c.host_len = 5ull * PAGE + 2 * bytes;
	c.host = mmap(NULL, c.host_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (c.host == MAP_FAILED) {
		c.host = NULL;
		err_line("cannot allocate %" PRIu64 " bytes of DMA memory: %s", c.host_len,
			 strerror(errno));
		goto out;
	}
	c.host_iova = o->iova;
	if (c.host_iova < bar_physc + cmb_off + cmb_size &&
	    bar_physc + cmb_off < c.host_iova + c.host_len) {
		err_line("IOVA range 0x%" PRIx64 "+0x%" PRIx64 " overlaps the CMB; choose another "
			 "--iova", c.host_iova, c.host_len);
		goto out;
	}
	rc = vfio_memattr_dma_map(c.dev, c.host, c.host_iova, c.host_len);
	if (rc) {
		err_line("DMA map of %" PRIu64 " bytes at IOVA 0x%" PRIx64 " failed: %s", c.host_len,
			 c.host_iova, strerror(-rc));
		goto out;
	}
	c.host_mapped = true;
	info("dma      %" PRIu64 " KiB host memory at IOVA 0x%" PRIx64, c.host_len >> 10,
	     c.host_iova);

	/* 4. reset, admin queues, enable */
	if (ctrl_disable(&c)) {
		result(T_ENABLED, false, "disable timed out");
		goto out;
	}
	c.asq = (struct sq){ .base = c.host, .addr = c.host_iova, .qid = 0,
			     .size = ADMIN_QSIZE, .db = doorbell(&c, 0, false) };
	c.acq = (struct cq){ .base = (void *)(c.host + PAGE), .addr = c.host_iova + PAGE,
			     .qid = 0, .size = ADMIN_QSIZE, .phase = 1, .db = doorbell(&c, 0, true) };
	id = c.host + 2 * PAGE;
	reg_write32(&c, NVME_REG_AQA, ((ADMIN_QSIZE - 1) << 16) | (ADMIN_QSIZE - 1));
	reg_write64_split(&c, NVME_REG_ASQ, c.asq.addr);
	reg_write64_split(&c, NVME_REG_ACQ, c.acq.addr);
	cc = NVME_CC_EN | NVME_CC_CSS_NVM | NVME_CC_MPS(0) |
	     NVME_CC_IOSQES(NVME_SQE_SIZE_LOG2) | NVME_CC_IOCQES(NVME_CQE_SIZE_LOG2);
	t0 = now_ns();
	reg_write32(&c, NVME_REG_CC, cc);
	rc = wait_csts(&c, NVME_CSTS_RDY | NVME_CSTS_CFS, NVME_CSTS_RDY, c.rdy_timeout_ms, &csts);
	if (rc) {
		err_line("controller not ready within %u ms (CSTS 0x%08x)", c.rdy_timeout_ms, csts);
		result(T_ENABLED, false, "CSTS 0x%08x", csts);
		goto out;
	}
	c.enabled = true;
	reg_write32(&c, NVME_REG_INTMS, 0xffffffffu);	/* we poll */

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_IDENTIFY;
	cmd.prp1 = c.host_iova + 2 * PAGE;
	cmd.cdw10 = NVME_ID_CNS_CTRL;
	if (admin_cmd(&c, &cmd, NULL)) {
		result(T_ENABLED, false, "Identify failed");
		goto out;
	}
	memcpy(serial, id + 4, 20); serial[20] = 0;
	memcpy(model, id + 24, 40); model[40] = 0;
	memcpy(fw, id + 64, 8); fw[8] = 0;
	for (i = 40; i > 0 && model[i - 1] == ' '; i--)
		model[i - 1] = 0;
	for (i = 20; i > 0 && serial[i - 1] == ' '; i--)
		serial[i - 1] = 0;
	for (i = 8; i > 0 && fw[i - 1] == ' '; i--)
		fw[i - 1] = 0;
	info("identify \"%s\" serial \"%s\" firmware \"%s\", MDTS %u, ready in %.1f ms", model,
	     serial, fw, id[77], ms_since(t0));

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_IDENTIFY;
	cmd.nsid = 1;
	cmd.prp1 = c.host_iova + 2 * PAGE;
	cmd.cdw10 = NVME_ID_CNS_NS;
	if (admin_cmd(&c, &cmd, NULL)) {
		result(T_ENABLED, false, "Identify namespace 1 failed");
		goto out;
	}
	memcpy(&nsze, id, 8);
	{
		unsigned int fmt = id[26] & 0xf;

		lbasz = 1u << id[128 + 4 * fmt + 2];
	}
	if (!nsze || lbasz < 512 || lbasz > BLOCK) {
		err_line("namespace 1 unusable (size %" PRIu64 " LBAs, LBA size %u)", nsze, lbasz);
		result(T_ENABLED, false, "namespace 1 unusable");
		goto out;
	}
	lbas_per_block = BLOCK / lbasz;
	info("ns 1     %" PRIu64 " LBAs of %u bytes (%" PRIu64 " MiB)", nsze, lbasz,
	     (nsze * lbasz) >> 20);
	if (o->lba + (uint64_t)o->blocks * lbas_per_block > nsze) {
		err_line("LBAs %" PRIu64 "..%" PRIu64 " are past the end of namespace 1 (%" PRIu64
			 " LBAs)", o->lba, o->lba + (uint64_t)o->blocks * lbas_per_block - 1, nsze);
		result(T_ENABLED, false, "range past the namespace");
		goto out;
	}
	result(T_ENABLED, true, "ready in %.1f ms", ms_since(t0));

	/* 5. CMB controller address, I/O queues */
	if (NVME_CAP_CMBS(c.cap)) {
		/* NVMe 1.4: the host picks the controller base address; use the BAR's
		 * bus address.  High dword first (older QEMU takes CBA from the low
		 * dword write alone), then the whole register. */
		uint64_t cba = (bar_physc + cmb_off) & NVME_CMBMSC_CBA_MASK;
		uint64_t msc = cba | NVME_CMBMSC_CMSE | NVME_CMBMSC_CRE, rb;
		uint32_t sts;

		if (!bar_physc) {
			err_line("cannot read the bus address of BAR%u from sysfs", cmb_bir);
			result(T_SQ_CMB, false, "no BAR address");
			goto out;
		}
		reg_write32(&c, NVME_REG_CMBMSC + 4, (uint32_t)(msc >> 32));
		vfio_memattr_write64(c.regs + NVME_REG_CMBMSC, msc);
		rb = reg_read64(&c, NVME_REG_CMBMSC);
		sts = reg_read32(&c, NVME_REG_CMBSTS);
		info("cmbmsc   wrote 0x%016" PRIx64 " (CBA 0x%" PRIx64 ", CMSE, CRE), read 0x%016"
		     PRIx64 ", CMBSTS 0x%x", msc, cba, rb, sts);
		if (sts & NVME_CMBSTS_CBAI) {
			err_line("controller refused CMB base address 0x%" PRIx64 " (CMBSTS.CBAI)", cba);
			result(T_SQ_CMB, false, "CBAI");
			goto out;
		}
		c.cmb_addr = cba;
	} else {
		c.cmb_addr = bar_physc + cmb_off;	/* legacy: the BAR's bus address */
		info("cmb      legacy CMB: controller address = BAR%u bus address 0x%" PRIx64,
		     cmb_bir, c.cmb_addr);
	}

	c.iocq = (struct cq){ .base = (void *)(c.host + 3 * PAGE), .addr = c.host_iova + 3 * PAGE,
			      .qid = IO_QID, .size = IO_QSIZE, .phase = 1,
			      .db = doorbell(&c, IO_QID, true) };
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_CREATE_CQ;
	cmd.prp1 = c.iocq.addr;
	cmd.cdw10 = ((uint32_t)(IO_QSIZE - 1) << 16) | IO_QID;
	cmd.cdw11 = NVME_QUEUE_PHYS_CONTIG;	/* no interrupts: we poll */
	if (admin_cmd(&c, &cmd, NULL)) {
		result(T_SQ_CMB, false, "Create I/O CQ failed");
		goto out;
	}
	if (IO_QSIZE > NVME_CAP_MQES(c.cap) + 1) {
		err_line("controller queues hold at most %u entries", NVME_CAP_MQES(c.cap) + 1);
		result(T_SQ_CMB, false, "MQES too small");
		goto out;
	}
	if (sq_in_cmb) {
		c.iosq = (struct sq){ .base = c.cmb, .addr = c.cmb_addr, .in_cmb = true,
				      .qid = IO_QID, .size = IO_QSIZE,
				      .db = doorbell(&c, IO_QID, false) };
	} else {
		c.iosq = (struct sq){ .base = c.host + 4 * PAGE, .addr = c.host_iova + 4 * PAGE,
				      .qid = IO_QID, .size = IO_QSIZE,
				      .db = doorbell(&c, IO_QID, false) };
		if (!(cmbsz & NVME_CMBSZ_WDS) || CMB_DATA_OFF + bytes > cmb_size) {
			err_line("the controller supports neither SQs nor write data in its CMB "
				 "(or the CMB is too small)");
			result(T_SQ_CMB, false, "no SQS, no WDS");
			goto out;
		}
		data_in_cmb = true;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_CREATE_SQ;
	cmd.prp1 = c.iosq.addr;
	cmd.cdw10 = ((uint32_t)(IO_QSIZE - 1) << 16) | IO_QID;
	cmd.cdw11 = ((uint32_t)IO_QID << 16) | NVME_QUEUE_PHYS_CONTIG;
	if (admin_cmd(&c, &cmd, NULL)) {
		result(T_SQ_CMB, false, "Create I/O SQ failed");
		goto out;
	}
	if (sq_in_cmb) {
		info("queues   I/O CQ %u x 16 B at IOVA 0x%" PRIx64 "; I/O SQ %u x 64 B in the CMB "
		     "at controller address 0x%" PRIx64 " (%s)", IO_QSIZE, c.iocq.addr, IO_QSIZE,
		     c.iosq.addr, vfio_memattr_attr_name(attrc));
		result(T_SQ_CMB, true, NULL);
	} else {
		info("queues   %s: I/O SQ in host memory at IOVA 0x%" PRIx64 ", WRITE DATA BUFFERS "
		     "IN THE CMB instead (controller address 0x%" PRIx64 ", %s)",
		     o->data_in_cmb ? "--data-in-cmb" :
		     "the controller cannot hold SQs in its CMB (CMBSZ.SQS 0)",
		     c.iosq.addr, c.cmb_addr + CMB_DATA_OFF, vfio_memattr_attr_name(attrc));
		skip(T_SQ_CMB, o->data_in_cmb ? "--data-in-cmb: write data buffers in the CMB instead" :
		     "CMBSZ.SQS is 0: write data buffers in the CMB instead");
	}

	/* 6. data */
	wdata_host = c.host + 5 * PAGE;
	rdata = wdata_host + bytes;
	if (data_in_cmb) {
		uint64_t *tmp = malloc(BLOCK);

		if (!tmp) {
			err_line("out of memory");
			goto out;
		}
		for (i = 0; i < o->blocks; i++) {
			uint64_t k;

			for (k = 0; k < BLOCK / 8; k++)
				tmp[k] = pattern_word(o->seed, i * (BLOCK / 8) + k);
			vfio_memattr_wc_start();
			vfio_memattr_wc_copy(c.cmb + CMB_DATA_OFF + i * BLOCK, tmp, BLOCK);
		}
		vfio_memattr_wc_flush();
		free(tmp);
		wdata_addr_base = c.cmb_addr + CMB_DATA_OFF;
	} else {
		pattern_fill(wdata_host, bytes, o->seed);
		wdata_addr_base = c.host_iova + 5 * PAGE;
	}
	memset(rdata, 0, bytes);
	info("pattern  seed 0x%016" PRIx64 ", %lu x %u B = %" PRIu64 " bytes, LBA %" PRIu64
	     "..%" PRIu64 " (byte offset %" PRIu64 "), %u commands per doorbell", o->seed,
	     o->blocks, BLOCK, bytes, o->lba, o->lba + (uint64_t)o->blocks * lbas_per_block - 1,
	     o->lba * lbasz, o->batch);
	*hc_off = o->lba * lbasz;
	*hc_len = bytes;

	for (int pass = 0; pass < 2; pass++) {
		uint8_t opc = pass ? NVME_CMD_READ : NVME_CMD_WRITE;
		uint64_t tp = now_ns();

		for (done = 0; done < o->blocks; ) {
			unsigned long n = o->blocks - done, j;

			if (n > o->batch)
				n = o->batch;
			vfio_memattr_wc_start();	/* data stores before the SQEs */
			for (j = 0; j < n; j++) {
				unsigned long b = done + j;

				memset(&cmd, 0, sizeof(cmd));
				cmd.opc = opc;
				cmd.cid = (uint16_t)(b & 0xffff);
				cmd.nsid = 1;
				cmd.prp1 = pass ? c.host_iova + 5 * PAGE + bytes + b * BLOCK :
					   wdata_addr_base + b * BLOCK;
				cmd.cdw10 = (uint32_t)(o->lba + b * lbas_per_block);
				cmd.cdw11 = (uint32_t)((o->lba + b * lbas_per_block) >> 32);
				cmd.cdw12 = lbas_per_block - 1;
				rc = sq_push(&c.iosq, &cmd);
				if (rc) {
					err_line("SQE copy failed: %s", strerror(-rc));
					goto io_fail;
				}
			}
			sq_ring(&c.iosq);
			c.io_cmds += n;
			for (j = 0; j < n; j++) {
				rc = cq_wait(&c.iocq, &cqe, CMD_TIMEOUT_MS);
				if (rc) {
					err_line("%s: no completion within %u ms (%lu of %lu done, CSTS "
						 "0x%08x)", opname(false, opc), CMD_TIMEOUT_MS, done + j,
						 o->blocks, reg_read32(&c, NVME_REG_CSTS));
					goto io_fail;
				}
				if (cqe_check(&cqe, false, opc))
					goto io_fail;
			}
			done += n;
		}
		if (!pass) {
			/* Flush: the data reaches the disk image before we report it */
			memset(&cmd, 0, sizeof(cmd));
			cmd.opc = NVME_CMD_FLUSH;
			cmd.cid = 0xfffe;
			cmd.nsid = 1;
			vfio_memattr_wc_start();
			sq_push(&c.iosq, &cmd);
			sq_ring(&c.iosq);
			c.io_cmds++;
			rc = cq_wait(&c.iocq, &cqe, CMD_TIMEOUT_MS);
			if (rc) {
				err_line("Flush: no completion within %u ms", CMD_TIMEOUT_MS);
				goto io_fail;
			}
			if (cqe_check(&cqe, false, NVME_CMD_FLUSH))
				goto io_fail;
			info("write    %lu Write commands + Flush, %" PRIu64 " bytes in %.1f ms (%.2f MiB/s)",
			     o->blocks, bytes, ms_since(tp), (double)bytes / 1048576.0 /
			     (ms_since(tp) / 1000.0));
			result(T_WRITES, true, "%" PRIu64 " bytes", bytes);
			*hc_ok = true;
		} else {
			info("read     %lu Read commands, %" PRIu64 " bytes in %.1f ms (%.2f MiB/s)",
			     o->blocks, bytes, ms_since(tp), (double)bytes / 1048576.0 /
			     (ms_since(tp) / 1000.0));
		}
		continue;
io_fail:
		result(pass ? T_VERIFY : T_WRITES, false, "%s failed", opname(false, opc));
		goto out;
	}

	{
		size_t bad = pattern_check(rdata, bytes, o->seed);

		if (bad != bytes) {
			err_line("read-back mismatch at byte %zu (LBA %" PRIu64 "): expected 0x%02x, "
				 "read 0x%02x", bad, o->lba + bad / lbasz, pattern_byte(o->seed, bad),
				 rdata[bad]);
			result(T_VERIFY, false, "mismatch at byte %zu", bad);
			goto out;
		}
	}
	info("verify   %" PRIu64 " bytes read back match the pattern", bytes);
	result(T_VERIFY, true, "%" PRIu64 " bytes", bytes);
	ret = 0;

out:
	/* 7. tidy up: delete the I/O queues, shut down, unmap */
	if (c.enabled) {
		if (c.iosq.size) {
			memset(&cmd, 0, sizeof(cmd));
			cmd.opc = NVME_ADM_DELETE_SQ;
			cmd.cdw10 = IO_QID;
			admin_cmd(&c, &cmd, NULL);
		}
		if (c.iocq.size) {
			memset(&cmd, 0, sizeof(cmd));
			cmd.opc = NVME_ADM_DELETE_CQ;
			cmd.cdw10 = IO_QID;
			admin_cmd(&c, &cmd, NULL);
		}
		cc = reg_read32(&c, NVME_REG_CC);
		reg_write32(&c, NVME_REG_CC, cc | NVME_CC_SHN_NORMAL);
		if (wait_csts(&c, 3u << 2, NVME_CSTS_SHST_DONE << 2, c.rdy_timeout_ms, &csts))
			err_line("shutdown not complete within %u ms (CSTS 0x%08x)",
				 c.rdy_timeout_ms, csts);
		ctrl_disable(&c);
	}
	if (c.admin_cmds) {
		info("commands %lu admin, %lu I/O; total time %.1f ms", c.admin_cmds, c.io_cmds,
		     ms_since(t_start));
	}
	if (c.host_mapped)
		vfio_memattr_dma_unmap(c.dev, c.host_iova, c.host_len);
	if (c.host)
		munmap(c.host, c.host_len);
	if (cmbm)
		vfio_memattr_unmap(cmbm);
	if (bar0m)
		vfio_memattr_unmap(bar0m);
	if (c.dev)
		vfio_memattr_close(c.dev);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "blocks", required_argument, NULL, 'n' },
		{ "lba", required_argument, NULL, 'l' },
		{ "seed", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "iova", required_argument, NULL, 'I' },
		{ "allow-nc", no_argument, NULL, 'N' },
		{ "allow-sysfs", no_argument, NULL, 'S' },
		{ "data-in-cmb", no_argument, NULL, 'D' },
		{ "tap", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .blocks = 64, .lba = 8, .batch = 16, .iova = 0x10000000ull };
	uint64_t v, hc_off = 0, hc_len = 0;
	bool hc_ok = false;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "n:l:s:b:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (parse_u64(optarg, &v) || !v || v > 4096)
				goto bad;
			o.blocks = (unsigned long)v;
			break;
		case 'l':
			if (parse_u64(optarg, &o.lba))
				goto bad;
			break;
		case 's':
			if (parse_u64(optarg, &o.seed))
				goto bad;
			o.seed_set = true;
			break;
		case 'b':
			if (parse_u64(optarg, &v) || !v || v > IO_QSIZE - 1)
				goto bad;
			o.batch = (unsigned int)v;
			break;
		case 'I':
			if (parse_u64(optarg, &o.iova) || (o.iova & (PAGE - 1)))
				goto bad;
			break;
		case 'N': o.allow_nc = true; break;
		case 'S': o.allow_sysfs = true; break;
		case 'D': o.data_in_cmb = true; break;
		case 'T': tap = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		o.bdf = argv[optind++];
	if (optind < argc)
		goto bad;
	if (!o.bdf || !*o.bdf)
		o.bdf = getenv("MEMATTR_NVME");
	if (!o.seed_set) {
		if (getrandom(&o.seed, sizeof(o.seed), 0) != sizeof(o.seed))
			o.seed = now_ns() ^ ((uint64_t)getpid() << 32);
	}
	if (tap) {
		printf("TAP version 13\n");
		if (!o.bdf || !*o.bdf) {
			printf("1..0 # SKIP no NVMe device: give a BDF or set MEMATTR_NVME\n");
			return 4;
		}
		printf("1..%d\n", T_NR);
	} else if (!o.bdf || !*o.bdf) {
		fprintf(stderr, PROG ": no device: give a BDF or set MEMATTR_NVME\n");
		usage(stderr);
		return 2;
	}
	fflush(stdout);

	rc = run(&o, &hc_off, &hc_len, &hc_ok);
	if (rc && !nr_failed && next_test < T_NR)
		result((enum test_id)next_test, false, "error, see above");
	skip_rest("not reached");
	if (hc_ok)
		printf("# HOSTCHECK nvme-disk %" PRIu64 " %" PRIu64 " 0x%016" PRIx64 " nvme-cmb\n",
		       hc_off, hc_len, o.seed);
	if (tap) {
		printf("# Totals: %d failed of %d\n", nr_failed, T_NR);
		return nr_failed || rc ? 1 : 0;
	}
	if (!rc)
		printf(PROG ": OK\n");
	return rc ? 1 : 0;
bad:
	usage(stderr);
	return 2;
}
