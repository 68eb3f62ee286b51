#!/usr/bin/env python3
"""vigil benchmarks: what the agent costs the host, and what it holds under load.

Run through bench/run.sh (it builds the workloads first). For each workload,
A = no agent, B = agent running; pairs alternate A/B, and the result is the
median of the per-pair ratios B/A, with min-max. Then the capacity figures
(event storm) and enforcement figures (leak at line rate), then one profiling
run per workload with kernel.bpf_stats_enabled=1 (per-program BPF run time).

Everything runs as root inside one cgroup (vigil-bench, the agent's --cgroup
scope) and one network namespace joined by a veth pair (10.213.4.1/.2);
both are removed on exit, whatever happened. See bench/README.md.
"""
import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, ".output", "bench")
# The agent under test: .output/vigil (or BENCH_VIGIL), copied at start so a
# rebuild during the run cannot change it between A/B pairs.
VIGIL_SRC = os.environ.get("BENCH_VIGIL", os.path.join(ROOT, ".output", "vigil"))
VIGIL = os.path.join(ROOT, ".output", "bench", "vigil-under-test")
WL = os.path.join(OUT, "workloads")
DATA = os.environ.get("BENCH_DATA", os.path.join(OUT, "data"))
DOC = os.path.join(ROOT, "docs", "PERFORMANCE.md")

CG_NAME = "vigil-bench"
NS = "vigil-bench"
VH, VN = "vgbench-h", "vgbench-n"
HOST4, PEER4 = "10.213.4.1", "10.213.4.2"
PORT_BULK, PORT_TAINTED, PORT_LEAK_TCP, PORT_LEAK_UDP, PORT_STORM = 5301, 5302, 5303, 5304, 5305
PORT_TLS = 5316           # tls_send serve: the TLS workloads' peer
TLS_SEND = os.path.join(OUT, "tls_send")
BUDGET = 1 << 20          # the default rules' budget per set (1 MiB)

MIB, GIB = 1 << 20, 1 << 30


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def sh(*cmd, check=True, quiet=False):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r.stdout


class Stop(Exception):
    pass


def _on_signal(signum, frame):
    raise Stop("signal %d" % signum)


# ---------------------------------------------------------------- environment

class Env:
    """The bench cgroup, the test host (netns + veth), sinks, agents: all
    ours, all removed in cleanup()."""

    def __init__(self):
        self.cg = None
        self.sinks = []          # Popen
        self.agents = []         # Agent
        self.netns = False
        self.bpf_stats_old = None

    # cgroup ---------------------------------------------------------------
    def setup_cgroup(self):
        mnt = None
        with open("/proc/mounts") as f:
            for line in f:
                p = line.split()
                if p[2] == "cgroup2":
                    mnt = p[1]
                    break
        if not mnt:
            raise RuntimeError("no cgroup v2 mount")
        self.cg = os.path.join(mnt, CG_NAME)
        # the sinks (the "remote" hosts) live in a sibling cgroup, outside
        # the agent's scope, so their CPU time can be told apart
        self.sink_cg = os.path.join(mnt, CG_NAME + "-sink")
        self._remove_cgroup()
        os.mkdir(self.cg)
        os.mkdir(self.sink_cg)

    def _remove_cgroup(self):
        for cg in (getattr(self, "cg", None), getattr(self, "sink_cg", None)):
            if not cg or not os.path.isdir(cg):
                continue
            try:
                with open(os.path.join(cg, "cgroup.kill"), "w") as f:
                    f.write("1")
            except OSError:
                pass
            for _ in range(100):
                try:
                    os.rmdir(cg)
                    break
                except OSError:
                    time.sleep(0.05)

    def cg_cmd(self, cmd, cg=None):
        return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg or self.cg] + list(cmd)

    def cg_usage_ns(self, cg=None):
        try:
            with open(os.path.join(cg or self.cg, "cpu.stat")) as f:
                for l in f:
                    if l.startswith("usage_usec"):
                        return int(l.split()[1]) * 1000
        except OSError:
            pass
        return 0

    # network namespace ----------------------------------------------------
    def setup_netns(self):
        self._remove_netns()
        sh("ip", "netns", "add", NS)
        self.netns = True
        sh("ip", "link", "add", VH, "type", "veth", "peer", "name", VN)
        sh("ip", "link", "set", VN, "netns", NS)
        sh("ip", "addr", "add", HOST4 + "/30", "dev", VH)
        sh("ip", "link", "set", VH, "up")
        sh("ip", "-n", NS, "addr", "add", PEER4 + "/30", "dev", VN)
        sh("ip", "-n", NS, "link", "set", VN, "up")
        sh("ip", "-n", NS, "link", "set", "lo", "up")

    def _remove_netns(self):
        if NS in sh("ip", "netns", "list", check=False):
            for p in sh("ip", "netns", "pids", NS, check=False).split():
                try:
                    os.kill(int(p), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            sh("ip", "netns", "del", NS, check=False)
        sh("ip", "link", "del", VH, check=False)

    def sink(self, proto, port, idle_ms):
        """A receiver in the netns; one line per connection in the returned file."""
        out = os.path.join(OUT, "sink-%s-%d" % (proto, port))
        for f in (out, out + ".ready"):
            if os.path.exists(f):
                os.unlink(f)
        p = subprocess.Popen(self.cg_cmd(pinned(["ip", "netns", "exec", NS, WL, "sink", proto,
                                                 str(port), out, str(idle_ms)], BENCH_RX_CPU),
                                          self.sink_cg),
                             stdin=subprocess.DEVNULL)
        self.sinks.append(p)
        for _ in range(200):
            if os.path.exists(out + ".ready"):
                return out
            if p.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("sink %s/%d did not start" % (proto, port))

    def tls_sink(self, port):
        """`tls_send serve` in the netns (a throwaway certificate made
        here): the peer of the TLS workloads; what it reads goes nowhere."""
        cert, key = os.path.join(OUT, "tls-peer.pem"), os.path.join(OUT, "tls-peer.key")
        if not os.path.exists(cert):
            sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
               "/CN=" + PEER4, "-keyout", key, "-out", cert, quiet=True)
        p = subprocess.Popen(self.cg_cmd(pinned(["ip", "netns", "exec", NS, TLS_SEND, "serve",
                                                 str(port), cert, key], BENCH_RX_CPU),
                                          self.sink_cg),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.sinks.append(p)
        for _ in range(200):
            if (":%d " % port) in sh("ip", "netns", "exec", NS, "ss", "-Hltn", check=False):
                return
            if p.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("openssl s_server on %d did not start" % port)

    def hold(self, files):
        """Keep the data files in the page cache for the whole run (this VM
        pages out page cache that is unmapped and idle for a minute)."""
        p = subprocess.Popen(self.cg_cmd([WL, "hold"] + list(files), self.sink_cg),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        self.sinks.append(p)
        if not p.stdout.readline():
            raise RuntimeError("page-cache holder failed")

    # bpf stats --------------------------------------------------------------
    def bpf_stats(self, on):
        path = "/proc/sys/kernel/bpf_stats_enabled"
        if self.bpf_stats_old is None:
            with open(path) as f:
                self.bpf_stats_old = f.read().strip()
        with open(path, "w") as f:
            f.write("1" if on else self.bpf_stats_old)

    def cleanup(self):
        if getattr(self, "probe_dir", None):
            import shutil
            shutil.rmtree(self.probe_dir, ignore_errors=True)
        for a in list(self.agents):
            a.kill()
        for p in self.sinks:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        self.sinks = []
        self._remove_cgroup()
        if self.netns:
            self._remove_netns()
            self.netns = False
        if self.bpf_stats_old is not None:
            try:
                with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                    f.write(self.bpf_stats_old)
            except OSError:
                pass


# Workloads run on CPU 0, receivers (forked ones and the sinks) on CPU 1:
# where the scheduler happens to put sender and receiver changes veth and
# loopback throughput by up to 2x on this 2-CPU VM. BENCH_CPU="" disables.
BENCH_CPU = os.environ.get("BENCH_CPU", "0")
BENCH_RX_CPU = os.environ.get("BENCH_RX_CPU", "1" if BENCH_CPU else "")
os.environ["BENCH_RX_CPU"] = BENCH_RX_CPU


def pinned(cmd, cpu):
    return (["taskset", "-c", cpu] + list(cmd)) if cpu else list(cmd)


def run_in_cg(env, cmd, timeout=600, stdin=None):
    """Run a workload in the bench cgroup; its stdout goes to a file (not a
    pipe, so a tainted workload marks no pipe of ours); return the last JSON
    line it printed."""
    out = os.path.join(OUT, "run.out")
    err = os.path.join(OUT, "run.err")
    with open(out, "w") as fo, open(err, "w") as fe:
        r = subprocess.run(env.cg_cmd(pinned(cmd, BENCH_CPU)), stdin=stdin or subprocess.DEVNULL,
                           stdout=fo,
                           stderr=fe, timeout=timeout)
    with open(out) as f:
        lines = [l for l in f.read().splitlines() if l.startswith("{")]
    if r.returncode != 0 or not lines:
        with open(err) as f:
            msg = f.read().strip()
        raise RuntimeError("%s exited %d: %s" % (" ".join(cmd), r.returncode, msg[-500:]))
    return json.loads(lines[-1])


def cpu_busy_ns(steal=False):
    """Busy CPU time of the whole machine so far (all CPUs, /proc/stat:
    user nice system irq softirq), or with steal=True the time the
    hypervisor gave to other guests."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]] + [0] * 8
    tick = os.sysconf("SC_CLK_TCK")
    t = v[7] if steal else v[0] + v[1] + v[2] + v[5] + v[6]
    return t * 1_000_000_000 // tick


def wait_quiet(env, own, max_wait):
    """Wait until no other vigil agent is loaded and the machine is idle
    (other sessions' test suites share this host). Returns seconds waited."""
    if max_wait <= 0:
        return 0.0
    t0 = time.time()
    ncpu = os.cpu_count() or 1
    while True:
        b0 = cpu_busy_ns()
        time.sleep(0.5)
        busy = (cpu_busy_ns() - b0) / (0.5e9 * ncpu)
        if foreign_agents(own()) == 0 and busy < 0.10:
            return time.time() - t0
        if time.time() - t0 > max_wait:
            log("   (machine still busy after %.0f s: measuring anyway)" % max_wait)
            return time.time() - t0


class Meter:
    """CPU used during a run by everything that is not ours (the workload's
    cgroup, the sinks' cgroup, the agent): other sessions' work would skew
    the ratio, and such a run is redone."""

    def __init__(self, env, own, agent=None):
        self.env, self.own, self.agent = env, own, agent

    def __enter__(self):
        self.t = time.time()
        self.busy = cpu_busy_ns()
        self.steal = cpu_busy_ns(steal=True)
        self.ours = self._ours()
        return self

    def _ours(self):
        return (self.env.cg_usage_ns() + self.env.cg_usage_ns(self.env.sink_cg) +
                (self.agent.cpu_ns() if self.agent else 0))

    def __exit__(self, *exc):
        wall = time.time() - self.t
        foreign = (cpu_busy_ns() - self.busy) - (self._ours() - self.ours)
        self.foreign_pct = 100.0 * max(0, foreign) / 1e9 / max(wall, 1e-3)   # % of one CPU
        self.steal_pct = 100.0 * (cpu_busy_ns(steal=True) - self.steal) / 1e9 / max(wall, 1e-3)
        self.foreign_agents = foreign_agents(self.own())
        return False

    @property
    def clean(self):
        return (self.foreign_agents == 0 and self.foreign_pct < FOREIGN_MAX_PCT and
                self.steal_pct < FOREIGN_MAX_PCT)


FOREIGN_MAX_PCT = float(os.environ.get("BENCH_FOREIGN_MAX", "15"))


def foreign_agents(own):
    """vigil agents on this host that are not ours (tests running elsewhere
    load host-wide tracepoints too: they would skew both A and B)."""
    n = 0
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in own:
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[0].endswith(b"vigil") and argv[1] == b"run":
            n += 1
    return n


# ---------------------------------------------------------------------- agent

def bpftool_names(kind):
    try:
        return {x["id"]: x.get("name", "") for x in json.loads(sh("bpftool", kind, "show", "-j"))}
    except (RuntimeError, ValueError):
        return {}


class Agent:
    def __init__(self, env, tag, mode="monitor", protect=(), extra=(), stats_interval=0):
        self.env = env
        self.alerts = os.path.join(OUT, "agent-%s.jsonl" % tag)
        self.errf = os.path.join(OUT, "agent-%s.err" % tag)
        for f in (self.alerts,):
            if os.path.exists(f):
                os.unlink(f)
        args = [VIGIL, "run", "--cgroup", env.cg, "--alerts", self.alerts,
                "--stats-interval", str(stats_interval), "--mode", mode]
        for p in protect:
            args += ["--protect", p]
        args += list(extra)
        self.args = args
        self.proc = None
        self.start_line = None
        self.stop_line = None
        self.lines = []

    def start(self, timeout=60):
        nice = int(os.environ.get("BENCH_AGENT_NICE", "0"))
        with open(self.errf, "w") as e:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=e,
                                         preexec_fn=(lambda: os.nice(nice)) if nice else None)
        self.env.agents.append(self)
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError("agent exited %d: %s" % (self.proc.returncode,
                                                            open(self.errf).read()))
            for l in self._read():
                if l.get("kind") == "agent_start":
                    self.start_line = l
                    return self
            time.sleep(0.02)
        raise RuntimeError("agent did not start in %ds" % timeout)

    def _read(self):
        try:
            with open(self.alerts) as f:
                return [json.loads(l) for l in f if l.strip().startswith("{")]
        except (OSError, ValueError):
            return []

    @property
    def pid(self):
        return self.proc.pid

    def cpu_ns(self):
        """CPU time of every thread of the agent so far (schedstat, ns)."""
        tot = 0
        base = "/proc/%d/task" % self.pid
        for t in os.listdir(base):
            try:
                with open("%s/%s/schedstat" % (base, t)) as f:
                    tot += int(f.read().split()[0])
            except OSError:
                pass
        return tot

    def rss_kib(self, field="VmRSS:"):
        with open("/proc/%d/status" % self.pid) as f:
            for l in f:
                if l.startswith(field):
                    return int(l.split()[1])
        return 0

    def _bpf_fds(self):
        """(kind, fdinfo dict) for every BPF map and program fd the agent holds."""
        res = []
        base = "/proc/%d/fd" % self.pid
        for fd in os.listdir(base):
            try:
                link = os.readlink("%s/%s" % (base, fd))
                if link not in ("anon_inode:bpf-map", "anon_inode:bpf-prog"):
                    continue
                info = {}
                with open("/proc/%d/fdinfo/%s" % (self.pid, fd)) as f:
                    for l in f:
                        k, _, v = l.partition(":")
                        info[k.strip()] = v.strip()
                res.append((link[len("anon_inode:bpf-"):], info))
            except OSError:
                pass
        return res

    def maps(self):
        """{name: memlock bytes} of the agent's vg_* maps."""
        names = bpftool_names("map")
        seen, res = set(), {}
        for kind, info in self._bpf_fds():
            if kind != "map" or "map_id" not in info:
                continue
            mid = int(info["map_id"])
            name = names.get(mid, "")
            if mid in seen or not name.startswith("vg_"):
                continue
            seen.add(mid)
            res[name] = int(info.get("memlock", 0))
        return res

    def map_id(self, name):
        names = bpftool_names("map")
        for kind, info in self._bpf_fds():
            if kind == "map" and "map_id" in info and names.get(int(info["map_id"])) == name:
                return int(info["map_id"])
        return None

    def progs(self):
        """{name: (run_cnt, run_time_ns)} of the agent's programs."""
        names = bpftool_names("prog")
        seen, res = set(), {}
        for kind, info in self._bpf_fds():
            if kind != "prog" or "prog_id" not in info:
                continue
            pid = int(info["prog_id"])
            if pid in seen:
                continue
            seen.add(pid)
            res[names.get(pid, str(pid))] = (int(info.get("run_cnt", 0)),
                                             int(info.get("run_time_ns", 0)))
        return res

    def stop(self, timeout=30):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("agent did not stop on SIGTERM")
        rc = self.proc.returncode
        if self in self.env.agents:
            self.env.agents.remove(self)
        self.lines = self._read()
        for l in self.lines:
            if l.get("kind") == "agent_stop":
                self.stop_line = l
        if rc != 0 or not self.stop_line:
            raise RuntimeError("agent exited %s without agent_stop: %s" %
                               (rc, open(self.errf).read()[-500:]))
        return self.stop_line

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self in self.env.agents:
            self.env.agents.remove(self)


# ------------------------------------------------------------------ workloads

def data_paths(scale):
    """Files the workloads read, sized by scale ('full', 'quick', 'smoke')."""
    big = {"full": 4 * GIB, "quick": 1 * GIB, "smoke": 8 * MIB}[scale]
    tag = {"full": "4g", "quick": "1g", "smoke": "8m"}[scale]
    return {
        "weights": os.path.join(DATA, "weights", "model-%s.safetensors" % tag),
        "prime": os.path.join(DATA, "weights", "prime.safetensors"),
        "plain": os.path.join(DATA, "plain", "model-%s.bin" % tag),
        "src": os.path.join(DATA, "plain", "src.bin"),
        "dst": os.path.join(DATA, "plain", "dst.bin"),
        "small": os.path.join(DATA, "plain", "small"),
        "storm": os.path.join(DATA, "storm"),
        "big": big,
    }


def make_data(paths, nsmall, nstorm):
    os.makedirs(os.path.join(DATA, "weights"), exist_ok=True)
    os.makedirs(os.path.join(DATA, "plain"), exist_ok=True)
    for key in ("weights", "plain"):
        p = paths[key]
        if not os.path.exists(p) or os.path.getsize(p) != paths["big"]:
            log("  creating %s (%d MiB)" % (p, paths["big"] >> 20))
            sh(WL, "mkbig", p, str(paths["big"]))
    if not os.path.exists(paths["prime"]):
        sh(WL, "mkbig", paths["prime"], "65536")
    if not os.path.exists(paths["src"]):
        sh(WL, "mkbig", paths["src"], str(MIB))
    last = os.path.join(paths["small"], "f%05d" % (nsmall - 1))
    if not os.path.exists(last):
        log("  creating %d small files" % nsmall)
        sh(WL, "mkfiles", paths["small"], str(nsmall), "1024")
    last = os.path.join(paths["storm"], "f%05d" % (nstorm - 1))
    if nstorm and not os.path.exists(last):
        log("  creating %d protected files for the storm" % nstorm)
        sh(WL, "mkfiles", paths["storm"], str(nstorm), "4096")


def warm(path):
    with open(path, "rb") as f:
        while f.read(8 * MIB):
            pass


def workloads(paths, scale):
    """name -> spec. `size` scales each workload to 1-10 s unmonitored on a
    2-core VM (full), ~1/4 of that (quick) or a blink (smoke)."""
    f = {"full": 1.0, "quick": 0.25, "smoke": 0.002}[scale]

    def n(x, lo=1):
        return str(max(lo, int(x * f)))
    big = paths["big"]
    passes_seq = "1"
    return [
        dict(name="seqread", target=1.02,
             what="read() 1 MiB at a time of a %s protected file, page cache warm" % (
                 "%d GiB" % (big >> 30) if big >= GIB else "%d MiB" % (big >> 20)),
             cmd=[WL, "seqread", paths["weights"], passes_seq, "1M"], warm=paths["weights"]),
        dict(name="seqread-unprot", target=1.02,
             what="same on an unprotected file",
             cmd=[WL, "seqread", paths["plain"], passes_seq, "1M"], warm=paths["plain"]),
        dict(name="mmapread", target=1.02,
             what="mmap the protected file, touch every 4 KiB page, munmap; repeated",
             cmd=[WL, "mmapread", paths["weights"], {"full": "12", "quick": "12", "smoke": "2"}[scale]],
             warm=paths["weights"]),
        dict(name="smallio-file", target=1.05,
             what="1-byte read() + 1-byte write() on unprotected files (dd bs=1)",
             cmd=[WL, "smallio-file", paths["src"], paths["dst"], n(800_000)], warm=paths["src"]),
        dict(name="smallio-dev", target=1.05,
             what="1-byte read() of /dev/zero + write() to /dev/null",
             cmd=[WL, "smallio-dev", n(2_500_000)]),
        dict(name="openclose", target=1.05,
             what="open/read/close of 20,000 1 KiB files, 12 times",
             cmd=[WL, "openclose", paths["small"], n(20000) if scale == "smoke" else "20000",
                  "1" if scale == "smoke" else n(12)]),
        dict(name="tcp-lo", target=1.02,
             what="bulk TCP over loopback, 1 MiB sends",
             cmd=[WL, "tcp-lo", n(2 * GIB), "1M"]),
        dict(name="tcp-veth", target=1.02,
             what="bulk TCP over a veth pair to a namespace (cgroup egress hook)",
             cmd=[WL, "tcp-send", PEER4, str(PORT_BULK), n(2 * GIB), "1M"], sink="bulk"),
        dict(name="smallsend", target=1.05,
             what="100-byte send()s on one loopback TCP connection",
             cmd=[WL, "smallsend", n(1_200_000), "100"]),
        dict(name="signals", target=1.05,
             what="kill(self, SIGUSR1), ignored (the signal_generate hook)",
             cmd=[WL, "signals", n(3_000_000)]),
        dict(name="forkexec", target=1.05,
             what="fork + exec /bin/true + wait",
             cmd=[WL, "forkexec", n(1500), "/bin/true"]),
        # TLS (bpf/tls.bpf.c): HTTPS sends through OpenSSL, SSL_write of 16 KiB
        # (bulk) and 1 KiB (the uprobe's per-call cost shows); each also with
        # an agent started --hooks -uprobe, so B/B' is the uprobes' share
        dict(name="tls-untainted", target=1.02,
             what="untainted HTTPS sender, SSL_write 16 KiB (uprobe trap + bit test)",
             cmd=[TLS_SEND, PEER4, str(PORT_TLS), n(1 * GIB), "16384"]),
        dict(name="tls-untainted-1k", target=1.05,
             what="untainted HTTPS sender, SSL_write 1 KiB",
             cmd=[TLS_SEND, PEER4, str(PORT_TLS), n(256 * MIB), "1024"]),
        dict(name="tls-untainted-1k-nouprobe", target=1.05, extra=["--hooks", "-uprobe"],
             what="same, agent without the TLS uprobes (--hooks -uprobe)",
             cmd=[TLS_SEND, PEER4, str(PORT_TLS), n(256 * MIB), "1024"]),
        dict(name="tls-tainted", target=None,
             what="tainted HTTPS sender, SSL_write 16 KiB (a plaintext sample per write; "
                  "monitor: budget counted, nothing dropped)",
             cmd=[TLS_SEND, PEER4, str(PORT_TLS), n(1 * GIB), "16384", paths["prime"]]),
        dict(name="tls-tainted-1k", target=None,
             what="tainted HTTPS sender, SSL_write 1 KiB",
             cmd=[TLS_SEND, PEER4, str(PORT_TLS), n(256 * MIB), "1024", paths["prime"]]),
        dict(name="tls-tainted-1k-nouprobe", target=None, extra=["--hooks", "-uprobe"],
             what="same, agent without the TLS uprobes",
             cmd=[TLS_SEND, PEER4, str(PORT_TLS), n(256 * MIB), "1024", paths["prime"]]),
        dict(name="tainted-egress", target=None, mode="enforce",
             extra=["--allow", "%s:%d" % (PEER4, PORT_TAINTED)],
             what="tainted process, bulk TCP over veth to an allowlisted destination (enforce)",
             cmd=[WL, "tcp-send", PEER4, str(PORT_TAINTED), n(2 * GIB), "1M", paths["weights"]],
             sink="tainted", warm=paths["weights"]),
        dict(name="tainted-egress-mon", target=None, mode="monitor",
             what="same to a destination that is not allowlisted (monitor: every packet "
                  "counted against flow and budget, reported, nothing dropped)",
             cmd=[WL, "tcp-send", PEER4, str(PORT_TAINTED), n(2 * GIB), "1M", paths["weights"]],
             sink="tainted", warm=paths["weights"]),
        dict(name="tainted-egress-nosample", target=None, mode="monitor",
             extra=["--test-fault", "no-content"],
             what="tainted-egress-mon with content sampling off (its A/B: the classifier's "
                  "cost per send and packet, profile pass)",
             cmd=[WL, "tcp-send", PEER4, str(PORT_TAINTED), n(2 * GIB), "1M", paths["weights"]],
             sink="tainted", warm=paths["weights"]),
        dict(name="tainted-small-mon", target=None, mode="monitor",
             what="tainted process, 1400-byte sends over veth to a destination that is not "
                  "allowlisted (monitor: every send sampled)",
             cmd=[WL, "tcp-send", PEER4, str(PORT_TAINTED), n(256 << 20), "1400",
                  paths["weights"]],
             sink="tainted", warm=paths["weights"]),
        dict(name="tainted-small-nosample", target=None, mode="monitor",
             extra=["--test-fault", "no-content"],
             what="tainted-small-mon with content sampling off",
             cmd=[WL, "tcp-send", PEER4, str(PORT_TAINTED), n(256 << 20), "1400",
                  paths["weights"]],
             sink="tainted", warm=paths["weights"]),
    ]


def agent_for(env, wl, paths, tag):
    return Agent(env, tag, mode=wl.get("mode", "monitor"),
                 protect=[os.path.join(DATA, "weights") + "/**"], extra=wl.get("extra", []))


def prime(env, paths):
    """Put the agent in its steady state: one tainted process has marked a
    pipe (vg_pipe_gen > 0), as after any model load in a shell pipeline;
    untainted senders then pay the pipe check, not the gen == 0 shortcut."""
    subprocess.run(env.cg_cmd([WL, "prime", paths["prime"]]), check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    time.sleep(0.3)


def run_b(env, wl, paths, tag, bpf_stats=False, reps=1):
    """`reps` runs with one agent: start, prime, snapshot, workload x reps,
    snapshot, stop."""
    a = agent_for(env, wl, paths, tag).start()
    meters, outs = [], []
    try:
        prime(env, paths)
        maps = a.maps()
        progs0 = a.progs() if bpf_stats else None
        c0 = a.cpu_ns()
        for _ in range(reps):
            with Meter(env, own_pids(env), a) as m:
                outs.append(run_in_cg(env, wl["cmd"]))
            meters.append(m)
        time.sleep(0.25)   # let the agent finish what the workload handed it
        c1 = a.cpu_ns()
        progs1 = a.progs() if bpf_stats else None
        rss_now = a.rss_kib()
        hwm_now = a.rss_kib("VmHWM:")
        stop = a.stop()
    finally:
        a.kill()
    k, ag = stop["kernel"], stop["agent"]
    el = [r["elapsed_s"] for r in outs]
    res = dict(elapsed_s=statistics.mean(el), elapsed_reps=el, workload_out=outs[0],
               agent_cpu_ms=(c1 - c0) / 1e6 / reps,
               agent_cpu_total_ms=(ag["cpu_user_us"] + ag["cpu_sys_us"]) / 1e3,
               events_sent=k["events_sent"], events_lost=k["events_lost"],
               records=ag["records"], alerts=ag["alerts"],
               max_rss_kib=ag["max_rss_kib"], rss_kib_end=rss_now, hwm_kib_before_stop=hwm_now,
               map_memlock=sum(maps.values()), maps=maps,
               startup_ms=a.start_line.get("startup_ms"),
               protected_files=a.start_line.get("protected_files"),
               watched_dirs=a.start_line.get("watched_dirs"),
               kernel=k, foreign_pct=max(m.foreign_pct for m in meters),
               foreign_agents=max(m.foreign_agents for m in meters),
               steal_pct=max(m.steal_pct for m in meters),
               clean=all(m.clean for m in meters))
    if bpf_stats:
        res["progs"] = {p: (progs1[p][0] - progs0.get(p, (0, 0))[0],
                            progs1[p][1] - progs0.get(p, (0, 0))[1]) for p in progs1}
    return res


def run_a(env, wl, reps=1):
    meters, outs = [], []
    for _ in range(reps):
        with Meter(env, own_pids(env)) as m:
            outs.append(run_in_cg(env, wl["cmd"]))
        meters.append(m)
    el = [r["elapsed_s"] for r in outs]
    return dict(elapsed_s=statistics.mean(el), elapsed_reps=el, workload_out=outs[0],
                foreign_pct=max(m.foreign_pct for m in meters),
                foreign_agents=max(m.foreign_agents for m in meters),
                steal_pct=max(m.steal_pct for m in meters), clean=all(m.clean for m in meters))


def own_pids(env):
    return lambda: {os.getpid()} | {a.pid for a in env.agents if a.proc}


def summarize(wl, pairs):
    ratios = [b["elapsed_s"] / a["elapsed_s"] for a, b in pairs]
    bs = [b for _, b in pairs]
    med = statistics.median(ratios)
    s = dict(name=wl["name"], what=wl["what"], target=wl["target"],
             mode=wl.get("mode", "monitor"), pairs=len(pairs),
             ratio_median=med, ratio_min=min(ratios), ratio_max=max(ratios), ratios=ratios,
             a_median_s=statistics.median(a["elapsed_s"] for a, _ in pairs),
             b_median_s=statistics.median(b["elapsed_s"] for b in bs),
             agent_cpu_ms=statistics.median(b["agent_cpu_ms"] for b in bs),
             agent_cpu_total_ms=statistics.median(b["agent_cpu_total_ms"] for b in bs),
             events_sent=int(statistics.median(b["events_sent"] for b in bs)),
             events_lost=max(b["events_lost"] for b in bs),
             records=int(statistics.median(b["records"] for b in bs)),
             # VmHWM of the agent's own mm: the agent_stop max_rss_kib
             # (getrusage) also counts the RSS of whoever spawned it (the
             # exec'd process inherits the spawner's maxrss), here bench.py
             max_rss_kib=max(b.get("hwm_kib_before_stop") or b["max_rss_kib"] for b in bs),
             rusage_max_rss_kib=max(b["max_rss_kib"] for b in bs),
             map_memlock=max(b["map_memlock"] for b in bs),
             startup_ms=statistics.median(b["startup_ms"] or 0 for b in bs),
             foreign_agents=max(max(a.get("foreign_agents", 0), b.get("foreign_agents", 0))
                                for a, b in pairs),
             foreign_pct_max=max(max(a.get("foreign_pct", 0), b.get("foreign_pct", 0))
                                 for a, b in pairs),
             dirty_pairs_kept=sum(1 for a, _ in pairs if a.get("kept_dirty")),
             runs=[dict(a=a, b=b) for a, b in pairs])
    s["agent_cpu_pct"] = 100.0 * s["agent_cpu_ms"] / 1e3 / s["b_median_s"]
    # the noise floor: the same workload, no agent, twice in a row (A/A')
    aa = [a["elapsed_reps"][1] / a["elapsed_reps"][0] for a, _ in pairs
          if len(a.get("elapsed_reps", [])) > 1]
    s["noise_aa_min"] = min(aa) if aa else None
    s["noise_aa_max"] = max(aa) if aa else None
    s["reps"] = len(pairs[0][0].get("elapsed_reps", [1]))
    s["pass"] = None if wl["target"] is None else med <= wl["target"]
    return s


def bench_workloads(env, cfg, paths, only):
    res = []
    own = own_pids(env)
    for wl in workloads(paths, cfg.scale):
        if only and wl["name"] not in only:
            continue
        log("== %s: %s" % (wl["name"], wl["what"]))
        if wl.get("warm"):
            warm(wl["warm"])
        run_a(env, wl)    # warm-up, not counted
        pairs, dirty, waited = [], 0, 0.0
        while len(pairs) < cfg.pairs:
            waited += wait_quiet(env, own, cfg.quiet_max)
            a = run_a(env, wl, cfg.reps)
            waited += wait_quiet(env, own, cfg.quiet_max)
            b = run_b(env, wl, paths, "%s-%d" % (wl["name"], len(pairs)), reps=cfg.reps)
            ok = a["clean"] and b["clean"]
            log("   pair %d: A %.3fs  B %.3fs  ratio %.4f  agent cpu %.1f ms  events %d lost %d%s"
                % (len(pairs) + 1, a["elapsed_s"], b["elapsed_s"],
                   b["elapsed_s"] / a["elapsed_s"], b["agent_cpu_ms"], b["events_sent"],
                   b["events_lost"], "" if ok else
                   "  [other work: A %.0f%% B %.0f%% of a CPU, steal A %.0f%% B %.0f%%, "
                   "%d other agents; redo]"
                   % (a["foreign_pct"], b["foreign_pct"], a["steal_pct"], b["steal_pct"],
                      max(a["foreign_agents"], b["foreign_agents"]))))
            if ok or dirty >= cfg.max_redo:
                if not ok:
                    a["kept_dirty"] = True
                pairs.append((a, b))
            else:
                dirty += 1
        s = summarize(wl, pairs)
        s["redone_pairs"] = dirty
        s["quiet_wait_s"] = waited
        res.append(s)
        log("   median ratio %.4f (%.4f-%.4f)" % (s["ratio_median"], s["ratio_min"], s["ratio_max"]))
    return res


def profile_workloads(env, cfg, paths, only):
    """One agent run per workload with BPF run-time stats on: where the
    kernel-side time goes (the stats themselves add ~2 clock reads per call,
    so these runs are not used for ratios)."""
    res = {}
    env.bpf_stats(True)
    try:
        for wl in workloads(paths, cfg.scale):
            if only and wl["name"] not in only:
                continue
            if wl.get("warm"):
                warm(wl["warm"])
            wait_quiet(env, own_pids(env), cfg.quiet_max)
            b = run_b(env, wl, paths, "prof-%s" % wl["name"], bpf_stats=True)
            progs = {p: dict(calls=c, ns=t, avg_ns=(t / c if c else 0))
                     for p, (c, t) in b["progs"].items() if c}
            total = sum(v["ns"] for v in progs.values())
            res[wl["name"]] = dict(elapsed_s=b["elapsed_s"], bpf_ns=total,
                                   bpf_pct=100.0 * total / 1e9 / b["elapsed_s"], progs=progs)
            top = sorted(progs.items(), key=lambda kv: -kv[1]["ns"])[:3]
            log("   profile %-18s BPF %.1f ms (%.2f%% of %.2fs): %s" % (
                wl["name"], total / 1e6, res[wl["name"]]["bpf_pct"], b["elapsed_s"],
                ", ".join("%s %d x %.0f ns" % (p, v["calls"], v["avg_ns"]) for p, v in top)))
    finally:
        env.bpf_stats(False)
    return res


# -------------------------------------------------------------- capacity etc.

def bpftool_dump_keys(map_id):
    """Keys (as ints, for u32 keys) of a BPF map."""
    raw = json.loads(sh("bpftool", "map", "dump", "id", str(map_id), "-j"))
    keys = set()
    for e in raw:
        k = e.get("key")
        if isinstance(k, int):
            keys.add(k)
        elif isinstance(k, list):   # hex bytes, little endian
            keys.add(int.from_bytes(bytes(int(x, 16) for x in k[:4]), "little"))
        elif isinstance(e.get("formatted"), dict):
            keys.add(int(e["formatted"]["key"]))
    return keys


def kernel_counters(map_id):
    """(events_sent, events_lost) summed over CPUs, read from vg_counters."""
    raw = json.loads(sh("bpftool", "map", "dump", "id", str(map_id), "-j"))
    sent = lost = 0
    for e in raw:
        for v in e.get("values", []):
            b = bytes(int(x, 16) for x in v["value"]) if isinstance(v["value"], list) else b""
            if len(b) >= 16:
                sent += int.from_bytes(b[0:8], "little")
                lost += int.from_bytes(b[8:16], "little")
    return sent, lost


def bench_storm(env, cfg, paths, stepped=False):
    """Event storm in enforce mode: NPROCS tainted processes (each read
    NFILES/NPROCS of 10,000 protected files), a fork/exec storm of their
    children (each child must still be tainted: its connect() must fail with
    EPERM, the agent running with --deny-new-destinations), and a connect flood. Kernel state must lose nothing; userspace
    losses must be counted."""
    sz = dict(full=(10000, 1000, 10, 20), quick=(10000, 1000, 4, 8),
              smoke=(200, 20, 2, 2))[cfg.scale]
    nfiles, nprocs, forks, connects = sz
    log("== storm%s: %d protected files, %d tainted processes, %d fork+exec, %d connects"
        % (" (phase by phase, 1 s apart)" if stepped else " (back to back)",
           nfiles, nprocs, nprocs * forks, nprocs * connects))
    sink = env.sink("tcp", PORT_STORM + (10 if stepped else 0), 500)
    wait_quiet(env, own_pids(env), cfg.quiet_max)
    # --deny-new-destinations: a refused connect is how a child shows it
    # inherited the taint
    a = Agent(env, "storm", mode="enforce",
              protect=[os.path.join(DATA, "weights") + "/**", paths["storm"] + "/**"],
              extra=["--deny-new-destinations"], stats_interval=1).start(timeout=120)
    res = dict(protected_files=a.start_line.get("protected_files"),
               startup_ms=a.start_line.get("startup_ms"))
    c0 = a.cpu_ns()
    try:
        with open(os.path.join(OUT, "storm.err"), "w") as fe:
            p = subprocess.Popen(env.cg_cmd([WL, "storm", paths["storm"], str(nfiles), str(nprocs),
                                             str(forks), str(connects), PEER4,
                                             str(PORT_STORM + (10 if stepped else 0)), WL]),
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=fe,
                                 text=True, env=dict(os.environ, STORM_STEP="1" if stepped else ""))
        cid = a.map_id("vg_counters")
        phases, prev = [], kernel_counters(cid)
        while True:
            line = p.stdout.readline()
            if not line:
                p.wait(30)
                raise RuntimeError("storm failed: %s" %
                                   open(os.path.join(OUT, "storm.err")).read())
            r = json.loads(line)
            if "phase" not in r:
                break
            time.sleep(1.0)    # let the agent drain what it can
            cur = kernel_counters(cid)
            phases.append(dict(phase=r["phase"], secs=r["secs"], events_sent=cur[0] - prev[0],
                               events_lost=cur[1] - prev[1]))
            log("   phase %-8s %.2f s: events sent %d, lost %d" % (
                r["phase"], r["secs"], cur[0] - prev[0], cur[1] - prev[1]))
            prev = cur
            p.stdin.write("go\n")
            p.stdin.flush()
        res["phases"] = phases
        pids = r.pop("pids")
        # while the workers live: is every one of them in the kernel's taint map?
        keys = bpftool_dump_keys(a.map_id("vg_taint"))
        res["workers_in_taint_map"] = sum(1 for x in pids if x in keys)
        res["taint_map_entries"] = len(keys)
        p.stdin.write("release\n")
        p.stdin.close()
        p.wait(120)
        time.sleep(1.5)   # let the agent drain the ring buffer
        res["agent_cpu_ms"] = (a.cpu_ns() - c0) / 1e6
        res["rss_kib_end"] = a.rss_kib()
        res["hwm_kib_before_stop"] = a.rss_kib("VmHWM:")
        res["map_memlock"] = sum(a.maps().values())
        stop = a.stop()
    finally:
        a.kill()
    stats = [l for l in a.lines if l.get("kind") == "agent_stats"]
    res.update(r)
    res["kernel"] = stop["kernel"]
    res["agent"] = stop["agent"]
    res["stats_lines"] = len(stats)
    res["stats_lines_with_loss"] = sum(1 for l in stats if l["kernel"]["events_lost"])
    res["alerts_connect"] = sum(1 for l in a.lines if l.get("kind") == "alert")
    with open(sink) as f:
        res["sink_connections"] = len(f.read().split())
    k, ag = stop["kernel"], stop["agent"]
    ok = (res["workers_in_taint_map"] == nprocs and r["fork_denied"] == nprocs * forks and
          r["connect_denied"] == nprocs * connects and r["control_connect"] == "connected" and
          k["taint_map_full"] == 0 and r["read_errors"] == 0 and r["fork_failed"] == 0)
    res["state_lost"] = not ok
    res["ok"] = ok
    res["stepped"] = stepped
    log("   tainted in kernel %d/%d, fork children denied %d/%d, connects denied %d/%d, "
        "control %s" % (res["workers_in_taint_map"], nprocs, r["fork_denied"], nprocs * forks,
                        r["connect_denied"], nprocs * connects, r["control_connect"]))
    log("   events sent %d, lost %d, agent records %d, alerts %d, agent rss %d KiB, cpu %.0f ms"
        % (k["events_sent"], k["events_lost"], ag["records"], ag["alerts"], res["hwm_kib_before_stop"],
           res["agent_cpu_ms"]))
    return res


PROBE_DIR = os.environ.get("BENCH_PROBE_DIR", "/root/.vigil-bench-probe")


def wait_agent_idle(a, settle=1.0, timeout=300):
    """Until the agent used < 5 ms of CPU in `settle` seconds; its CPU ns then."""
    t0 = time.time()
    last = a.cpu_ns()
    while time.time() - t0 < timeout:
        time.sleep(settle)
        now = a.cpu_ns()
        if now - last < 5_000_000:
            return now
        last = now
    return a.cpu_ns()


def bench_agent_side(env, cfg, paths):
    """What the agent costs on its own: idle, and per new directory under a
    tree the default rules watch (/root/** holds weight-file globs: every
    directory created there is inotify'd and handled). The probe directory
    is removed afterwards."""
    import shutil
    env.probe_dir = PROBE_DIR
    a = Agent(env, "agent-side", protect=[os.path.join(DATA, "weights") + "/**"]).start()
    res = dict(watched_dirs=a.start_line.get("watched_dirs"),
               protected_files=a.start_line.get("protected_files"),
               startup_ms=a.start_line.get("startup_ms"), probe_dir=PROBE_DIR)
    try:
        if os.path.exists(PROBE_DIR):
            shutil.rmtree(PROBE_DIR)
        c = wait_agent_idle(a)
        time.sleep(5)
        res["idle_cpu_ms_per_s"] = (a.cpu_ns() - c) / 1e6 / 5
        res["rss_kib_idle"] = a.rss_kib()
        c = wait_agent_idle(a)
        os.mkdir(PROBE_DIR)
        res["new_dir_cpu_ms"] = (wait_agent_idle(a) - c) / 1e6
        n = 5 if cfg.scale != "smoke" else 1
        c = a.cpu_ns()
        os.makedirs(os.path.join(PROBE_DIR, *["d%d" % i for i in range(n)]))
        res["nested_dirs"] = n
        res["nested_dirs_cpu_ms"] = (wait_agent_idle(a) - c) / 1e6
        c = a.cpu_ns()
        for i in range(100):
            with open(os.path.join(PROBE_DIR, "f%d.txt" % i), "w") as f:
                f.write("x")
        res["new_files"] = 100
        res["new_files_cpu_ms"] = (wait_agent_idle(a) - c) / 1e6
        res["max_rss_kib"] = a.rss_kib("VmHWM:")
        res["rusage_max_rss_kib"] = a.stop()["agent"]["max_rss_kib"]
    finally:
        a.kill()
        shutil.rmtree(PROBE_DIR, ignore_errors=True)
    log("   agent idle %.2f ms CPU/s; one new dir under /root: %.0f ms CPU; %d nested: %.0f ms; "
        "100 new files: %.1f ms" % (res["idle_cpu_ms_per_s"], res["new_dir_cpu_ms"],
                                   res["nested_dirs"], res["nested_dirs_cpu_ms"],
                                   res["new_files_cpu_ms"]))
    return res


def sink_wait(path, nlines, timeout=15):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            with open(path) as f:
                v = f.read().split()
            if len(v) >= nlines:
                return int(v[nlines - 1])
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("sink %s: no result" % path)


def bench_leak(env, cfg, paths):
    """Enforce mode, default 1 MiB budget: a sender that connected before it
    read the weights streams them at full veth speed. The sink counts what
    arrived; the parent times from the first send to the sender's death."""
    variants = [("tcp", 4096), ("tcp", 65536), ("tcp", MIB), ("udp", 1400)]
    trials = dict(full=3, quick=1, smoke=1)[cfg.scale]
    if cfg.scale == "smoke":
        variants = [("tcp", 65536), ("udp", 1400)]
    sinks = {"tcp": env.sink("tcp", PORT_LEAK_TCP, 1000),
             "udp": env.sink("udp", PORT_LEAK_UDP, 1000)}
    counts = {"tcp": 0, "udp": 0}
    res = []
    for proto, chunk in variants:
        for t in range(trials):
            wait_quiet(env, own_pids(env), cfg.quiet_max)
            a = Agent(env, "leak", mode="enforce",
                      protect=[os.path.join(DATA, "weights") + "/**"]).start()
            try:
                port = PORT_LEAK_TCP if proto == "tcp" else PORT_LEAK_UDP
                r = run_in_cg(env, [WL, "leak", paths["weights"], PEER4, str(port), proto,
                                    str(chunk), str(64 * GIB)], timeout=60)
                counts[proto] += 1
                got = sink_wait(sinks[proto], counts[proto])
                time.sleep(0.2)
                stop = a.stop()
            finally:
                a.kill()
            alerts = [l for l in a.lines if l.get("kind") == "alert"]
            killed_by = sorted({l.get("killed_by", "kernel") for l in alerts
                                if l.get("action") == "killed"})
            row = dict(proto=proto, chunk=chunk, received=got,
                       over_budget=max(0, got - BUDGET), killed=r["killed"],
                       first_send_to_death_ms=r["first_send_to_death_ms"],
                       accepted_bytes=r["accepted_bytes"], sends=r["sends"],
                       kernel_kills=stop["kernel"]["kills"],
                       packets_dropped=stop["kernel"]["packets_dropped"],
                       killed_by=killed_by)
            res.append(row)
            log("   leak %s chunk %d: received %d (over budget %d), killed %s after %.2f ms"
                % (proto, chunk, got, row["over_budget"], r["killed"],
                   r["first_send_to_death_ms"]))
    return res


# --------------------------------------------------------------------- report

def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for l in f:
            if l.startswith("model name"):
                cpu = l.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    osr = "?"
    try:
        with open("/etc/os-release") as f:
            for l in f:
                if l.startswith("PRETTY_NAME="):
                    osr = l.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    import hashlib
    with open(VIGIL, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    rev = sh("git", "-C", ROOT, "rev-parse", "--short", "HEAD", check=False).strip()
    # only what goes into the agent counts (not bench/ or docs/)
    dirty = sh("git", "-C", ROOT, "status", "--porcelain", "--", "bpf", "include", "userspace",
               "rules", "Makefile", check=False).strip()
    return dict(kernel=platform.release(), cpu=cpu, cores=os.cpu_count(), mem_mib=mem, os=osr,
                date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                vigil=sh(VIGIL, "version", check=False).strip(), vigil_sha256=digest,
                vigil_path=VIGIL_SRC,
                git=(rev + (" + uncommitted agent changes" if dirty else "")) if rev else "?")


def fmt_table(results):
    lines = []
    hdr = ("workload", "A s", "B s", "ratio", "min-max", "A/A' noise", "target", "agent CPU",
           "events", "lost", "RSS MiB")
    lines.append("%-19s %6s %6s %6s %13s %13s %7s %14s %6s %4s %7s" % hdr)
    for s in results:
        tgt = "-" if s["target"] is None else "%.2f%s" % (s["target"], "" if s["pass"] else " !")
        noise = "-" if s.get("noise_aa_min") is None else "%.3f-%.3f" % (
            s["noise_aa_min"], s["noise_aa_max"])
        lines.append("%-19s %6.3f %6.3f %6.3f %13s %13s %7s %8.1f ms %3.1f%% %6d %4d %7.1f" % (
            s["name"], s["a_median_s"], s["b_median_s"], s["ratio_median"],
            "%.3f-%.3f" % (s["ratio_min"], s["ratio_max"]), noise, tgt, s["agent_cpu_ms"],
            s["agent_cpu_pct"], s["events_sent"], s["events_lost"], s["max_rss_kib"] / 1024))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true",
                    help="each workload once at a tiny size with the agent; non-zero on failure")
    ap.add_argument("--cleanup", action="store_true", help="remove a leftover cgroup/netns")
    ap.add_argument("--docs", action="store_true", help="only regenerate docs/PERFORMANCE.md "
                    "from .output/bench/results.json")
    args = ap.parse_args()

    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    only = set(x for x in os.environ.get("BENCH_ONLY", "").replace(",", " ").split() if x)
    scale = "smoke" if args.smoke else "quick" if quick else "full"
    pairs = int(os.environ.get("BENCH_PAIRS", "3" if quick else "5"))
    cfg = argparse.Namespace(scale=scale, pairs=pairs,
                             reps=int(os.environ.get("BENCH_REPS", "2")),
                             # a smoke run checks function, not speed: no waiting
                             quiet_max=0.0 if args.smoke else
                             float(os.environ.get("BENCH_QUIET_MAX", "600")),
                             max_redo=int(os.environ.get("BENCH_MAX_REDO", str(2 * pairs))))
    os.makedirs(OUT, exist_ok=True)

    if args.docs:
        import report
        with open(os.path.join(OUT, "results.json")) as f:
            report.write_doc(json.load(f), DOC)
        log("wrote %s" % DOC)
        return 0

    env = Env()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    if args.cleanup:
        env.setup_cgroup()
        env.netns = True
        env.cleanup()
        return 0
    if os.geteuid() != 0:
        log("bench: must run as root (BPF, cgroups, network namespaces)")
        return 2
    if not os.access(VIGIL_SRC, os.X_OK):
        log("bench: %s missing: run make first" % VIGIL_SRC)
        return 2
    import shutil
    shutil.copy2(VIGIL_SRC, VIGIL + ".tmp")
    os.replace(VIGIL + ".tmp", VIGIL)

    paths = data_paths(scale)
    want = lambda n: not only or n in only
    t_start = time.time()
    results = dict(machine=machine(), scale=scale, pairs=pairs,
                   only=sorted(only) if only else None, workloads=[], profile={},
                   storm=None, storm_phases=None, leak=None, agent_side=None)
    try:
        env.setup_cgroup()
        env.setup_netns()
        log("bench: scale %s, %d pairs, data in %s" % (scale, pairs, DATA))
        make_data(paths, nsmall=20000 if scale != "smoke" else 200,
                  nstorm=10000 if (scale != "smoke" and want("storm")) else 200)
        env.hold([paths["weights"], paths["plain"], paths["src"]])
        env.sink("tcp", PORT_BULK, 2000)
        env.sink("tcp", PORT_TAINTED, 2000)
        env.tls_sink(PORT_TLS)
        if args.smoke:
            return smoke(env, cfg, paths)
        results["workloads"] = bench_workloads(env, cfg, paths, only)
        if want("storm"):
            results["storm"] = bench_storm(env, cfg, paths)
            results["storm_phases"] = bench_storm(env, cfg, paths, stepped=True)
        if want("leak"):
            results["leak"] = bench_leak(env, cfg, paths)
        if want("agent-side"):
            wait_quiet(env, own_pids(env), cfg.quiet_max)
            results["agent_side"] = bench_agent_side(env, cfg, paths)
        if os.environ.get("BENCH_PROFILE", "1") != "0":
            results["profile"] = profile_workloads(env, cfg, paths, only)
    except Stop as e:
        log("bench: stopped (%s)" % e)
        return 130
    finally:
        env.cleanup()
    results["runtime_s"] = time.time() - t_start
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(fmt_table(results["workloads"]))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import report
    print(report.capacity_text(results))
    docs = os.environ.get("BENCH_DOCS")
    if docs == "1" or (docs is None and scale == "full" and not only):
        report.write_doc(results, DOC)
        log("wrote %s" % DOC)
    else:
        log("docs/PERFORMANCE.md not rewritten (partial or quick run; BENCH_DOCS=1 forces it)")
    log("results: %s (%.0f s)" % (os.path.join(OUT, "results.json"), results["runtime_s"]))
    return 0


def smoke(env, cfg, paths):
    """Each workload once, tiny, with the agent; a mini storm and a leak
    trial. Exit non-zero if anything fails or looks wrong."""
    fails = []
    for wl in workloads(paths, "smoke"):
        try:
            b = run_b(env, wl, paths, "smoke-" + wl["name"])
            log("ok   %-19s %.3fs  events %d lost %d" % (wl["name"], b["elapsed_s"],
                                                        b["events_sent"], b["events_lost"]))
            tainted = wl["name"] in ("seqread", "mmapread", "tainted-egress",
                                     "tainted-egress-mon")
            # prime taints one process; a tainted workload adds at least one event
            if tainted and b["events_sent"] < 2:
                fails.append("%s: no taint event from the agent" % wl["name"])
        except Exception as e:   # noqa: BLE001 - report and go on
            fails.append("%s: %s" % (wl["name"], e))
            log("FAIL %-19s %s" % (wl["name"], e))
    try:
        s = bench_storm(env, cfg, paths)
        if not s["ok"]:
            fails.append("storm: kernel state lost: %s" % json.dumps(s))
    except Exception as e:   # noqa: BLE001
        fails.append("storm: %s" % e)
    try:
        for row in bench_leak(env, cfg, paths):
            if row["over_budget"] or not row["killed"]:
                fails.append("leak: %s" % json.dumps(row))
    except Exception as e:   # noqa: BLE001
        fails.append("leak: %s" % e)
    for f in fails:
        log("FAIL %s" % f)
    log("smoke: %s" % ("ok" if not fails else "%d failed" % len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
