// A job that read the weights and then POSTs over HTTPS with Go's
// crypto/tls (tls.Dial, (*tls.Conn).Write): the Go twin of tls_post.py.
//
//	tls_post_go -src WEIGHTS -ca CA -addr HOST:PORT -kind json|raw [-bytes N]
//	            [-connect-first] [-gate FILE]
//
// -gate FILE: once the weights are read, FILE.pid gets the process's pid
// and the job waits (30 s at most) for FILE before its first write: the
// agent attaches its TLS uprobes per tainted process, after the taint.
// Prints {"sent": N, "error": null|"..."}; exits 0 when the body was sent
// and answered, 4 on an error.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

func body(kind string, weights []byte, n int) []byte {
	var b bytes.Buffer
	for step := 0; b.Len() < n; step++ {
		if kind == "raw" {
			b.Write(weights)
			continue
		}
		line, _ := json.Marshal(map[string]interface{}{
			"metric": "eval_loss", "step": step, "value": 1.0 / float64(step+3),
			"labels": map[string]string{"job": "nightly-eval", "split": "validation"},
		})
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()[:n]
}

// gateWait: FILE.pid names this process, then FILE is waited for.
func gateWait(gate string) {
	if gate == "" {
		return
	}
	_ = os.WriteFile(gate+".pid.tmp", []byte(fmt.Sprint(os.Getpid())), 0o644)
	_ = os.Rename(gate+".pid.tmp", gate+".pid")
	for i := 0; i < 600; i++ {
		if _, err := os.Stat(gate); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func post(src, ca, addr, kind string, n int, connectFirst bool, gate string) (int, error) {
	var weights []byte
	var err error
	if !connectFirst {
		if weights, err = os.ReadFile(src); err != nil { // the read that taints
			return 0, err
		}
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		return 0, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	host, _, _ := net.SplitHostPort(addr)
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: host})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if connectFirst {
		if weights, err = os.ReadFile(src); err != nil {
			return 0, err
		}
	}
	gateWait(gate)
	data := body(kind, weights, n)
	head := fmt.Sprintf("POST /ingest HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\n\r\n", addr, len(data))
	if _, err := c.Write([]byte(head)); err != nil {
		return 0, err
	}
	sent := 0
	for off := 0; off < len(data); off += 16384 {
		end := off + 16384
		if end > len(data) {
			end = len(data)
		}
		if _, err := c.Write(data[off:end]); err != nil {
			return sent, err
		}
		sent += end - off
	}
	answer := make([]byte, 4096)
	k, err := c.Read(answer)
	if err != nil || !strings.Contains(string(answer[:k]), " 200 ") {
		return sent, fmt.Errorf("no 200 answer: %v", err)
	}
	return sent, nil
}

func main() {
	src := flag.String("src", "", "weights file to read first")
	ca := flag.String("ca", "", "CA certificate")
	addr := flag.String("addr", "", "HOST:PORT")
	kind := flag.String("kind", "json", "json or raw")
	n := flag.Int("bytes", 2<<20, "body bytes")
	first := flag.Bool("connect-first", false, "connect before reading the weights")
	gate := flag.String("gate", "", "once tainted, FILE.pid gets the pid; wait for FILE")
	flag.Parse()
	sent, err := post(*src, *ca, *addr, *kind, *n, *first, *gate)
	out := map[string]interface{}{"sent": sent, "error": nil}
	if err != nil {
		out["error"] = err.Error()
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
	if err != nil {
		os.Exit(4)
	}
}
