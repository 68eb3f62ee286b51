/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The wire format pinned: the size of every struct in vigil.h and the offset
 * of every field, checked by both compilers (clang for the BPF target, gcc
 * for userspace) since vigil.h includes this file. A change on one side
 * that the other would read differently fails the build, not production.
 * tests/unit/test_layout.c checks that every struct of vigil.h and
 * vigil_content.h, and each of its fields, is here.
 */
#ifndef VIGIL_LAYOUT_H
#define VIGIL_LAYOUT_H

#define VIGIL_PIN_SIZE(s, n) _Static_assert(sizeof(struct s) == (n), #s " size")
#define VIGIL_PIN_AT(s, f, o) \
	_Static_assert(__builtin_offsetof(struct s, f) == (o), #s "." #f " offset")

VIGIL_PIN_SIZE(vigil_file_key, 16);
VIGIL_PIN_AT(vigil_file_key, dev, 0);
VIGIL_PIN_AT(vigil_file_key, ino, 8);

VIGIL_PIN_SIZE(vigil_file_info, 8);
VIGIL_PIN_AT(vigil_file_info, set_mask, 0);
VIGIL_PIN_AT(vigil_file_info, file_id, 4);

VIGIL_PIN_SIZE(vigil_taint, 40);
VIGIL_PIN_AT(vigil_taint, set_mask, 0);
VIGIL_PIN_AT(vigil_taint, via, 4);
VIGIL_PIN_AT(vigil_taint, from_tgid, 8);
VIGIL_PIN_AT(vigil_taint, depth, 12);
VIGIL_PIN_AT(vigil_taint, first_file_id, 16);
VIGIL_PIN_AT(vigil_taint, flags, 20);
VIGIL_PIN_AT(vigil_taint, bytes_read, 24);
VIGIL_PIN_AT(vigil_taint, since_ns, 32);

VIGIL_PIN_SIZE(vigil_read_key, 8);
VIGIL_PIN_AT(vigil_read_key, tgid, 0);
VIGIL_PIN_AT(vigil_read_key, file_id, 4);

VIGIL_PIN_SIZE(vigil_read_progress, 16);
VIGIL_PIN_AT(vigil_read_progress, hwm_page, 0);
VIGIL_PIN_AT(vigil_read_progress, pages, 8);

VIGIL_PIN_SIZE(vigil_pipe_key, 16);
VIGIL_PIN_AT(vigil_pipe_key, inode, 0);
VIGIL_PIN_AT(vigil_pipe_key, ino, 8);

VIGIL_PIN_SIZE(vigil_pipe_mark, 32);
VIGIL_PIN_AT(vigil_pipe_mark, tgid, 0);
VIGIL_PIN_AT(vigil_pipe_mark, set_mask, 4);
VIGIL_PIN_AT(vigil_pipe_mark, depth, 8);
VIGIL_PIN_AT(vigil_pipe_mark, file_id, 12);
VIGIL_PIN_AT(vigil_pipe_mark, bytes, 16);
VIGIL_PIN_AT(vigil_pipe_mark, weights_bytes, 24);

VIGIL_PIN_SIZE(vigil_relay_key, 40);
VIGIL_PIN_AT(vigil_relay_key, family, 0);
VIGIL_PIN_AT(vigil_relay_key, proto, 1);
VIGIL_PIN_AT(vigil_relay_key, lport, 2);
VIGIL_PIN_AT(vigil_relay_key, rport, 4);
VIGIL_PIN_AT(vigil_relay_key, pad, 6);
VIGIL_PIN_AT(vigil_relay_key, laddr, 8);
VIGIL_PIN_AT(vigil_relay_key, raddr, 24);

VIGIL_PIN_SIZE(vigil_relay_mark, 24);
VIGIL_PIN_AT(vigil_relay_mark, tgid, 0);
VIGIL_PIN_AT(vigil_relay_mark, set_mask, 4);
VIGIL_PIN_AT(vigil_relay_mark, depth, 8);
VIGIL_PIN_AT(vigil_relay_mark, file_id, 12);
VIGIL_PIN_AT(vigil_relay_mark, bytes, 16);
VIGIL_PIN_SIZE(vigil_pty_mark, 32);
VIGIL_PIN_AT(vigil_pty_mark, tgid, 0);
VIGIL_PIN_AT(vigil_pty_mark, set_mask, 4);
VIGIL_PIN_AT(vigil_pty_mark, depth, 8);
VIGIL_PIN_AT(vigil_pty_mark, file_id, 12);
VIGIL_PIN_AT(vigil_pty_mark, bytes, 16);
VIGIL_PIN_AT(vigil_pty_mark, weights_bytes, 24);

VIGIL_PIN_SIZE(vigil_sock_state, 72);
VIGIL_PIN_AT(vigil_sock_state, tgid, 0);
VIGIL_PIN_AT(vigil_sock_state, set_mask, 4);
VIGIL_PIN_AT(vigil_sock_state, flags, 8);
VIGIL_PIN_AT(vigil_sock_state, pad, 12);
VIGIL_PIN_AT(vigil_sock_state, acked_base, 16);
VIGIL_PIN_AT(vigil_sock_state, acked_counted, 24);
VIGIL_PIN_AT(vigil_sock_state, content, 32);
VIGIL_PIN_AT(vigil_sock_state, work_sent, 64);

VIGIL_PIN_SIZE(vigil_flow_key, 24);
VIGIL_PIN_AT(vigil_flow_key, tgid, 0);
VIGIL_PIN_AT(vigil_flow_key, family, 4);
VIGIL_PIN_AT(vigil_flow_key, proto, 5);
VIGIL_PIN_AT(vigil_flow_key, dport, 6);
VIGIL_PIN_AT(vigil_flow_key, daddr, 8);

VIGIL_PIN_SIZE(vigil_flow, 80);
VIGIL_PIN_AT(vigil_flow, bytes, 0);
VIGIL_PIN_AT(vigil_flow, blocked_bytes, 8);
VIGIL_PIN_AT(vigil_flow, packets, 16);
VIGIL_PIN_AT(vigil_flow, first_ns, 24);
VIGIL_PIN_AT(vigil_flow, set_mask, 32);
VIGIL_PIN_AT(vigil_flow, reported_level, 36);
VIGIL_PIN_AT(vigil_flow, flags, 40);
VIGIL_PIN_AT(vigil_flow, lport, 44);
VIGIL_PIN_AT(vigil_flow, inbound, 46);
VIGIL_PIN_AT(vigil_flow, pad, 47);
VIGIL_PIN_AT(vigil_flow, content, 48);

VIGIL_PIN_SIZE(vigil_work_key, 20);
VIGIL_PIN_AT(vigil_work_key, family, 0);
VIGIL_PIN_AT(vigil_work_key, pad, 1);
VIGIL_PIN_AT(vigil_work_key, lport, 2);
VIGIL_PIN_AT(vigil_work_key, daddr, 4);

VIGIL_PIN_SIZE(vigil_serve, 24);
VIGIL_PIN_AT(vigil_serve, work_limit, 0);
VIGIL_PIN_AT(vigil_serve, window_ns, 8);
VIGIL_PIN_AT(vigil_serve, exe_mask, 16);
VIGIL_PIN_AT(vigil_serve, pad, 20);

VIGIL_PIN_SIZE(vigil_work_budget, 32);
VIGIL_PIN_AT(vigil_work_budget, window_start_ns, 0);
VIGIL_PIN_AT(vigil_work_budget, spent, 8);
VIGIL_PIN_AT(vigil_work_budget, blocked, 16);
VIGIL_PIN_AT(vigil_work_budget, exceeded, 24);
VIGIL_PIN_AT(vigil_work_budget, pad, 28);

VIGIL_PIN_SIZE(vigil_dns_count, 24);
VIGIL_PIN_AT(vigil_dns_count, window_start_ns, 0);
VIGIL_PIN_AT(vigil_dns_count, name_bytes, 8);
VIGIL_PIN_AT(vigil_dns_count, tunnel_bytes, 12);
VIGIL_PIN_AT(vigil_dns_count, queries, 16);
VIGIL_PIN_AT(vigil_dns_count, flags, 20);

VIGIL_PIN_SIZE(vigil_budget, 56);
VIGIL_PIN_AT(vigil_budget, limit, 0);
VIGIL_PIN_AT(vigil_budget, spent, 8);
VIGIL_PIN_AT(vigil_budget, blocked, 16);
VIGIL_PIN_AT(vigil_budget, committed, 24);
VIGIL_PIN_AT(vigil_budget, passed, 32);
VIGIL_PIN_AT(vigil_budget, delivered, 40);
VIGIL_PIN_AT(vigil_budget, exceeded, 48);
VIGIL_PIN_AT(vigil_budget, pad, 52);

VIGIL_PIN_SIZE(vigil_lpm4_key, 8);
VIGIL_PIN_AT(vigil_lpm4_key, prefixlen, 0);
VIGIL_PIN_AT(vigil_lpm4_key, addr, 4);

VIGIL_PIN_SIZE(vigil_lpm6_key, 20);
VIGIL_PIN_AT(vigil_lpm6_key, prefixlen, 0);
VIGIL_PIN_AT(vigil_lpm6_key, addr, 4);

VIGIL_PIN_SIZE(vigil_port_range, 8);
VIGIL_PIN_AT(vigil_port_range, lo, 0);
VIGIL_PIN_AT(vigil_port_range, hi, 2);
VIGIL_PIN_AT(vigil_port_range, exe_mask, 4);

VIGIL_PIN_SIZE(vigil_allow, 68);
VIGIL_PIN_AT(vigil_allow, nranges, 0);
VIGIL_PIN_AT(vigil_allow, ranges, 4);

VIGIL_PIN_SIZE(vigil_counters, 136);
VIGIL_PIN_AT(vigil_counters, events_sent, 0);
VIGIL_PIN_AT(vigil_counters, events_lost, 8);
VIGIL_PIN_AT(vigil_counters, taint_map_full, 16);
VIGIL_PIN_AT(vigil_counters, flow_map_full, 24);
VIGIL_PIN_AT(vigil_counters, pipe_map_full, 32);
VIGIL_PIN_AT(vigil_counters, fd_scan_truncated, 40);
VIGIL_PIN_AT(vigil_counters, packets_dropped, 48);
VIGIL_PIN_AT(vigil_counters, connects_denied, 56);
VIGIL_PIN_AT(vigil_counters, kills, 64);
VIGIL_PIN_AT(vigil_counters, connects_deduped, 72);
VIGIL_PIN_AT(vigil_counters, connect_reports_capped, 80);

VIGIL_PIN_AT(vigil_counters, sock_storage_full, 88);
VIGIL_PIN_AT(vigil_counters, taint_state_lost, 96);
VIGIL_PIN_AT(vigil_counters, lost_socks_full, 104);
VIGIL_PIN_AT(vigil_counters, failed_closed, 112);
VIGIL_PIN_AT(vigil_counters, sockets_reset, 120);
VIGIL_PIN_AT(vigil_counters, budget_contended, 128);

VIGIL_PIN_SIZE(vigil_connect_reports, 16);
VIGIL_PIN_AT(vigil_connect_reports, since_ns, 0);
VIGIL_PIN_AT(vigil_connect_reports, n, 8);
VIGIL_PIN_AT(vigil_connect_reports, pad, 12);

VIGIL_PIN_SIZE(vigil_copy_key, 24);
VIGIL_PIN_AT(vigil_copy_key, dev, 0);
VIGIL_PIN_AT(vigil_copy_key, ino, 8);
VIGIL_PIN_AT(vigil_copy_key, tgid, 16);
VIGIL_PIN_AT(vigil_copy_key, pad, 20);

VIGIL_PIN_SIZE(vigil_ev_header, 16);
VIGIL_PIN_AT(vigil_ev_header, type, 0);
VIGIL_PIN_AT(vigil_ev_header, size, 2);
VIGIL_PIN_AT(vigil_ev_header, tgid, 4);
VIGIL_PIN_AT(vigil_ev_header, ktime_ns, 8);

VIGIL_PIN_SIZE(vigil_ev_taint, 584);
VIGIL_PIN_AT(vigil_ev_taint, hdr, 0);
VIGIL_PIN_AT(vigil_ev_taint, ppid, 16);
VIGIL_PIN_AT(vigil_ev_taint, from_tgid, 20);
VIGIL_PIN_AT(vigil_ev_taint, via, 24);
VIGIL_PIN_AT(vigil_ev_taint, set_mask, 28);
VIGIL_PIN_AT(vigil_ev_taint, file_id, 32);
VIGIL_PIN_AT(vigil_ev_taint, depth, 36);
VIGIL_PIN_AT(vigil_ev_taint, uid, 40);
VIGIL_PIN_AT(vigil_ev_taint, pad, 44);
VIGIL_PIN_AT(vigil_ev_taint, cgroup_id, 48);
VIGIL_PIN_AT(vigil_ev_taint, comm, 56);
VIGIL_PIN_AT(vigil_ev_taint, args, 72);

VIGIL_PIN_SIZE(vigil_ev_proc, 48);
VIGIL_PIN_AT(vigil_ev_proc, hdr, 0);
VIGIL_PIN_AT(vigil_ev_proc, ppid, 16);
VIGIL_PIN_AT(vigil_ev_proc, exit_code, 20);
VIGIL_PIN_AT(vigil_ev_proc, bytes_read, 24);
VIGIL_PIN_AT(vigil_ev_proc, comm, 32);

VIGIL_PIN_SIZE(vigil_ev_flow, 104);
VIGIL_PIN_AT(vigil_ev_flow, hdr, 0);
VIGIL_PIN_AT(vigil_ev_flow, key, 16);
VIGIL_PIN_AT(vigil_ev_flow, bytes, 40);
VIGIL_PIN_AT(vigil_ev_flow, blocked_bytes, 48);
VIGIL_PIN_AT(vigil_ev_flow, set_mask, 56);
VIGIL_PIN_AT(vigil_ev_flow, reason, 60);
VIGIL_PIN_AT(vigil_ev_flow, content, 64);
VIGIL_PIN_AT(vigil_ev_flow, lport, 96);
VIGIL_PIN_AT(vigil_ev_flow, inbound, 98);
VIGIL_PIN_AT(vigil_ev_flow, pad, 99);

VIGIL_PIN_SIZE(vigil_ev_connect, 72);
VIGIL_PIN_AT(vigil_ev_connect, hdr, 0);
VIGIL_PIN_AT(vigil_ev_connect, key, 16);
VIGIL_PIN_AT(vigil_ev_connect, set_mask, 40);
VIGIL_PIN_AT(vigil_ev_connect, denied, 44);
VIGIL_PIN_AT(vigil_ev_connect, op, 48);
VIGIL_PIN_AT(vigil_ev_connect, pad, 52);
VIGIL_PIN_AT(vigil_ev_connect, comm, 56);

VIGIL_PIN_SIZE(vigil_ev_copy, 824);
VIGIL_PIN_AT(vigil_ev_copy, hdr, 0);
VIGIL_PIN_AT(vigil_ev_copy, dev, 16);
VIGIL_PIN_AT(vigil_ev_copy, ino, 24);
VIGIL_PIN_AT(vigil_ev_copy, file_id, 32);
VIGIL_PIN_AT(vigil_ev_copy, set_mask, 36);
VIGIL_PIN_AT(vigil_ev_copy, src_file_id, 40);
VIGIL_PIN_AT(vigil_ev_copy, depth, 44);
VIGIL_PIN_AT(vigil_ev_copy, nnames, 48);
VIGIL_PIN_AT(vigil_ev_copy, via, 52);
VIGIL_PIN_AT(vigil_ev_copy, names, 56);

VIGIL_PIN_SIZE(vigil_ev_control, 88);
VIGIL_PIN_AT(vigil_ev_control, hdr, 0);
VIGIL_PIN_AT(vigil_ev_control, kind, 16);
VIGIL_PIN_AT(vigil_ev_control, set_mask, 20);
VIGIL_PIN_AT(vigil_ev_control, uid, 24);
VIGIL_PIN_AT(vigil_ev_control, killed, 28);
VIGIL_PIN_AT(vigil_ev_control, arg, 32);
VIGIL_PIN_AT(vigil_ev_control, comm, 40);
VIGIL_PIN_AT(vigil_ev_control, detail, 56);

VIGIL_PIN_SIZE(vigil_ev_tamper, 56);
VIGIL_PIN_AT(vigil_ev_tamper, hdr, 0);
VIGIL_PIN_AT(vigil_ev_tamper, target_tgid, 16);
VIGIL_PIN_AT(vigil_ev_tamper, sig, 20);
VIGIL_PIN_AT(vigil_ev_tamper, uid, 24);
VIGIL_PIN_AT(vigil_ev_tamper, result, 28);
VIGIL_PIN_AT(vigil_ev_tamper, comm, 32);
VIGIL_PIN_AT(vigil_ev_tamper, obj_kind, 48);
VIGIL_PIN_AT(vigil_ev_tamper, obj_id, 52);

VIGIL_PIN_SIZE(vigil_own_key, 8);
VIGIL_PIN_AT(vigil_own_key, kind, 0);
VIGIL_PIN_AT(vigil_own_key, id, 4);

VIGIL_PIN_SIZE(vigil_watch_key, 16);
VIGIL_PIN_AT(vigil_watch_key, a, 0);
VIGIL_PIN_AT(vigil_watch_key, b, 8);

VIGIL_PIN_SIZE(vigil_watch, 16);
VIGIL_PIN_AT(vigil_watch, kind, 0);
VIGIL_PIN_AT(vigil_watch, id, 4);
VIGIL_PIN_AT(vigil_watch, name_hash, 8);

VIGIL_PIN_SIZE(vigil_ev_kill, 72);
VIGIL_PIN_AT(vigil_ev_kill, hdr, 0);
VIGIL_PIN_AT(vigil_ev_kill, key, 16);
VIGIL_PIN_AT(vigil_ev_kill, set_mask, 40);
VIGIL_PIN_AT(vigil_ev_kill, done, 44);
VIGIL_PIN_AT(vigil_ev_kill, comm, 48);
VIGIL_PIN_AT(vigil_ev_kill, content, 64);
VIGIL_PIN_AT(vigil_ev_kill, inbound, 65);
VIGIL_PIN_AT(vigil_ev_kill, lport, 66);
VIGIL_PIN_AT(vigil_ev_kill, why, 68);
VIGIL_PIN_AT(vigil_ev_kill, pad, 69);

/* vigil_content.h: content statistics, TLS plaintext per flow, DNS shape */
VIGIL_PIN_SIZE(vigil_content, 32);
VIGIL_PIN_AT(vigil_content, sampled, 0);
VIGIL_PIN_AT(vigil_content, binary, 4);
VIGIL_PIN_AT(vigil_content, encoded, 8);
VIGIL_PIN_AT(vigil_content, samples, 12);
VIGIL_PIN_AT(vigil_content, last_len, 16);
VIGIL_PIN_AT(vigil_content, last_distinct, 18);
VIGIL_PIN_AT(vigil_content, last_nontext, 20);
VIGIL_PIN_AT(vigil_content, last_encoded, 22);
VIGIL_PIN_AT(vigil_content, class, 24);
VIGIL_PIN_AT(vigil_content, last_class, 25);
VIGIL_PIN_AT(vigil_content, flags, 26);
VIGIL_PIN_AT(vigil_content, pad, 27);

VIGIL_PIN_SIZE(vigil_tls_flow, 16);
VIGIL_PIN_AT(vigil_tls_flow, plaintext_bytes, 0);
VIGIL_PIN_AT(vigil_tls_flow, samples, 8);
VIGIL_PIN_AT(vigil_tls_flow, class, 12);
VIGIL_PIN_AT(vigil_tls_flow, lib, 13);
VIGIL_PIN_AT(vigil_tls_flow, flags, 14);
VIGIL_PIN_AT(vigil_tls_flow, pad, 15);

VIGIL_PIN_SIZE(vigil_dns_shape, 16);
VIGIL_PIN_AT(vigil_dns_shape, name_len, 0);
VIGIL_PIN_AT(vigil_dns_shape, qtype, 2);
VIGIL_PIN_AT(vigil_dns_shape, labels, 4);
VIGIL_PIN_AT(vigil_dns_shape, max_label, 5);
VIGIL_PIN_AT(vigil_dns_shape, entropy_mbits, 6);
VIGIL_PIN_AT(vigil_dns_shape, flags, 8);
VIGIL_PIN_AT(vigil_dns_shape, max_segment, 9);
VIGIL_PIN_AT(vigil_dns_shape, pad, 10);

#endif /* VIGIL_LAYOUT_H */
