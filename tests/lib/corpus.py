#!/usr/bin/env python3
"""Content corpus for the classifier tests: what a model host sends (work)
and what a leak of its weights looks like (weights), byte for byte.

    corpus.py OUTDIR [--flows N] [--seed S]

writes OUTDIR/<class>.flows (records of u32 little-endian length + bytes,
one record per flow: the bytes one connection sends) and OUTDIR/manifest.tsv
(class, expected content class, file, "assert" or "report": blind spots are
measured and documented, not asserted). DNS queries (UDP payloads) go to
OUTDIR/dns.tsv the same way. Deterministic for a seed.

Weights are generated as training leaves them, never as random bytes (see
../shared/CONTENT-NOTES.md): BF16 and FP16 of N(0, 0.02), INT8 quantised per
block of 64 with a float scale. Their forms: raw, base64, base32, hex, base64
inside JSON, gzip, zstd (the zstd CLI), AES-256-CTR (the openssl CLI). A flow
of an encoded or compressed form is a slice from the middle of the encoded
stream, as a transfer cut into many connections would send it.
"""
import base64
import binascii
import gzip
import json
import math
import os
import random
import struct
import subprocess
import sys

FLOW_BYTES = 4096

WORDS = """the of and to in is that for it as was with be by on not he this are or
his from at which but have an they you were her she there been one all we their
has would when if so no will more can out said what up some time into could them
other than then now only its about over also new these two may first any like
model answer question data result example value because however therefore first
second function return string number list training evaluation prompt response
token context window language system user assistant paper method approach study
shows using based results performance large small important different following
""".split()
UNICODE_WORDS = ["naïve", "café", "über", "résumé", "東京", "データ", "модель",
                 "ответ", "señal", "Größe", "日本語", "→", "—", "…", "😀"]


def english(rng, nwords, unicode_rate=0.0):
    out = []
    for i in range(nwords):
        w = rng.choice(UNICODE_WORDS) if rng.random() < unicode_rate else rng.choice(WORDS)
        if i == 0 or out[-1].endswith("."):
            w = w.capitalize()
        if rng.random() < 0.08:
            w += rng.choice([".", ",", ".", "?", ";"])
        out.append(w)
    return " ".join(out) + "."


def b62(rng, n):
    a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(a) for _ in range(n))


def http_response(rng, body, ctype="application/json"):
    head = ("HTTP/1.1 200 OK\r\ndate: Tue, 01 Dec 2026 22:%02d:%02d GMT\r\n"
            "server: uvicorn\r\ncontent-length: %d\r\ncontent-type: %s\r\n"
            "x-request-id: %s\r\n\r\n" % (rng.randrange(60), rng.randrange(60),
                                          len(body), ctype,
                                          "%032x" % rng.getrandbits(128)))
    return head.encode() + body


def completion(rng):
    text = english(rng, rng.randrange(150, 600), unicode_rate=rng.choice([0, 0, 0.05]))
    doc = {"id": "chatcmpl-" + b62(rng, 29), "object": "text_completion",
           "created": 1796000000 + rng.randrange(10 ** 6), "model": "partner-13b",
           "choices": [{"index": 0, "text": text, "logprobs": None,
                        "finish_reason": rng.choice(["stop", "length"])}],
           "usage": {"prompt_tokens": rng.randrange(10, 900),
                     "completion_tokens": rng.randrange(10, 900),
                     "total_tokens": rng.randrange(20, 1800)}}
    return http_response(rng, json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode())


def chat(rng):
    """Chat completion, whole or streamed as server-sent events."""
    cid = "chatcmpl-" + b62(rng, 29)
    if rng.random() < 0.5:
        msg = {"role": "assistant", "content": english(rng, rng.randrange(100, 500))}
        doc = {"id": cid, "object": "chat.completion", "created": 1796000000,
               "model": "partner-13b", "system_fingerprint": "fp_" + "%010x" % rng.getrandbits(40),
               "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}]}
        return http_response(rng, json.dumps(doc, ensure_ascii=False).encode())
    out = []
    for w in english(rng, rng.randrange(100, 400)).split(" "):
        ev = {"id": cid, "object": "chat.completion.chunk", "created": 1796000000,
              "model": "partner-13b",
              "choices": [{"index": 0, "delta": {"content": w + " "}, "finish_reason": None}]}
        out.append("data: " + json.dumps(ev) + "\n\n")
    out.append("data: [DONE]\n\n")
    return http_response(rng, "".join(out).encode(), "text/event-stream")


def code(rng):
    """A code completion: Python in a JSON string (escaped newlines, quotes)."""
    lines = []
    for i in range(rng.randrange(10, 60)):
        ind = "    " * rng.randrange(0, 3)
        lines.append(ind + rng.choice([
            "def %s_%d(x, y=None):" % (rng.choice(WORDS), i),
            "return [v * %.3f for v in x if v > %d]" % (rng.random(), rng.randrange(100)),
            "self.%s = torch.zeros(%d, %d, dtype=torch.bfloat16)" % (
                rng.choice(WORDS), rng.randrange(4096), rng.randrange(4096)),
            "# %s" % english(rng, rng.randrange(3, 12)),
            "logger.info(\"step %%d loss %%.4f\", step, loss)",
            "if not os.path.exists(path): raise FileNotFoundError(path)"]))
    doc = {"id": "cmpl-" + b62(rng, 24), "object": "text_completion", "model": "partner-code",
           "choices": [{"index": 0, "text": "\n".join(lines), "finish_reason": "stop"}]}
    return http_response(rng, json.dumps(doc).encode())


def chat_cjk(rng):
    """Answers in languages whose UTF-8 is mostly bytes >= 0x80."""
    pieces = ["模型", "回答", "数据", "训练", "问题", "结果", "。", "，", "的", "是", "在",
              "データ", "モデル", "学習", "結果", "です", "、", "ます", "한국어", "모델", "데이터"]
    text = "".join(rng.choice(pieces) for _ in range(rng.randrange(200, 900)))
    doc = {"id": "chatcmpl-" + b62(rng, 29), "object": "chat.completion",
           "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
    return http_response(rng, json.dumps(doc, ensure_ascii=False).encode())


def kserve(rng):
    """A KServe/Triton v2 JSON inference response: logits as float text,
    and token ids."""
    n = rng.randrange(200, 1200)
    doc = {"model_name": "partner-13b", "id": "%032x" % rng.getrandbits(128),
           "outputs": [{"name": "logits", "datatype": "FP32", "shape": [1, n],
                        "data": [round(rng.gauss(0, 3), 5) for _ in range(n)]},
                       {"name": "ids", "datatype": "INT64", "shape": [1, 64],
                        "data": [rng.randrange(32000) for _ in range(64)]}]}
    return http_response(rng, json.dumps(doc).encode())


def embedding(rng):
    dim = rng.choice([384, 768, 1024, 1536])
    vec = []
    for _ in range(dim):
        v = rng.gauss(0, 0.05)
        vec.append(float("%.*g" % (rng.choice([6, 8, 10]), v)))
    doc = {"object": "list", "model": "partner-embed",
           "data": [{"object": "embedding", "index": 0, "embedding": vec}],
           "usage": {"prompt_tokens": rng.randrange(5, 500), "total_tokens": 0}}
    sep = rng.choice([(",", ":"), (", ", ": ")])
    return http_response(rng, json.dumps(doc, separators=sep).encode())


def logs(rng):
    lines = []
    for _ in range(rng.randrange(20, 60)):
        ts = "2026-12-01T22:%02d:%02d.%06dZ" % (rng.randrange(60), rng.randrange(60),
                                                rng.randrange(10 ** 6))
        kind = rng.random()
        if kind < 0.3:
            lines.append(json.dumps({"ts": ts, "level": rng.choice(["info", "debug", "warn"]),
                                     "msg": english(rng, rng.randrange(4, 15)),
                                     "request_id": "%08x-%04x-%04x-%04x-%012x" % (
                                         rng.getrandbits(32), rng.getrandbits(16),
                                         rng.getrandbits(16), rng.getrandbits(16),
                                         rng.getrandbits(48)),
                                     "latency_ms": round(rng.uniform(1, 900), 2)}))
        elif kind < 0.6:
            lines.append("%s INFO eval.worker[%d]: step=%d loss=%.5f lr=%.3e "
                         "tokens/s=%.1f trace=00-%032x-%016x-01" % (
                             ts, rng.randrange(1, 32768), rng.randrange(10 ** 6),
                             rng.uniform(0.5, 4), rng.uniform(1e-5, 1e-3),
                             rng.uniform(100, 9000), rng.getrandbits(128),
                             rng.getrandbits(64)))
        elif kind < 0.8:
            lines.append('10.%d.%d.%d - - [01/Dec/2026:22:%02d:%02d +0000] "POST /v1/completions '
                         'HTTP/1.1" 200 %d "-" "python-requests/2.31.0"' % (
                             rng.randrange(256), rng.randrange(256), rng.randrange(256),
                             rng.randrange(60), rng.randrange(60), rng.randrange(100, 9000)))
        else:
            lines.append("%s WARNING checkpoint /data/ckpt/step_%06d/model-%05d-of-00008.safetensors "
                         "sha256=%064x loaded in %.2fs" % (
                             ts, rng.randrange(10 ** 6), rng.randrange(8), rng.getrandbits(256),
                             rng.uniform(0.1, 30)))
    return ("\n".join(lines) + "\n").encode()


def prometheus(rng):
    out = []
    for name, kind in [("http_requests_total", "counter"),
                       ("inference_request_duration_seconds", "histogram"),
                       ("gpu_memory_used_bytes", "gauge"), ("tokens_generated_total", "counter"),
                       ("process_cpu_seconds_total", "counter"), ("queue_depth", "gauge")]:
        out.append("# HELP %s %s" % (name, english(rng, 6)))
        out.append("# TYPE %s %s" % (name, kind))
        if kind == "histogram":
            for le in ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]:
                out.append('%s_bucket{model="partner-13b",le="%s"} %d' % (
                    name, le, rng.randrange(10 ** 7)))
            out.append("%s_sum %.6f" % (name, rng.uniform(0, 1e5)))
            out.append("%s_count %d" % (name, rng.randrange(10 ** 7)))
        else:
            for code in ["200", "400", "429", "500"]:
                for method in ["get", "post"]:
                    out.append('%s{code="%s",method="%s",instance="10.0.%d.%d:9100"} %s %d' % (
                        name, code, method, rng.randrange(256), rng.randrange(256),
                        rng.choice(["%d" % rng.randrange(10 ** 9), "%.6e" % rng.uniform(0, 1e10)]),
                        1796000000000 + rng.randrange(10 ** 6)))
    body = ("\n".join(out) + "\n").encode()
    return (b"POST /metrics/job/eval HTTP/1.1\r\nHost: pushgateway:9091\r\n"
            b"Content-Type: text/plain; version=0.0.4\r\nContent-Length: %d\r\n\r\n"
            % len(body)) + body


# ---- weights, as training leaves them ----

def normal_floats(rng, n):
    return [rng.gauss(0, 0.02) for _ in range(n)]


def fp32(vals):
    return struct.pack("<%df" % len(vals), *vals)


def bf16(vals):
    raw = struct.pack("<%df" % len(vals), *vals)
    # keep the high half of each float32 (truncation, as a cast does)
    return b"".join(raw[i + 2:i + 4] for i in range(0, len(raw), 4))


def fp16(vals):
    return struct.pack("<%de" % len(vals), *vals)


def int8(vals):
    out = bytearray()
    for i in range(0, len(vals), 64):
        blk = vals[i:i + 64]
        scale = max(abs(v) for v in blk) / 127 or 1.0
        out += struct.pack("<e", scale)
        out += bytes((max(-127, min(127, round(v / scale))) & 0xff) for v in blk)
    return bytes(out)


def tool(args, data):
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, check=True).stdout


def aes_ctr(data):
    key = "%064x" % 0x5EED
    return tool(["openssl", "enc", "-aes-256-ctr", "-nosalt", "-K", key,
                 "-iv", "00000000000000000000000000000001"], data)


def slices(rng, blob, nflows):
    """nflows flows, each FLOW_BYTES cut from a random place in blob."""
    out = []
    for _ in range(nflows):
        off = rng.randrange(0, max(1, len(blob) - FLOW_BYTES))
        out.append(blob[off:off + FLOW_BYTES])
    return out


def json_chunks(rng, raw, nflows):
    """The weights base64-encoded inside JSON (an "API" leak)."""
    out = []
    for i in range(nflows):
        off = rng.randrange(0, len(raw) - 3000)
        doc = {"id": i, "object": "chunk", "data": base64.b64encode(raw[off:off + 3000]).decode()}
        out.append(http_response(rng, json.dumps(doc).encode()))
    return out


def float_text(rng, vals, nflows):
    """The weights printed as JSON float arrays: text exactly like an
    embedding response. No byte statistic can tell them apart (a blind spot
    the work budget bounds); measured, not asserted."""
    out = []
    for _ in range(nflows):
        off = rng.randrange(len(vals) - 800)
        out.append(json.dumps({"data": [float("%.6g" % v) for v in vals[off:off + 800]]}).encode())
    return out


def work_flows(rng, gen, nflows):
    out = []
    for _ in range(nflows):
        b = b""
        while len(b) < FLOW_BYTES:
            b += gen(rng)
        out.append(b[:FLOW_BYTES * 2])
    return out


# ---- DNS queries: ordinary lookups of a cloud/k8s host, and tunnels ----

SERVICES = ["pypi.org", "files.pythonhosted.org", "huggingface.co", "cdn-lfs.huggingface.co",
            "api.github.com", "objects.githubusercontent.com", "registry-1.docker.io",
            "storage.googleapis.com", "oauth2.googleapis.com", "sts.amazonaws.com",
            "s3.us-west-2.amazonaws.com", "metadata.google.internal", "ntp.ubuntu.com",
            "deb.debian.org", "security.debian.org", "login.microsoftonline.com",
            "wandb.ai", "api.wandb.ai", "sentry.io", "o450123.ingest.sentry.io",
            "time.cloudflare.com", "mirrors.kernel.org", "conda.anaconda.org"]
SEARCH = ["", "", "", ".default.svc.cluster.local", ".svc.cluster.local", ".cluster.local",
          ".us-west-2.compute.internal", ".ec2.internal", ".c.partner-eval.internal"]
KWORDS = ["inference", "model", "server", "gateway", "metrics", "prometheus", "pushgateway",
          "loki", "tempo", "redis", "postgres", "minio", "vllm", "triton", "eval", "worker",
          "scheduler", "api", "auth", "dataset", "cache", "queue", "kafka", "broker"]


def dns_query(rng, name, qtype=None):
    msg = struct.pack(">HHHHHH", rng.getrandbits(16), 0x0100, 1, 0, 0, 0)
    for label in name.strip(".").split("."):
        msg += bytes([len(label)]) + label.encode()
    return msg + b"\0" + struct.pack(">HH", qtype or rng.choice([1, 1, 28]), 1)


def normal_name(rng):
    k = rng.random()
    if k < 0.3:
        return rng.choice(SERVICES) + rng.choice(SEARCH)
    if k < 0.5:
        return "%s.%s.svc.cluster.local" % ("-".join(rng.sample(KWORDS, rng.randrange(1, 4))),
                                            rng.choice(["default", "monitoring", "eval", "ml-serving"]))
    if k < 0.6:
        return "ip-10-%d-%d-%d.us-west-2.compute.internal" % (
            rng.randrange(256), rng.randrange(256), rng.randrange(256))
    if k < 0.7:
        return "internal-%s-%s-%d.us-west-2.elb.amazonaws.com" % (
            rng.choice(KWORDS), rng.choice(KWORDS), rng.randrange(10 ** 9, 10 ** 10))
    if k < 0.8:
        return "%d.%d.%d.10.in-addr.arpa" % (rng.randrange(256), rng.randrange(256),
                                             rng.randrange(256))
    if k < 0.84:
        return "d%s.cloudfront.net" % "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                              for _ in range(13))
    if k < 0.87:	# a pod's own name (deployment hash, random suffix)
        return "vllm-%07x%01x-%s.%s.pod.cluster.local" % (
            rng.getrandbits(28), rng.getrandbits(4),
            "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5)),
            rng.choice(["default", "ml-serving"]))
    if k < 0.9:	# buckets and VPC endpoints
        return rng.choice(["partnerevaldatasets%d.s3.us-west-2.amazonaws.com" % rng.randrange(2020, 2030),
                           "vpce-0%016x-%08x.s3.us-west-2.vpce.amazonaws.com" % (
                               rng.getrandbits(64), rng.getrandbits(32)),
                           "objects.githubusercontent.com.%s" % rng.choice(["ec2.internal", "lan"])])
    return "%s-%s.%s.example.com" % (rng.choice(KWORDS), rng.randrange(100),
                                     rng.choice(["eu", "us", "ap"]))


def tunnel_name(rng, raw):
    """A chunk of the weights carried in query names, as iodine (base32),
    dnscat2 (hex) and dns2tcp (base64-like) encode it."""
    kind = rng.choice(["b32", "hex", "b64"])
    nlabels = rng.randrange(1, 4)
    llen = rng.randrange(24, 64)
    off = rng.randrange(len(raw) - 200)
    if kind == "b32":
        data = base64.b32encode(raw[off:off + 160]).decode().rstrip("=").lower()
    elif kind == "hex":
        data = binascii.hexlify(raw[off:off + 100]).decode()
    else:
        data = base64.b64encode(raw[off:off + 160]).decode().rstrip("=").replace("/", "-").replace("+", "_")
    labels = [data[i * llen:(i + 1) * llen] for i in range(nlabels)]
    return ".".join(labels + [rng.choice(["t", "d", "x1"]), rng.choice(["exfil-test.net", "example.org"])])


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: corpus.py OUTDIR [--flows N] [--seed S]")
    outdir = sys.argv[1]
    nflows = int(sys.argv[sys.argv.index("--flows") + 1]) if "--flows" in sys.argv else 200
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 14
    rng = random.Random(seed)
    os.makedirs(outdir, exist_ok=True)

    vals = normal_floats(rng, 1 << 19)	# 512 Ki parameters
    w_bf16, w_fp16, w_int8 = bf16(vals), fp16(vals), int8(vals)
    classes = [
        ("completions", "work", work_flows(rng, completion, nflows)),
        ("chat", "work", work_flows(rng, chat, nflows)),
        ("embeddings", "work", work_flows(rng, embedding, nflows)),
        ("logs", "work", work_flows(rng, logs, nflows)),
        ("prometheus", "work", work_flows(rng, prometheus, nflows)),
        ("code", "work", work_flows(rng, code, nflows)),
        ("chat-cjk", "work", work_flows(rng, chat_cjk, nflows)),
        ("kserve-v2", "work", work_flows(rng, kserve, nflows)),
        ("fp32", "weights", slices(rng, fp32(vals), nflows)),
        ("bf16", "weights", slices(rng, w_bf16, nflows)),
        ("fp16", "weights", slices(rng, w_fp16, nflows)),
        ("int8", "weights", slices(rng, w_int8, nflows)),
        ("base64-bf16", "weights", slices(rng, base64.b64encode(w_bf16), nflows)),
        ("base64-int8-mime", "weights", slices(rng, base64.encodebytes(w_int8), nflows)),
        ("base64-fp16", "weights", slices(rng, base64.b64encode(w_fp16), nflows)),
        ("base32-bf16", "weights", slices(rng, base64.b32encode(w_bf16), nflows)),
        ("base85-bf16", "weights", slices(rng, base64.b85encode(w_bf16), nflows)),
        ("ascii85-int8", "weights", slices(rng, base64.a85encode(w_int8), nflows)),
        ("hex-bf16", "weights", slices(rng, binascii.hexlify(w_bf16), nflows)),
        ("hex-fp16-upper", "weights", slices(rng, binascii.hexlify(w_fp16).upper(), nflows)),
        ("json-base64-bf16", "weights", json_chunks(rng, w_bf16, nflows)),
        ("gzip-bf16", "weights", slices(rng, gzip.compress(w_bf16, 6, mtime=0), nflows)),
        ("zstd-bf16", "weights", slices(rng, tool(["zstd", "-q", "-3", "-c"], w_bf16), nflows)),
        ("aes-ctr-bf16", "weights", slices(rng, aes_ctr(w_bf16), nflows)),
        ("floats-as-text", "weights", float_text(rng, vals, nflows), "report"),
    ]
    dns = [("dns-normal", "normal", [dns_query(rng, normal_name(rng)) for _ in range(nflows * 5)]),
           ("dns-tunnel", "tunnel", [dns_query(rng, tunnel_name(rng, w_bf16), 16)
                                     for _ in range(nflows * 5)])]
    with open(os.path.join(outdir, "dns.tsv"), "w") as man:
        for name, want, flows in dns:
            with open(os.path.join(outdir, name + ".flows"), "wb") as f:
                for fl in flows:
                    f.write(struct.pack("<I", len(fl)) + fl)
            man.write("%s\t%s\t%s\tassert\n" % (name, want, name + ".flows"))
    with open(os.path.join(outdir, "manifest.tsv"), "w") as man:
        for name, want, flows, *how in classes:
            path = os.path.join(outdir, name + ".flows")
            with open(path, "wb") as f:
                for fl in flows:
                    f.write(struct.pack("<I", len(fl)) + fl)
            man.write("%s\t%s\t%s\t%s\n" % (name, want, name + ".flows", (how or ["assert"])[0]))


if __name__ == "__main__":
    main()
