//go:build !race

// The race detector multiplies a process's memory several times, so the
// resident-memory bounds of this table mean nothing under it: `make test`
// runs it without -race (test-limits).

package node

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
)

// The hostile-client table of issue 16, replayed against node 1 of a real
// 4-validator network (real QUIC, Pebble, TCP on 127.0.0.1) with bounded
// counts. Each row asserts the answers and that the process's resident
// memory grows by less than rssBound while it runs (the process holds all
// four nodes and the attacker, so the bound is conservative).

const rssBound = 300 << 20

// rssBytes reads this process's resident set size.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// peakRSS runs attack while sampling RSS and returns the peak growth.
func peakRSS(t *testing.T, name string, attack func()) int64 {
	t.Helper()
	base := rssBytes(t)
	var peak atomic.Int64
	peak.Store(base)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				if r := rssBytes(t); r > peak.Load() {
					peak.Store(r)
				}
			}
		}
	}()
	attack()
	close(done)
	wg.Wait()
	growth := peak.Load() - base
	t.Logf("%s: RSS %d MB → peak %d MB (growth %d MB)", name, base>>20, peak.Load()>>20, growth>>20)
	if growth > rssBound {
		t.Errorf("%s: RSS grew by %d MB, bound %d MB", name, growth>>20, rssBound>>20)
	}
	return growth
}

// zeros is a lazily generated body of n bytes: the attacker holds none of it.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.n)
	clear(p[:k])
	z.n -= k
	return int(k), nil
}

func attackLimits() Limits {
	l := DefaultLimits()
	l.ReadHeaderTimeout = 2 * time.Second
	l.ReadTimeout = 4 * time.Second
	l.IdleTimeout = 3 * time.Second
	l.MaxConns = 128
	l.MaxConnsPerIP = 128
	l.QueueWait = 3 * time.Second
	return l
}

// parallel runs n requests at once and counts the answers by status.
func parallel(n int, do func(i int) (int, error)) map[int]int {
	var mu sync.Mutex
	out := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, err := do(i)
			if err != nil {
				code = -1
			}
			mu.Lock()
			out[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func TestAttackTable(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node attack replay")
	}
	c := newClusterWith(t, 4, func(i int, cfg *Config) {
		cfg.Limits = attackLimits()
		if i == 0 {
			f := false
			cfg.PlainHTTP = &f // node 1 serves TLS only
			tr := true
			cfg.HTTP3 = &tr
		}
	})
	n0 := c.nodes[0]
	if strings.HasPrefix(n0.APIURL(), "http://") {
		t.Fatalf("node 1 serves plain HTTP at %s with plain_http = false", n0.APIURL())
	}
	g := c.tn.Genesis
	pin := ed25519.PublicKey(g.Validators[0].Key)
	cl := client.Pinned(n0.TLSURL(), pin)
	ctx := context.Background()
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: client.PinnedTLS(pin), MaxConnsPerHost: 100, MaxIdleConnsPerHost: 100}}
	defer hc.CloseIdleConnections()
	base := n0.TLSURL()

	t.Run("96 parallel 8 MiB PUT /v1/payloads of unanchored hashes", func(t *testing.T) {
		var codes map[int]int
		peakRSS(t, "payload PUT flood", func() {
			codes = parallel(96, func(i int) (int, error) {
				var h [32]byte
				_, _ = rand.Read(h[:])
				req, _ := http.NewRequest(http.MethodPut, base+"/v1/payloads/"+hex.EncodeToString(h[:]), &zeros{8 << 20})
				req.ContentLength = 8 << 20
				resp, err := hc.Do(req)
				if err != nil {
					return 0, err
				}
				resp.Body.Close()
				return resp.StatusCode, nil
			})
		})
		// Refused from the headers: not anchored (404); the node answers
		// without reading the body, so a client still writing may see its
		// connection reset (-1) instead — never a 2xx.
		if codes[http.StatusNotFound] < 48 || codes[http.StatusNotFound]+codes[-1] != 96 {
			t.Fatalf("answers %v, want 404 not_anchored", codes)
		}
	})

	t.Run("96 parallel 8 MiB POST /v1/tx (no length given)", func(t *testing.T) {
		var codes map[int]int
		peakRSS(t, "tx flood", func() {
			codes = parallel(96, func(i int) (int, error) {
				req, _ := http.NewRequest(http.MethodPost, base+"/v1/tx", io.NopCloser(&zeros{8 << 20})) // chunked
				resp, err := hc.Do(req)
				if err != nil {
					return 0, err
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				// Refused as malformed; or, on a loaded machine where this
				// sender is starved, cut by the node's body read timeout
				// (a slow upload is refused too).
				slow := strings.Contains(string(b), `"read"`) && strings.Contains(string(b), "timeout")
				if resp.StatusCode == http.StatusBadRequest && !strings.Contains(string(b), "malformed") && !slow {
					t.Errorf("400 for another cause: %s", b)
				}
				return resp.StatusCode, nil
			})
		})
		// 8 MiB of zeros is within the chain's request limit: the body is
		// read (at most BodyBudget at once) and refused as malformed (400);
		// over the budget's wait, 503 busy (the client may then see its
		// unread upload reset: -1). Never accepted.
		refused := codes[http.StatusBadRequest] + codes[http.StatusRequestEntityTooLarge]
		if refused == 0 || refused+codes[http.StatusServiceUnavailable]+codes[-1] != 96 {
			t.Fatalf("answers %v, want 400 malformed / 413 too large (or 503 busy)", codes)
		}
	})

	t.Run("64 parallel GET /v1/block/H?raw=1 of a ~4 MiB block", func(t *testing.T) {
		sponsor := keyOf(t, c, "sponsor")
		code := make([]byte, int(g.Params.RequestMaxBytes)-8<<10)
		_, _ = rand.Read(code)
		tx := client.Sign(sponsor, g.ChainID, block.KindDeploy, (&block.DeployPayload{Code: code, Policy: block.PolicyImmutable, Label: "junk"}).Encode(), g.Params.MaxTxGas)
		rc := c.send(tx)
		want, err := n0.store.BlockRaw(rc.Height)
		if err != nil {
			t.Fatal(err)
		}
		// One answer, read whole and checked against the stored block; the
		// attackers (in this same process) then only hash what they read,
		// so the RSS measured is the node's, not theirs.
		first, err := hc.Get(fmt.Sprintf("%s/v1/block/%d?raw=1", base, rc.Height))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(first.Body)
		first.Body.Close()
		var v view.Block
		if err != nil || first.StatusCode != http.StatusOK || json.Unmarshal(body, &v) != nil {
			t.Fatalf("raw block: %d %v", first.StatusCode, err)
		}
		if raw, err := hex.DecodeString(v.Raw); err != nil || string(raw) != string(want) || v.Header.Height != rc.Height {
			t.Fatal("raw block differs from the stored one")
		}
		wantSum := sha256.Sum256(body)
		body, v = nil, view.Block{}
		var ok atomic.Int64
		var codes map[int]int
		peakRSS(t, "raw block fetches", func() {
			codes = parallel(64, func(i int) (int, error) {
				resp, err := hc.Get(fmt.Sprintf("%s/v1/block/%d?raw=1", base, rc.Height))
				if err != nil {
					return 0, err
				}
				defer resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					h := sha256.New()
					if _, err := io.Copy(h, resp.Body); err != nil {
						return 0, err
					}
					if [32]byte(h.Sum(nil)) != wantSum {
						return 0, errors.New("raw block answer differs from the first one")
					}
					ok.Add(1)
				} else {
					_, _ = io.Copy(io.Discard, resp.Body)
				}
				return resp.StatusCode, nil
			})
		})
		t.Logf("block of %d bytes; answers %v", len(want), codes)
		if ok.Load() == 0 || codes[-1] > 0 || codes[http.StatusOK]+codes[http.StatusServiceUnavailable] != 64 {
			t.Fatalf("answers %v, want 200 with the exact block (or 503 busy)", codes)
		}
	})

	t.Run("300 connections sending a byte a second", func(t *testing.T) {
		addr := strings.TrimPrefix(base, "https://")
		var conns []net.Conn
		var cut atomic.Int64
		var wg sync.WaitGroup
		stop := make(chan struct{})
		peakRSS(t, "slow loris", func() {
			for range 300 {
				cn, err := net.Dial("tcp", addr)
				if err != nil {
					continue
				}
				conns = append(conns, cn)
				wg.Add(1)
				go func() {
					defer wg.Done()
					msg := []byte("\x16PUT /v1/payloads/x HTTP/1.1\r\n") // a TLS record that never completes
					for i := 0; ; i = (i + 1) % len(msg) {
						if _, err := cn.Write(msg[i : i+1]); err != nil {
							cut.Add(1)
							return
						}
						select {
						case <-stop:
							return
						case <-time.After(time.Second):
						}
					}
				}()
			}
			if open := n0.limLn.Open(); open > attackLimits().MaxConns {
				t.Errorf("%d connections open, cap %d", open, attackLimits().MaxConns)
			}
			time.Sleep(8 * time.Second) // > ReadHeaderTimeout and ReadTimeout of the attack limits
		})
		if open := n0.limLn.Open(); open > 4 {
			t.Errorf("%d slow connections still open after 8 s (header timeout 2 s)", open)
		}
		close(stop)
		for _, cn := range conns {
			cn.Close()
		}
		wg.Wait()
		t.Logf("%d of %d slow connections were cut by the node", cut.Load(), len(conns))
		if cut.Load() < int64(len(conns))*9/10 {
			t.Errorf("only %d of %d slow connections were cut", cut.Load(), len(conns))
		}
		if _, err := cl.Status(ctx); err != nil {
			t.Fatalf("node unusable after the slow-loris: %v", err)
		}
	})

	t.Run("a replayed signed payload read", func(t *testing.T) {
		data := []byte("adverse event narrative " + fmt.Sprint(time.Now().UnixNano()))
		h := block.Sum(data)
		if rc := c.send(client.Sign(c.site, g.ChainID, block.KindAnchor, (&block.AnchorPayload{Hash: h, Label: "x"}).Encode(), 100_000)); rc.Status != block.StatusOK {
			t.Fatal(rc.Error)
		}
		if _, err := cl.PutPayload(ctx, c.site, g.ChainID, data); err != nil {
			t.Fatal(err)
		}
		path := "/v1/payloads/" + h.String()
		nonce := make([]byte, view.RequestNonceBytes)
		_, _ = rand.Read(nonce)
		auth := view.RequestAuth(c.site, g.ChainID, pin, http.MethodGet, path, time.Now().UnixMilli(), nonce)
		get := func(url string, hc *http.Client) int {
			req, _ := http.NewRequest(http.MethodGet, url+path, nil)
			req.Header.Set(view.PayloadAuthHeader, auth)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := get(base, hc); code != http.StatusOK {
			t.Fatalf("first read: %d", code)
		}
		if code := get(base, hc); code != http.StatusForbidden {
			t.Fatalf("replayed read answered %d, want 403", code)
		}
		if code := get(c.nodes[1].APIURL(), http.DefaultClient); code != http.StatusForbidden {
			t.Fatalf("the header replayed to another node answered %d, want 403", code)
		}
		if _, err := cl.Payload(ctx, c.site, g.ChainID, h); err != nil {
			t.Fatalf("a fresh signed read: %v", err)
		}
	})

	t.Run("a site sending 1 MiB consent-group transactions", func(t *testing.T) {
		var codes map[int]int
		peakRSS(t, "oversized consent groups", func() {
			codes = parallel(50, func(i int) (int, error) {
				tx := client.Sign(c.site, g.ChainID, block.KindConsentGroup, make([]byte, 1<<20), g.Params.MaxTxGas)
				req, _ := http.NewRequest(http.MethodPost, base+"/v1/tx", strings.NewReader(string(tx.Encode())))
				resp, err := hc.Do(req)
				if err != nil {
					return 0, err
				}
				resp.Body.Close()
				return resp.StatusCode, nil
			})
		})
		if codes[http.StatusBadRequest] != 50 {
			t.Fatalf("answers %v, want 400 malformed for all", codes)
		}
		// A small but malformed group is refused too (shape, not only size).
		tx := client.Sign(c.site, g.ChainID, block.KindConsentGroup, []byte("not a group"), 1_000_000)
		if _, err := cl.Submit(ctx, tx, false); err == nil || !strings.Contains(err.Error(), "malformed") {
			t.Fatalf("malformed consent group: %v", err)
		}
	})

	t.Run("TLS: the node's key is pinned; another key is refused; plain HTTP is off", func(t *testing.T) {
		if _, err := cl.Status(ctx); err != nil {
			t.Fatalf("pinned TLS client: %v", err)
		}
		other := client.Pinned(base, ed25519.PublicKey(g.Validators[1].Key))
		if _, err := other.Status(ctx); !errors.Is(err, client.ErrWrongNodeKey) {
			t.Fatalf("a client pinning another key: %v, want ErrWrongNodeKey", err)
		}
		resp, err := http.Get("http://" + strings.TrimPrefix(base, "https://") + "/v1/status")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatalf("plain HTTP answered: %s", b)
			}
		}
	})
}

func keyOf(t *testing.T, c *cluster, name string) ed25519.PrivateKey {
	t.Helper()
	k, err := keys.Ring{Dir: c.tn.Keyring}.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return k.Private
}
