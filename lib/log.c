// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * log.c - logging: per device or process-wide, never under a lock
 *
 * See vfio-memattr.h and vfio_memattr(3).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vfio-memattr.h"
#include "vfio-memattr-private.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_sink global_log;

/*
 * Messages raised while this thread holds a device lock wait here and are
 * delivered by vfio_memattr__dev_unlock() after the mutex is released: a
 * callback never runs under a library lock (it may call the library again).
 */
#define LOG_QUEUE	16
static _Thread_local struct {
	unsigned int depth, n, dropped;
	struct {
		struct log_sink sink;
		int level;
		char msg[512];
	} q[LOG_QUEUE];
} tls_log;

EXPORT void vfio_memattr_set_log(void (*fn)(void *ctx, int level, const char *msg),
				 void *ctx)
{
	pthread_mutex_lock(&log_lock);
	global_log.fn = fn;
	global_log.ctx = ctx;
	pthread_mutex_unlock(&log_lock);
}

static void log_flush(void)
{
	unsigned int i, n = tls_log.n, dropped = tls_log.dropped;
	struct log_sink last = { 0 };

	tls_log.n = tls_log.dropped = 0;
	for (i = 0; i < n; i++) {
		last = tls_log.q[i].sink;
		last.fn(last.ctx, tls_log.q[i].level, tls_log.q[i].msg);
	}
	if (dropped && last.fn) {
		char buf[64];

		snprintf(buf, sizeof(buf), "%u more messages dropped", dropped);
		last.fn(last.ctx, VFIO_MEMATTR_LOG_WARNING, buf);
	}
}

/* Lock a device; the messages raised meanwhile are delivered on unlock. */
void vfio_memattr__dev_lock(struct vfio_memattr_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	tls_log.depth++;
}

void vfio_memattr__dev_unlock(struct vfio_memattr_dev *dev)
{
	pthread_mutex_unlock(&dev->lock);
	if (--tls_log.depth == 0 && tls_log.n)
		log_flush();
}

EXPORT int vfio_memattr_dev_set_log(struct vfio_memattr_dev *dev,
				    void (*fn)(void *ctx, int level, const char *msg),
				    void *ctx)
{
	if (!dev)
		return -EINVAL;
	vfio_memattr__dev_lock(dev);
	dev->own_log = true;
	dev->log.fn = fn;
	dev->log.ctx = ctx;
	vfio_memattr__dev_unlock(dev);
	return 0;
}

void vfio_memattr__log(const struct vfio_memattr_dev *dev, int level, const char *fmt, ...)
{
	struct log_sink sink;
	char buf[512];
	va_list ap;

	if (dev && dev->own_log) {
		sink = dev->log;
	} else {
		pthread_mutex_lock(&log_lock);
		sink = global_log;
		pthread_mutex_unlock(&log_lock);
	}
	if (!sink.fn)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!tls_log.depth) {
		sink.fn(sink.ctx, level, buf);
		return;
	}
	if (tls_log.n == LOG_QUEUE) {
		tls_log.dropped++;
		return;
	}
	tls_log.q[tls_log.n].sink = sink;
	tls_log.q[tls_log.n].level = level;
	memcpy(tls_log.q[tls_log.n].msg, buf, sizeof(buf));
	tls_log.n++;
}

