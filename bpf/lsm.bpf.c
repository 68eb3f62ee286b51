// SPDX-License-Identifier: GPL-2.0
/* BPF LSM implementations of the mmap and send capabilities, for kernels
 * with the bpf LSM active but no trampolines on the functions fentry.bpf.c
 * uses. Coarser than those: mmap_file sees the mapping being made, not the
 * pages touched (the whole file counts as read); socket_sendmsg runs before
 * the send with the size asked for, and never sees sendpage (sendfile and
 * splice into TCP before 6.5). Each returns the verdict it was given:
 * vigil never denies through the LSM. */
#include "lib/files.bpf.h"

SEC("?lsm/mmap_file")
int BPF_PROG(vigil_lsm_mmap_file, struct file *file, unsigned long reqprot,
	     unsigned long prot, unsigned long flags, int ret)
{
	if (ret || !file)
		return ret;
	file__read_mapping(file->f_mapping, 0, ~0ull >> PAGE_SHIFT, VIGIL_VIA_MMAP);
	return 0;
}

SEC("?lsm/socket_sendmsg")
int BPF_PROG(vigil_lsm_socket_sendmsg, struct socket *sock, struct msghdr *msg, int size,
	     int ret)
{
	if (ret)
		return ret;
	send__before(sock, msg, size, true);
	return 0;
}
