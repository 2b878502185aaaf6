// Package explorer serves TrialChain's explorer: pages showing a node's
// blocks and transactions, and an auditor's page where a bundle file and
// the genesis file are dropped in and verified in the browser by the Go
// verifier (chain/proof/bundle) compiled to WebAssembly — the page trusts
// no server, not even this one.
//
// The pages are plain HTML, CSS and JavaScript embedded in the binary. The
// verifier (web/verify.wasm) and Go's wasm_exec.js are built by `make wasm`
// (which `make build` runs first) and embedded when present; a binary built
// without them serves the auditor's page saying how to build them.
package explorer

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/view"
)

//go:embed web
var web embed.FS

// Node is what the explorer reads from a node (sdk/client.Client).
type Node interface {
	Status(ctx context.Context) (*view.Status, error)
	Block(ctx context.Context, height uint64) (*view.Block, error)
	Tx(ctx context.Context, h block.Hash) (*view.TxWithReceipt, error)
	Scope(ctx context.Context, name string, from uint64) (*view.Scope, error)
	Pins(ctx context.Context) ([]view.Pin, error)
	Contract(ctx context.Context, addr block.Hash) (*view.Contract, error)
}

// maxEntries bounds the records a record-set page lists.
const maxEntries = 500

// entries reads up to maxEntries of a record set.
func entries(ctx context.Context, node Node, name string) ([]view.ScopeEntry, uint64, error) {
	var out []view.ScopeEntry
	var count uint64
	for len(out) < maxEntries {
		page, err := node.Scope(ctx, name, uint64(len(out)))
		if err != nil {
			return nil, 0, err
		}
		count = page.Count
		if len(page.Entries) == 0 {
			break
		}
		out = append(out, page.Entries...)
	}
	if len(out) > maxEntries {
		out = out[:maxEntries]
	}
	return out, count, nil
}

// Options configure Handler.
type Options struct {
	// Wasm and WasmExec replace the embedded verifier and wasm_exec.js
	// (tests build them fresh).
	Wasm, WasmExec []byte
	// Blocks is how many recent blocks the front page lists (default 20).
	Blocks int
}

// Handler serves the explorer of node.
func Handler(node Node, o Options) http.Handler {
	if o.Blocks <= 0 {
		o.Blocks = 20
	}
	static, _ := fs.Sub(web, "web")
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	serveBytes := func(name, ctype string, override []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b := override
			if b == nil {
				var err error
				if b, err = fs.ReadFile(static, name); err != nil {
					http.Error(w, name+" is not built into this binary: run `make wasm` (or `make build`) and rebuild", http.StatusNotFound)
					return
				}
			}
			w.Header().Set("Content-Type", ctype)
			_, _ = w.Write(b)
		}
	}
	mux.HandleFunc("GET /verify.wasm", serveBytes("verify.wasm", "application/wasm", o.Wasm))
	mux.HandleFunc("GET /wasm_exec.js", serveBytes("wasm_exec.js", "text/javascript", o.WasmExec))
	mux.HandleFunc("GET /audit", func(w http.ResponseWriter, r *http.Request) {
		page(w, "audit.html", nil)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		st, err := node.Status(ctx)
		if err != nil {
			http.Error(w, "node: "+err.Error(), http.StatusBadGateway)
			return
		}
		var blocks []*view.Block
		for h := st.Height; h >= 1 && len(blocks) < o.Blocks; h-- {
			b, err := node.Block(ctx, h)
			if err != nil {
				http.Error(w, "node: "+err.Error(), http.StatusBadGateway)
				return
			}
			blocks = append(blocks, b)
		}
		page(w, "index.html", map[string]any{"Status": st, "Blocks": blocks})
	})
	mux.HandleFunc("GET /block/{height}", func(w http.ResponseWriter, r *http.Request) {
		h, err := strconv.ParseUint(r.PathValue("height"), 10, 64)
		if err != nil {
			http.Error(w, "height: want a number", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		b, err := node.Block(ctx, h)
		if err != nil {
			http.Error(w, "node: "+err.Error(), http.StatusBadGateway)
			return
		}
		var txs []*view.TxWithReceipt
		for _, th := range b.Txs {
			tx, err := node.Tx(ctx, th)
			if err != nil {
				http.Error(w, "node: "+err.Error(), http.StatusBadGateway)
				return
			}
			txs = append(txs, tx)
		}
		page(w, "block.html", map[string]any{"Block": b, "Txs": txs})
	})
	mux.HandleFunc("GET /tx/{hash}", func(w http.ResponseWriter, r *http.Request) {
		h, err := block.ParseHash(r.PathValue("hash"))
		if err != nil {
			http.Error(w, "transaction hash: want 64 hex characters", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		tx, err := node.Tx(ctx, h)
		if err != nil {
			http.Error(w, "node: "+err.Error(), http.StatusBadGateway)
			return
		}
		page(w, "tx.html", tx)
	})
	mux.HandleFunc("GET /trial", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		if id == "" {
			http.Error(w, "trial: give ?id=TRIAL", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		es, count, err := entries(ctx, node, "trial:"+id)
		if err != nil {
			http.Error(w, "node: "+err.Error(), http.StatusBadGateway)
			return
		}
		page(w, "trial.html", map[string]any{"ID": id, "Entries": es, "Count": count})
	})
	mux.HandleFunc("GET /contracts", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		pins, err := node.Pins(ctx)
		if err != nil {
			http.Error(w, "node: "+err.Error(), http.StatusBadGateway)
			return
		}
		page(w, "contracts.html", pins)
	})
	mux.HandleFunc("GET /contract/{addr}", func(w http.ResponseWriter, r *http.Request) {
		addr, err := block.ParseHash(r.PathValue("addr"))
		if err != nil {
			http.Error(w, "contract address: want 64 hex characters", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		c, err := node.Contract(ctx, addr)
		if err != nil {
			http.Error(w, "node: "+err.Error(), http.StatusBadGateway)
			return
		}
		// The code history: the deploy and every upgrade, in order.
		es, _, err := entries(ctx, node, "code:"+addr.String())
		if err != nil {
			http.Error(w, "node: "+err.Error(), http.StatusBadGateway)
			return
		}
		var code []*view.TxWithReceipt
		for _, e := range es {
			tx, err := node.Tx(ctx, e.TxHash)
			if err != nil {
				http.Error(w, "node: "+err.Error(), http.StatusBadGateway)
				return
			}
			code = append(code, tx)
		}
		page(w, "contract.html", map[string]any{"Contract": c, "Code": code, "Entries": es})
	})
	return mux
}

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"short": func(v fmt.Stringer) string {
		s := v.String()
		if len(s) > 16 {
			return s[:16] + "…"
		}
		return s
	},
}).ParseFS(web, "web/*.html"))

func page(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
