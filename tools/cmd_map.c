// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd_map.c - vfio-memattr map: map BAR ranges, optionally run a command. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vfio-memattr.h"
#include "vfio-memattr-mmio.h"
#include "cli.h"
#include "spec.h"
#include "vfio-memattr-pattern.h"

static const char *map_hint(int e, const char *bdf, bool kernel)
{
	static char buf[2048];

	switch (e) {
	case -EPERM:
		snprintf(buf, sizeof(buf), "refused by policy: WC on a non-prefetchable BAR "
			 "needs the administrator's opt-in (echo 1 > " "%s/devices/%s/"
			 "memattr_nonprefetchable_wc, or module parameter "
			 MODULE ".nonprefetchable_wc=1 for devices bound later), and the pages "
			 "of the MSI-X table take only NC; or ask for NC", sysfs_pci, bdf);
		return buf;
	case -EBUSY:
		return "the range is in use with another attribute (an overlapping handle, a "
		       "plain mmap of the BAR, an ioeventfd, or a conflicting memory type "
		       "reservation): release it or ask for the attribute already in use";
	case -EOPNOTSUPP:
		if (!kernel) {
			snprintf(buf, sizeof(buf), "the driver does not offer memory attributes: "
				 "bind the device with \"vfio-memattr bind %s\", or add NC to the "
				 "attribute list (or --allow-sysfs for WC on prefetchable BARs)", bdf);
			return buf;
		}
		return "the BAR cannot be mapped with these attributes (I/O or non-mmappable "
		       "BAR, or not available on this architecture); see \"vfio-memattr info\"";
	case -EINVAL:
		return "OFFSET and LENGTH must be page aligned, non-zero and inside the BAR "
		       "(see \"vfio-memattr info\")";
	case -ENOSPC:
		return "no handle left: raise the max_handles module parameter of "
		       "vfio-pci-memattr, or unmap something";
	case -ENOMEM:
		return "out of memory";
	default:
		return "";
	}
}

/* the DMABUF of --dmabuf */
struct dmabuf_res {
	const char *text;
	struct vm_dmabuf_spec spec;
	enum vfio_memattr prefs[VFIO_MEMATTR_MAX_PREFS];
	unsigned int nr_prefs;		/* 0: no --attr, the DMABUF stays NC */
	int fd;				/* -1 until exported */
	int ret;			/* 0, or -errno of the step that failed */
	struct vfio_memattr_dmabuf_info info;
};

static const char *dmabuf_hint(int e, const char *bdf, bool kernel)
{
	static char buf[512];

	switch (e) {
	case -ENOTTY:
		if (kernel)
			return "this " DRIVER " module has no DMABUF export (it came before 2.1): "
			       "install a newer one";
		snprintf(buf, sizeof(buf), "the driver of %s does not export DMABUFs (stock "
			 "vfio-pci): bind it to " DRIVER " 2.1 or later with \"vfio-memattr bind "
			 "%s\"", bdf, bdf);
		return buf;
	case -EBUSY:
		return "a range is in use with another attribute (a handle, a plain mmap of the "
		       "BAR, an ioeventfd, or a conflicting memory type reservation)";
	case -EINVAL:
		return "the ranges must be page aligned, non-zero and inside the BAR (see "
		       "\"vfio-memattr info\")";
	default:
		return map_hint(e, bdf, kernel);
	}
}

struct map_res {
	const char *text;
	struct vm_spec spec;
	struct vfio_memattr_mapping *m;
	int ret;
	bool wrote;
};

/* in the child: the DMABUF fd survives exec, and its facts go in the environment */
static void hand_dmabuf(const struct dmabuf_res *d)
{
	char v[32];

	if (!d || d->fd < 0)
		return;
	if (fcntl(d->fd, F_SETFD, 0) < 0)
		_exit(127);
	snprintf(v, sizeof(v), "%d", d->fd);
	setenv("VFIO_MEMATTR_DMABUF_FD", v, 1);
	snprintf(v, sizeof(v), "%" PRIu64, d->info.size);
	setenv("VFIO_MEMATTR_DMABUF_SIZE", v, 1);
	setenv("VFIO_MEMATTR_DMABUF_ATTR", vfio_memattr_attr_name((enum vfio_memattr)d->info.attr), 1);
}

static int run_cmd(const char *cmd, const struct dmabuf_res *d)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, oi, oq;
	pid_t pid;
	int st;

	fflush(NULL);
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &oi);
	sigaction(SIGQUIT, &ign, &oq);
	pid = fork();
	if (pid < 0) {
		fail(errno, NULL, "fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		sigaction(SIGINT, &oi, NULL);
		sigaction(SIGQUIT, &oq, NULL);
		hand_dmabuf(d);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			st = 127 << 8;
			break;
		}
	}
	sigaction(SIGINT, &oi, NULL);
	sigaction(SIGQUIT, &oq, NULL);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int write_pattern(struct vfio_memattr_mapping *m, uint64_t seed)
{
	uint64_t len = vfio_memattr_mapping_length(m);
	void *buf;
	int ret;

	if (len > SIZE_MAX || (len & 63))
		return -EINVAL;
	buf = aligned_alloc(64, (size_t)len);
	if (!buf)
		return -ENOMEM;
	pattern_fill(buf, (size_t)len, seed);
	vfio_memattr_wc_start();
	ret = vfio_memattr_wc_copy(vfio_memattr_mapping_addr(m), buf, (size_t)len);
	vfio_memattr_wc_flush();
	free(buf);
	return ret;
}

/* Parse and check every SPEC before the device is opened (opening may
 * reset it): exit status 2 on a bad one. */
static int parse_specs(struct map_res *r, char **specs, int nspecs)
{
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t mask = (uint64_t)(ps > 0 ? ps : 4096) - 1;
	char e[256];
	int i;

	for (i = 0; i < nspecs; i++) {
		r[i].text = specs[i];
		if (vm_parse_spec(specs[i], &r[i].spec, e, sizeof(e)) < 0) {
			fail(EINVAL, NULL, "%s", e);
			return -EINVAL;
		}
		if ((r[i].spec.offset & mask) || (r[i].spec.length & mask)) {
			fail(EINVAL, NULL, "SPEC \"%s\": OFFSET and LENGTH must be multiples of the "
			     "page size (%llu)", specs[i], (unsigned long long)mask + 1);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_dmabuf(struct dmabuf_res *d, const char *text, const char *attrs)
{
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t mask = (uint64_t)(ps > 0 ? ps : 4096) - 1;
	unsigned int i;
	char e[512];

	d->text = text;
	d->fd = -1;
	if (vm_parse_dmabuf(text, &d->spec, e, sizeof(e)) < 0) {
		fail(EINVAL, NULL, "%s", e);
		return -EINVAL;
	}
	for (i = 0; i < d->spec.nr_ranges; i++) {
		if ((d->spec.ranges[i].offset & mask) || (d->spec.ranges[i].length & mask)) {
			fail(EINVAL, NULL, "DMABUF SPEC \"%s\": OFFSET and LENGTH must be multiples "
			     "of the page size (%llu)", text, (unsigned long long)mask + 1);
			return -EINVAL;
		}
	}
	if (attrs && vm_parse_attrs(attrs, d->prefs, &d->nr_prefs, e, sizeof(e)) < 0) {
		fail(EINVAL, NULL, "--attr \"%s\": %s", attrs, e);
		return -EINVAL;
	}
	return 0;
}

/* export, set the attribute, read it back; 0 or -errno (reported) */
static int make_dmabuf(struct vfio_memattr_dev *dev, struct dmabuf_res *d, const char *bdf,
		       int ks)
{
	const char *what = "export";
	enum vfio_memattr at;
	int ret;

	ret = vfio_memattr_dmabuf_export(dev, d->spec.bar, d->spec.ranges, d->spec.nr_ranges,
					 O_RDWR | O_CLOEXEC);
	if (ret >= 0) {
		d->fd = ret;
		ret = 0;
		if (d->nr_prefs) {
			what = "setting the attribute";
			ret = vfio_memattr_dmabuf_set_attr(dev, d->fd, d->prefs, d->nr_prefs, &at);
		}
		if (ret == 0) {
			what = "reading it back";
			ret = vfio_memattr_dmabuf_info(dev, d->fd, &d->info);
		}
	}
	if (ret < 0) {
		const char *h = dmabuf_hint(ret, bdf, ks == 1);

		fail(-ret, *h ? h : NULL, "%s: DMABUF %s: %s: %s", bdf, d->text, what,
		     strerror(-ret));
		if (d->fd >= 0)
			close(d->fd);
		d->fd = -1;
	}
	d->ret = ret;
	return ret;
}

/* after CMD: revoke (unless --no-revoke), read the state back, close */
static int end_dmabuf(struct vfio_memattr_dev *dev, struct dmabuf_res *d, const char *bdf,
		      bool revoke, bool json)
{
	struct vfio_memattr_dmabuf_info in;
	int ret = 0;

	if (d->fd < 0)
		return 0;
	if (revoke) {
		ret = vfio_memattr_dmabuf_revoke(dev, d->fd);
		if (ret == 0)
			ret = vfio_memattr_dmabuf_info(dev, d->fd, &in);
		if (ret == 0 && !(in.state & VFIO_MEMATTR_DMABUF_REVOKED))
			ret = -EPROTO;	/* the kernel says it is not revoked */
		if (ret < 0)
			fail(-ret, NULL, "%s: DMABUF %s: revoking it: %s", bdf, d->text,
			     strerror(-ret));
		else if (!json)
			printf("dmabuf %s: fd %d revoked (kernel state: revoked)\n", d->text, d->fd);
	} else if (!json) {
		printf("dmabuf %s: fd %d not revoked (--no-revoke); closing the device revokes it\n",
		       d->text, d->fd);
	}
	fflush(stdout);
	close(d->fd);
	d->fd = -1;
	return ret;
}

static void print_dmabuf(struct json *j, const struct dmabuf_res *d, const char *bdf, int ks,
			 bool json, bool revoke)
{
	const char *attr = d->ret == 0 ? vfio_memattr_attr_name((enum vfio_memattr)d->info.attr) :
			   NULL;
	unsigned int i;

	if (!json) {
		if (d->ret < 0) {
			printf("dmabuf %s: FAILED: %s\n", d->text, strerror(-d->ret));
			return;
		}
		printf("dmabuf %s: BAR%u, %u range(s), %" PRIu64 " bytes: %s, fd %d "
		       "(VFIO_MEMATTR_DMABUF_FD), %s\n", d->text, d->spec.bar, d->spec.nr_ranges,
		       d->info.size, attr, d->fd,
		       revoke ? "revoked after the command" : "not revoked (--no-revoke)");
		return;
	}
	json_obj(j, "dmabuf");
	json_str(j, "spec", d->text);
	json_u64(j, "bar", d->spec.bar);
	json_arr(j, "ranges");
	for (i = 0; i < d->spec.nr_ranges; i++)
		json_record(j, NULL, "uu", "offset", (uint64_t)d->spec.ranges[i].offset,
			    "length", (uint64_t)d->spec.ranges[i].length);
	json_end(j);
	json_u64(j, "size", d->spec.size);
	json_bool(j, "ok", d->ret == 0);
	json_str(j, "attr", attr);
	if (d->ret == 0)
		json_int(j, "fd", d->fd);
	else
		json_null(j, "fd");
	json_bool(j, "revoke", revoke);
	if (d->ret < 0) {
		const char *h = dmabuf_hint(d->ret, bdf, ks == 1);

		json_obj(j, "error");
		json_int(j, "errno", -d->ret);
		json_str(j, "name", strerrorname_np(-d->ret));
		json_str(j, "message", strerror(-d->ret));
		json_str(j, "hint", *h ? h : NULL);
		json_end(j);
	} else {
		json_null(j, "error");
	}
	json_end(j);
}

static void print_results(struct map_res *r, int nspecs, const char *bdf, int ks, bool json,
			  int failed, const struct dmabuf_res *d, bool revoke)
{
	struct json j;
	int i;

	json_init(&j, stdout);
	if (json) {
		json_obj(&j, NULL);
		json_str(&j, "bdf", bdf);
		json_bool(&j, "memattr_uapi", ks == 1);
		json_arr(&j, "mappings");
	}
	for (i = 0; i < nspecs; i++) {
		struct vm_spec *s = &r[i].spec;
		struct vfio_memattr_mapping *m = r[i].ret == 0 ? r[i].m : NULL;

		if (json) {
			json_obj(&j, NULL);
			json_str(&j, "spec", r[i].text);
			json_u64(&j, "bar", s->bar);
			json_u64(&j, "offset", s->offset);
			json_u64(&j, "length", s->length);
			json_bool(&j, "ok", m != NULL);
			json_str(&j, "attr", m ? vfio_memattr_attr_name(vfio_memattr_mapping_attr(m)) : NULL);
			json_str(&j, "source",
				 m ? vfio_memattr_source_name(vfio_memattr_mapping_source(m)) : NULL);
			json_u64(&j, "handle", m ? vfio_memattr_mapping_handle(m) : 0);
			if (r[i].wrote)
				json_u64(&j, "pattern_seed", s->offset);
			else
				json_null(&j, "pattern_seed");
			if (r[i].ret < 0) {
				const char *h = map_hint(r[i].ret, bdf, ks == 1);

				json_obj(&j, "error");
				json_int(&j, "errno", -r[i].ret);
				json_str(&j, "name", strerrorname_np(-r[i].ret));
				json_str(&j, "message", strerror(-r[i].ret));
				json_str(&j, "hint", *h ? h : NULL);
				json_end(&j);
			} else {
				json_null(&j, "error");
			}
			json_end(&j);
		} else if (m) {
			printf("%s: BAR%u 0x%" PRIx64 "+0x%" PRIx64 ": %s (source %s", r[i].text,
			       s->bar, s->offset, s->length,
			       vfio_memattr_attr_name(vfio_memattr_mapping_attr(m)),
			       vfio_memattr_source_name(vfio_memattr_mapping_source(m)));
			if (vfio_memattr_mapping_handle(m))
				printf(", handle 0x%x", vfio_memattr_mapping_handle(m));
			printf(")");
			if (r[i].wrote)
				printf(", pattern written, seed 0x%" PRIx64, s->offset);
			printf("\n");
		} else {
			printf("%s: FAILED: %s\n", r[i].text, strerror(-r[i].ret));
		}
	}
	if (json)
		json_end(&j);
	if (d)
		print_dmabuf(&j, d, bdf, ks, json, revoke);
	else if (json)
		json_null(&j, "dmabuf");
	if (json) {
		if (failed)
			json_error(&j, "error", EIO);
		else
			json_null(&j, "error");
		json_end(&j);
	}
	fflush(stdout);
}

int cmd_map(struct cli_args *a)
{
	struct vfio_memattr_dev *dev;
	int i, ret, failed = 0, ks, status = 0, nspecs = a->npos - 1;
	struct dmabuf_res *d = NULL;
	struct map_res *r;
	char bdf[32];

	if (check_bdf(a->pos[0], bdf, sizeof(bdf)))
		return 1;
	r = calloc((size_t)nspecs + 1, sizeof(*r));
	if (a->dmabuf)
		d = calloc(1, sizeof(*d));
	if (!r || (a->dmabuf && !d)) {
		free(r);
		free(d);
		return 1;
	}
	if (parse_specs(r, a->pos + 1, nspecs) < 0 ||
	    (d && parse_dmabuf(d, a->dmabuf, a->attr) < 0)) {
		free(r);
		free(d);
		return 2;
	}
	ret = vfio_memattr_open(bdf, 0, &dev);
	if (ret < 0) {
		explain_open(bdf, ret);
		free(r);
		free(d);
		return 1;
	}
	ks = vfio_memattr_kernel_support(dev);

	for (i = 0; i < nspecs; i++) {
		struct vm_spec *s = &r[i].spec;
		const char *h;

		r[i].ret = vfio_memattr_map(dev, s->bar, s->offset, s->length, s->prefs,
					    s->nr_prefs,
					    a->allow_sysfs ? VFIO_MEMATTR_MAP_ALLOW_SYSFS : 0, &r[i].m);
		if (r[i].ret < 0) {
			failed++;
			h = map_hint(r[i].ret, bdf, ks == 1);
			fail(-r[i].ret, *h ? h : NULL, "%s: %s: %s", bdf, r[i].text,
			     strerror(-r[i].ret));
			continue;
		}
		if (a->pattern) {
			ret = write_pattern(r[i].m, s->offset);
			if (ret < 0) {
				failed++;
				r[i].ret = ret;
				fail(-ret, NULL, "%s: %s: writing the pattern: %s", bdf, r[i].text,
				     strerror(-ret));
				continue;
			}
			r[i].wrote = true;
		}
	}
	if (d && make_dmabuf(dev, d, bdf, ks) < 0)
		failed++;
	print_results(r, nspecs, bdf, ks, a->json, failed, d, !a->no_revoke);

	if (a->run) {
		if (failed)
			err("not running \"%s\": %d SPEC(s) or the DMABUF failed", a->run, failed);
		else
			status = run_cmd(a->run, d);
	}
	if (d && end_dmabuf(dev, d, bdf, !a->no_revoke, a->json) < 0)
		failed++;
	for (i = 0; i < nspecs; i++)
		if (r[i].m)
			vfio_memattr_unmap(r[i].m);
	vfio_memattr_close(dev);
	free(r);
	free(d);
	if (failed)
		return 1;
	return status;
}
