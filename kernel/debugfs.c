// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-memattr: /sys/kernel/debug/vfio-pci-memattr/<BDF>/{stats,handles}
 * (/sys/kernel/debug/vfio-pci/... for the vfio-pci flavour)
 *
 * For administrators (vfio-memattr info) and for the tests, which check
 * that aligned mappings are populated with PMD entries.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "compat.h"
#include "memattr.h"

static struct dentry *memattr_debugfs_root;

static int memattr_stats_show(struct seq_file *s, void *unused)
{
	struct memattr_device *mv = s->private;
	int bar;

	seq_printf(s, "huge_pfnmap %d\n", MEMATTR_HUGE_PFNMAP);
	seq_printf(s, "pte_faults %lld\n",
		   (long long)atomic64_read(&mv->stats.pte_faults));
	seq_printf(s, "pmd_faults %lld\n",
		   (long long)atomic64_read(&mv->stats.pmd_faults));
	seq_printf(s, "pud_faults %lld\n",
		   (long long)atomic64_read(&mv->stats.pud_faults));
	seq_printf(s, "sigbus %lld\n",
		   (long long)atomic64_read(&mv->stats.sigbus));
	mutex_lock(&mv->lock);
	seq_printf(s, "handles %u\n", mv->nr_handles);
	/* what a takeover waits for (handle.c memattr_takeover()) */
	seq_printf(s, "ioeventfd_calls %u\n", mv->ioeventfd_calls);
	mutex_lock(&mv->core.ioeventfds_lock);
	seq_printf(s, "ioeventfds %d\n", mv->core.ioeventfds_nr);
	mutex_unlock(&mv->core.ioeventfds_lock);
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		struct memattr_bar *b = &mv->bars[bar];

		if (!(pci_resource_flags(mv->core.pdev, bar) & IORESOURCE_MEM))
			continue;
		seq_printf(s, "bar%d taken %d core_rw %d legacy_vmas %d legacy_untracked %d\n",
			   bar, b->taken, atomic_read(&b->core_rw),
			   atomic_read(&b->legacy_vmas), b->legacy_untracked);
	}
	/* the uncached page rw.c keeps mapped (an uncached-minus PAT entry) */
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++)
		if (mv->bars[bar].rw_io)
			seq_printf(s, "rw_page%d %#llx\n", bar,
				   (unsigned long long)mv->bars[bar].rw_page);
	mutex_unlock(&mv->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(memattr_stats);

static int memattr_handles_show(struct seq_file *s, void *unused)
{
	struct memattr_device *mv = s->private;
	struct memattr_handle *h;
	int bar;

	seq_puts(s, "# handle bar offset length attr mmap_offset state\n");
	mutex_lock(&mv->lock);
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		list_for_each_entry(h, &mv->bars[bar].handles, bar_node)
			seq_printf(s, "%#x %u %#llx %#llx %s %#llx %s\n",
				   h->id, h->bar, h->offset, h->length,
				   memattr_attr_names[h->attr].upper,
				   h->mmap_offset,
				   h->kind == MEMATTR_KIND_DMABUF ? "dmabuf" :
				   h->released ? "released" :
				   h->id ? "live" : "legacy-default");
	}
	mutex_unlock(&mv->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(memattr_handles);

void memattr_debugfs_init(void)
{
	memattr_debugfs_root = debugfs_create_dir(MEMATTR_DRIVER_NAME, NULL);
}

void memattr_debugfs_exit(void)
{
	debugfs_remove_recursive(memattr_debugfs_root);
}

void memattr_debugfs_add(struct memattr_device *mv)
{
	mv->debugfs = debugfs_create_dir(pci_name(mv->core.pdev),
					 memattr_debugfs_root);
	debugfs_create_file("stats", 0400, mv->debugfs, mv, &memattr_stats_fops);
	debugfs_create_file("handles", 0400, mv->debugfs, mv,
			    &memattr_handles_fops);
}

void memattr_debugfs_remove(struct memattr_device *mv)
{
	debugfs_remove_recursive(mv->debugfs);
}
