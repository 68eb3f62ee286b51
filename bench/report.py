"""Render bench results (.output/bench/results.json) as text and as
docs/PERFORMANCE.md. The findings section is bench/findings.md, kept by hand
(it interprets the figures; the tables are regenerated on every full run)."""
import json
import os
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))


def _mib(b):
    return b / (1 << 20)


def _ratio(s):
    return "%.3f" % s["ratio_median"]


def _range(s):
    return "%.3f–%.3f" % (s["ratio_min"], s["ratio_max"])


def _target(s):
    if s["target"] is None:
        return "—", "—"
    return "≤ %.2f" % s["target"], "yes" if s["pass"] else "**no**"


def leak_summary(rows):
    by = {}
    for r in rows:
        by.setdefault((r["proto"], r["chunk"]), []).append(r)
    out = []
    for (proto, chunk), rs in by.items():
        lat = [r["first_send_to_death_ms"] for r in rs if r["killed"]]
        out.append(dict(
            proto=proto, chunk=chunk, trials=len(rs),
            killed=sum(1 for r in rs if r["killed"]),
            received_min=min(r["received"] for r in rs),
            received_max=max(r["received"] for r in rs),
            over_budget_max=max(r["over_budget"] for r in rs),
            death_ms_median=statistics.median(lat) if lat else None,
            death_ms_max=max(lat) if lat else None,
            killed_by=sorted({k for r in rs for k in r.get("killed_by", [])}),
            dropped_max=max(r["packets_dropped"] for r in rs)))
    return out


def stats_floor(profile):
    """The cheapest mean run time of any program called >= 10,000 times in
    the profile runs: what bpf_stats' own two clock reads plus a program
    that returns at once cost on this machine. Subtracted per call to get a
    net share."""
    c = [v["avg_ns"] for p in profile.values() for v in p["progs"].values()
         if v["calls"] >= 10000]
    return min(c) if c else 0.0


def net_share(profile, name, floor):
    p = profile.get(name)
    if not p:
        return None
    net = sum(max(0.0, v["ns"] - v["calls"] * floor) for v in p["progs"].values())
    return 100.0 * net / 1e9 / p["elapsed_s"]


def capacity_text(r):
    lines = []
    st = r.get("storm")
    if st:
        lines.append("")
        lines.append("storm: %d protected files, %d tainted processes (%d in the kernel's taint "
                     "map), %d/%d fork+exec children denied, %d/%d connects denied, control %s; "
                     "kernel state lost: %s" % (
                         st["protected_files"], st["workers"], st["workers_in_taint_map"],
                         st["fork_denied"], st["forks"], st["connect_denied"], st["connects"],
                         st["control_connect"], "NO" if st["ok"] else "YES"))
        lines.append("       events sent %d, lost %d (visible in agent_stats/agent_stop), agent "
                     "records %d, alerts %d, agent CPU %.0f ms, peak RSS %.1f MiB" % (
                         st["kernel"]["events_sent"], st["kernel"]["events_lost"],
                         st["agent"]["records"], st["agent"]["alerts"], st["agent_cpu_ms"],
                         st.get("hwm_kib_before_stop", st["agent"]["max_rss_kib"]) / 1024))
    if r.get("leak"):
        lines.append("")
        for s in leak_summary(r["leak"]):
            lines.append("leak %s %6d B sends: killed %d/%d, sink received %d-%d B (budget 1 MiB), "
                         "past budget max %d B, first send -> death median %s ms, max %s ms" % (
                             s["proto"], s["chunk"], s["killed"], s["trials"],
                             s["received_min"], s["received_max"], s["over_budget_max"],
                             "%.2f" % s["death_ms_median"] if s["death_ms_median"] is not None
                             else "-", "%.2f" % s["death_ms_max"]
                             if s["death_ms_max"] is not None else "-"))
    ag = r.get("agent_side")
    if ag:
        lines.append("")
        lines.append("agent idle: %.2f ms CPU/s; a new directory under /root costs the agent "
                     "%.0f ms CPU (%d nested: %.0f ms); 100 new files: %.1f ms" % (
                         ag["idle_cpu_ms_per_s"], ag["new_dir_cpu_ms"], ag["nested_dirs"],
                         ag["nested_dirs_cpu_ms"], ag["new_files_cpu_ms"]))
    return "\n".join(lines)


def _summary_json(r):
    return dict(
        machine=r["machine"], scale=r["scale"], pairs=r["pairs"],
        workloads={s["name"]: dict(
            ratio_median=round(s["ratio_median"], 4), ratio_min=round(s["ratio_min"], 4),
            ratio_max=round(s["ratio_max"], 4), target=s["target"], met=s["pass"],
            a_median_s=round(s["a_median_s"], 4), b_median_s=round(s["b_median_s"], 4),
            agent_cpu_ms=round(s["agent_cpu_ms"], 1), events_sent=s["events_sent"],
            events_lost=s["events_lost"], max_rss_kib=s["max_rss_kib"],
            map_memlock=s["map_memlock"]) for s in r["workloads"]},
        storm=None if not r.get("storm") else {k: r["storm"][k] for k in (
            "protected_files", "workers", "workers_in_taint_map", "forks", "fork_denied",
            "connects", "connect_denied", "control_connect", "ok")} | {
            "events_sent": r["storm"]["kernel"]["events_sent"],
            "events_lost": r["storm"]["kernel"]["events_lost"],
            "agent_records": r["storm"]["agent"]["records"]},
        leak=leak_summary(r["leak"]) if r.get("leak") else None,
        agent_side=r.get("agent_side"))


def _foreign_sections(path, generated):
    """The `## ` sections of the existing file whose titles this generator
    does not produce, each as a list of lines."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    out, cur, in_code = [], None, False
    for l in lines:
        if l.startswith("```"):
            in_code = not in_code
        if l.startswith("## ") and not in_code:
            if cur:
                out.append(cur)
            cur = [l] if l not in generated else None
            continue
        if cur is not None:
            cur.append(l)
    if cur:
        out.append(cur)
    return out


def write_doc(r, path):
    m = r["machine"]
    W = r["workloads"]
    L = []
    a = L.append
    a("# vigil performance")
    a("")
    a("What the agent costs a host that holds model weights, where it costs, and what it "
      "holds under load. Generated by `make bench` (`bench/run.sh`, code in `bench/`) from "
      "`.output/bench/results.json`; `bench/run.sh --docs` re-renders this file from the last "
      "results. The findings section at the end is `bench/findings.md`.")
    a("")
    a("## Machine")
    a("")
    a("| | |")
    a("|---|---|")
    a("| kernel | %s |" % m["kernel"])
    a("| CPU | %s, %d cores |" % (m["cpu"], m["cores"]))
    a("| memory | %.1f GiB |" % (m["mem_mib"] / 1024))
    a("| OS | %s |" % m["os"])
    a("| vigil | %s, tree `%s`, binary sha256 `%s…` |" % (
        m["vigil"], m.get("git", "?"), m.get("vigil_sha256", "?")))
    a("| date | %s |" % m["date"])
    a("| run | scale `%s`, %d A/B pairs per workload, %.0f s in all |" % (
        r["scale"], r["pairs"], r.get("runtime_s", 0)))
    a("")
    a("## Method")
    a("")
    a("- Every workload is a C program (`bench/workloads.c`) that times itself with "
      "`CLOCK_MONOTONIC` around the work only. It runs inside the cgroup `vigil-bench`, which "
      "is the agent's `--cgroup` scope.")
    a("- **A** = no agent loaded. **B** = `vigil run --cgroup <bench cgroup> --protect "
      "'<data>/weights/**' --alerts FILE --stats-interval 0` on the embedded default rules, "
      "monitor mode (enforce with `--allow 10.213.4.2:5302` for `tainted-egress`). The agent "
      "is started fresh for each B run and the run begins after `agent_start`.")
    a("- Before each B run one process in the scope reads 4 KiB of a protected file while "
      "holding a pipe (`workloads prime`): the agent is then in its steady state (a pipe has "
      "been marked, `vg_pipe_gen > 0`), where every untainted sender pays the pipe check.")
    a("- Pairs alternate A, B, A, B …; each A or B is the mean of %d back-to-back runs (one "
      "agent for a B block); the figure is the **median of the per-pair ratios B/A**, with "
      "min–max. One unmeasured A run warms up first. The data files are kept in the page "
      "cache for the whole run by a process (outside the scope) that maps them: this VM "
      "pages out unmapped page cache that is idle for a minute (DAMON `pageout`)." %
      (W[0].get("reps", 1) if W else 1))
    a("- Workloads run on CPU 0 and receivers (forked receivers, the sinks) on CPU 1: "
      "unpinned, sender/receiver placement alone changed veth throughput up to 2×. The "
      "agent is not pinned.")
    a("- This VM is shared with other sessions (test suites that load their own vigil agents "
      "host-wide). Each run starts only when no other vigil agent is loaded and the machine "
      "is idle; a pair in which other agents appeared or other work used more than %s%% of a "
      "CPU is measured again." % os.environ.get("BENCH_FOREIGN_MAX", "15"))
    a("- Agent CPU = CPU time of all agent threads during the workload "
      "(`/proc/PID/task/*/schedstat`), plus 0.25 s after it. Events and losses come "
      "from the agent's `agent_stop` line (kernel counters `events_sent`, `events_lost`). "
      "Peak RSS is the agent's `VmHWM` just before it is stopped: `agent_stop`'s "
      "`max_rss_kib` (getrusage) also counts the RSS of the process that spawned the agent, "
      "which the exec'd agent inherits. Map memory is the `memlock` of the agent's `vg_*` "
      "map fds.")
    a("- The BPF profile is one extra B run per workload with `kernel.bpf_stats_enabled=1` "
      "(per-program `run_cnt`, `run_time_ns`); those runs are not used for ratios (the stats "
      "add two clock reads per program run).")
    a("")
    a("## Overhead: agent running vs. no agent")
    a("")
    P = r.get("profile") or {}
    floor = stats_floor(P)
    a("| workload | what | A (s) | B (s) | B/A median | B/A min–max | A/A′ noise | BPF share "
      "(raw / net) | target | met (B/A) | met (BPF net) | agent CPU | events sent | lost |")
    a("|---|---|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|---:|---:|---:|")
    for s in W:
        tgt, met = _target(s)
        noise = "—" if s.get("noise_aa_min") is None else "%.3f–%.3f" % (
            s["noise_aa_min"], s["noise_aa_max"])
        share = P.get(s["name"], {}).get("bpf_pct")
        net = net_share(P, s["name"], floor)
        pmet = "—" if s["target"] is None or net is None else (
            "yes" if net / 100 <= s["target"] - 1 else "**no**")
        a("| `%s` | %s | %.3f | %.3f | **%s** | %s | %s | %s | %s | %s | %s | %.1f ms (%.2f%%) "
          "| %d | %d |"
          % (s["name"], s["what"], s["a_median_s"], s["b_median_s"], _ratio(s), _range(s),
             noise, "—" if share is None else "%.2f%% / %.2f%%" % (share, net), tgt, met, pmet,
             s["agent_cpu_ms"], s["agent_cpu_pct"], s["events_sent"], s["events_lost"]))
    a("")
    a("A and B are the medians of the per-pair means (each pair: %d runs without the agent, "
      "then %d with one agent). *A/A′ noise* is the ratio of the two no-agent runs of a pair, "
      "min–max over the pairs: what this shared VM produces with no agent at all; a B/A "
      "inside that band is not distinguishable from noise. Agent CPU is per run (and as a "
      "share of the run's wall time). *BPF share* is the summed run time of vigil's BPF "
      "programs in the profile run over that run's wall time — a figure noise does not move. "
      "*Raw* includes `bpf_stats`' own cost (two clock reads per program run: %.0f ns per call "
      "on this VM, taken as the cheapest mean of any program called ≥ 10,000 times); *net* "
      "subtracts it per call, so it slightly under-counts. Neither includes the tracepoint "
      "dispatch around each program or the syscall slow path (see the findings); *met (BPF "
      "net)* compares the net share with the target. Events sent include the priming "
      "process's two (taint, "
      "exit). Every run's figures are in `.output/bench/results.json`." % (
          W[0].get("reps", 1) if W else 1, W[0].get("reps", 1) if W else 1, floor))
    a("")
    if W:
        rss = max(s["max_rss_kib"] for s in W)
        mm = max(s["map_memlock"] for s in W)
        maps = W[0]["runs"][0]["b"].get("maps", {})
        start = statistics.median(s["startup_ms"] for s in W)
        a("### Agent resources")
        a("")
        a("| | |")
        a("|---|---|")
        a("| peak RSS (max over all B runs) | **%.1f MiB** (target ≤ 64 MiB: %s) |" % (
            rss / 1024, "met" if rss <= 64 * 1024 else "**missed**"))
        a("| BPF map memory (`vg_*` memlock, default sizes) | **%.1f MiB** |" % _mib(mm))
        a("| startup to `agent_start` (default rules + bench set, median) | %.0f ms |" % start)
        a("| protected files / inotify-watched directories (default rules on this host) | %s / %s |"
          % (W[0]["runs"][0]["b"].get("protected_files"), W[0]["runs"][0]["b"].get("watched_dirs")))
        a("")
        if maps:
            a("| map | memlock |")
            a("|---|---:|")
            for k, v in sorted(maps.items(), key=lambda kv: -kv[1]):
                a("| `%s` | %.2f MiB |" % (k, _mib(v)))
            a("")
    P = r.get("profile") or {}
    if P:
        a("## Where the kernel-side time goes (BPF run time)")
        a("")
        a("One B run per workload with `kernel.bpf_stats_enabled=1`. *BPF share* is the summed "
          "run time of vigil's programs over the workload's wall time (2 CPUs, so up to 200%).")
        a("")
        a("| workload | BPF time | BPF share | programs (calls × mean ns) |")
        a("|---|---:|---:|---|")
        for name, p in P.items():
            top = sorted(p["progs"].items(), key=lambda kv: -kv[1]["ns"])[:4]
            a("| `%s` | %.1f ms | %.2f%% | %s |" % (
                name, p["bpf_ns"] / 1e6, p["bpf_pct"],
                "; ".join("`%s` %d × %.0f" % (k.replace("vigil_", ""), v["calls"], v["avg_ns"])
                          for k, v in top)))
        a("")
        # mean cost per program over all profiled workloads
        agg = {}
        for p in P.values():
            for k, v in p["progs"].items():
                c, t = agg.get(k, (0, 0))
                agg[k] = (c + v["calls"], t + v["ns"])
        a("| program | calls (all profile runs) | mean ns per call |")
        a("|---|---:|---:|")
        for k, (c, t) in sorted(agg.items(), key=lambda kv: -kv[1][1]):
            a("| `%s` | %d | %.0f |" % (k, c, t / c if c else 0))
        a("")
    st = r.get("storm")
    if st:
        k, ag = st["kernel"], st["agent"]
        a("## Capacity: event storm (enforce mode)")
        a("")
        a("%d protected files; %d processes in the scope each read %d of them (tainted); then "
          "each forks and execs `workloads connect-check` %d times (%d children, each must "
          "inherit the taint: its connect() to a non-allowlisted address must fail with EPERM); "
          "then each makes %d connect() calls (%d in all). A process that read nothing makes "
          "the same connect as a control. `--stats-interval 1`." % (
              st["protected_files"], st["workers"], st["files_read"] // max(st["workers"], 1),
              st["forks"] // max(st["workers"], 1), st["forks"],
              st["connects"] // max(st["workers"], 1), st["connects"]))
        a("")
        a("| | |")
        a("|---|---|")
        a("| tainted processes present in the kernel's `vg_taint` | **%d / %d** |" % (
            st["workers_in_taint_map"], st["workers"]))
        a("| fork+exec children denied (taint inherited) | **%d / %d** (connected: %d, other: %d)"
          " |" % (st["fork_denied"], st["forks"], st["fork_connected"], st["fork_other"]))
        a("| connects denied | **%d / %d** (connected: %d, other: %d) |" % (
            st["connect_denied"], st["connects"], st["connect_connected"], st["connect_other"]))
        a("| control connect (untainted) | %s |" % st["control_connect"])
        a("| kernel `taint_map_full` / `connects_denied` | %d / %d |" % (
            k["taint_map_full"], k["connects_denied"]))
        a("| **taint or enforcement state lost** | **%s** |" % ("none" if st["ok"] else "YES"))
        a("| events handed to userspace / lost (ring buffer full) | %d / **%d** |" % (
            k["events_sent"], k["events_lost"]))
        a("| agent records processed / alerts written | %d / %d |" % (ag["records"], ag["alerts"]))
        a("| `agent_stats` lines / of them showing losses | %d / %d |" % (
            st["stats_lines"], st["stats_lines_with_loss"]))
        a("| phases: taint / fork+exec / connects | %.2f s / %.2f s / %.2f s |" % (
            st["taint_s"], st["fork_s"], st["connect_s"]))
        a("| agent CPU / peak RSS / map memory | %.0f ms / %.1f MiB / %.1f MiB |" % (
            st["agent_cpu_ms"], st.get("hwm_kib_before_stop", ag["max_rss_kib"]) / 1024,
            _mib(st["map_memlock"])))
        a("")
        sp = r.get("storm_phases")
        if sp and sp.get("phases"):
            a("The same storm again, one phase at a time with 1 s between phases (events "
              "counted from the kernel's `vg_counters` after each phase): state lost: **%s**; "
              "events sent %d, lost %d." % ("none" if sp["ok"] else "YES",
                                            sp["kernel"]["events_sent"],
                                            sp["kernel"]["events_lost"]))
            a("")
            a("| phase | duration | events sent | events lost | rate |")
            a("|---|---:|---:|---:|---:|")
            for ph in sp["phases"]:
                a("| %s | %.2f s | %d | %d | %.0f events/s |" % (
                    ph["phase"], ph["secs"], ph["events_sent"], ph["events_lost"],
                    ph["events_sent"] / max(ph["secs"], 1e-3)))
            a("")
    if r.get("leak"):
        a("## Enforcement: leak at line rate")
        a("")
        a("Enforce mode, default budget 1 MiB (1,048,576 B) per set. A sender connects to the "
          "test host over the veth pair *before* it reads the weights (so `connect` is not "
          "refused), then reads the protected file and sends it as fast as it can: TCP "
          "`send()`s of 4 KiB, 64 KiB and 1 MiB, and connected-UDP datagrams of 1400 B. The sink "
          "in the namespace counts what arrives; the sender's parent times from the first "
          "`send()` to the sender's death (`waitpid`). A fresh agent (fresh budget) per trial.")
        a("")
        a("| sender | trials | killed | sink received (B) | past budget (max, B) | first send → "
          "death: median | max | killed by |")
        a("|---|---:|---:|---:|---:|---:|---:|---|")
        for s in leak_summary(r["leak"]):
            a("| %s, %d B sends | %d | %d | %d – %d | **%d** | %s ms | %s ms | %s |" % (
                s["proto"].upper(), s["chunk"], s["trials"], s["killed"], s["received_min"],
                s["received_max"], s["over_budget_max"],
                "%.2f" % s["death_ms_median"] if s["death_ms_median"] is not None else "—",
                "%.2f" % s["death_ms_max"] if s["death_ms_max"] is not None else "—",
                ", ".join(s["killed_by"]) or "—"))
        a("")
        a("A sink total below the budget is not a miss: when the send that would overrun "
          "is refused, the socket is marked blocked and whatever the sender had already "
          "queued in it is dropped too, even bytes within the budget.")
        a("")
        tv = [s for s in W if s["name"] == "tcp-veth"]
        if tv:
            nbytes = tv[0]["runs"][0]["a"]["workload_out"].get("bytes", 0)
            a("Line rate of this veth pair (median of the `tcp-veth` A runs): %.1f Gbit/s." % (
                nbytes * 8 / tv[0]["a_median_s"] / 1e9))
            a("")
    ag = r.get("agent_side")
    if ag:
        a("## Agent-side costs")
        a("")
        a("| | |")
        a("|---|---|")
        a("| idle agent CPU | %.2f ms per second |" % ag["idle_cpu_ms_per_s"])
        a("| idle RSS | %.1f MiB |" % (ag["rss_kib_idle"] / 1024))
        a("| one new directory under `/root` (default rules watch it: `/root/**/*.safetensors` …)"
          " | **%.0f ms** agent CPU |" % ag["new_dir_cpu_ms"])
        a("| %d nested directories created at once below it | %.0f ms |" % (
            ag["nested_dirs"], ag["nested_dirs_cpu_ms"]))
        a("| 100 new files there | %.1f ms |" % ag["new_files_cpu_ms"])
        a("| inotify-watched directories at startup | %s |" % ag["watched_dirs"])
        a("")
    def pshare(s):
        return net_share(P, s["name"], floor)
    missed = [s for s in W if s["target"] is not None and (
        s["pass"] is False or (pshare(s) is not None and pshare(s) / 100 > s["target"] - 1))]
    rssmiss = W and max(s["max_rss_kib"] for s in W) > 64 * 1024
    a("## Targets")
    a("")
    if not missed and not rssmiss:
        a("All targets met.")
    else:
        for s in missed:
            why = []
            if s["pass"] is False:
                why.append("B/A %.3f (%.3f–%.3f)" % (s["ratio_median"], s["ratio_min"],
                                                    s["ratio_max"]))
            if pshare(s) is not None and pshare(s) / 100 > s["target"] - 1:
                why.append("BPF share (net) %.2f%%" % pshare(s))
            note = ""
            if (s["pass"] is False and s.get("noise_aa_min") is not None and
                    s["noise_aa_min"] <= s["ratio_median"] <= s["noise_aa_max"] and
                    (pshare(s) is None or pshare(s) / 100 <= s["target"] - 1)):
                note = (" — inside this VM's A/A′ noise band (%.3f–%.3f) with a BPF share "
                        "within target: not distinguishable from noise" % (
                            s["noise_aa_min"], s["noise_aa_max"]))
            a("- `%s` (target ≤ %.2f): **missed** — %s%s" % (s["name"], s["target"],
                                                            ", ".join(why), note))
        if rssmiss:
            a("- agent RSS above 64 MiB — **missed**")
    met = [s for s in W if s["target"] is not None and s not in missed]
    if met:
        a("- met: %s" % ", ".join("`%s` %.3f (BPF share, net, %s)" % (
            s["name"], s["ratio_median"],
            "%.2f%%" % pshare(s) if pshare(s) is not None else "—") for s in met))
    if W and not rssmiss:
        a("- agent peak RSS %.1f MiB ≤ 64 MiB: met" % (max(s["max_rss_kib"] for s in W) / 1024))
    a("")
    fp = os.path.join(HERE, "findings.md")
    if os.path.exists(fp):
        with open(fp) as f:
            a(f.read().rstrip())
        a("")
    # Sections someone added by hand to the doc (not generated here) are kept.
    titles = {l for l in "\n".join(L).splitlines() if l.startswith("## ")}
    for sec in _foreign_sections(path, titles | {"## Summary (JSON)"}):
        L.extend(sec)
        if sec and sec[-1].strip():
            a("")
    a("## Summary (JSON)")
    a("")
    a("```json")
    a(json.dumps(_summary_json(r), indent=1))
    a("```")
    a("")
    with open(path, "w") as f:
        f.write("\n".join(L))
