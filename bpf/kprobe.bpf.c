// SPDX-License-Identifier: GPL-2.0
/* kprobe implementations of the read, mmap and direct capabilities, for
 * kernels with kprobes but neither the filemap (or iomap_dio_rw_begin)
 * tracepoints nor BPF trampolines.
 * Untyped arguments: everything through probe reads. There is no kprobe
 * send implementation: kprobe programs cannot use socket storage, which
 * carries the writer's taint to the packet hook. */
#include "lib/files.bpf.h"

SEC("?kprobe/filemap_read")
int BPF_KPROBE(vigil_kprobe_filemap_read, struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *f = BPF_CORE_READ(iocb, ki_filp);
	__u64 count = BPF_CORE_READ(iter, count), first, last;

	if (!f || !count)
		return 0;
	file__span(BPF_CORE_READ(iocb, ki_pos), count, &first, &last);
	return file__read_mapping_probed(BPF_CORE_READ(f, f_mapping), first, last,
					 VIGIL_VIA_READ);
}

SEC("?kprobe/__iomap_dio_rw")
int BPF_KPROBE(vigil_kprobe_dio_read, struct kiocb *iocb, struct iov_iter *iter)
{
	return file__read_direct(iocb, iter);
}

SEC("?kprobe/filemap_map_pages")
int BPF_KPROBE(vigil_kprobe_filemap_map_pages, struct vm_fault *vmf, unsigned long start_pgoff,
	       unsigned long end_pgoff)
{
	struct file *f = BPF_CORE_READ(vmf, vma, vm_file);

	if (!f)
		return 0;
	return file__read_mapping_probed(BPF_CORE_READ(f, f_mapping), start_pgoff, end_pgoff,
					 VIGIL_VIA_MMAP);
}

SEC("?kprobe/filemap_fault")
int BPF_KPROBE(vigil_kprobe_filemap_fault, struct vm_fault *vmf)
{
	struct file *f = BPF_CORE_READ(vmf, vma, vm_file);
	__u64 pgoff = BPF_CORE_READ(vmf, pgoff);

	if (!f)
		return 0;
	return file__read_mapping_probed(BPF_CORE_READ(f, f_mapping), pgoff, pgoff,
					 VIGIL_VIA_MMAP);
}
