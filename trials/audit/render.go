package audit

import (
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"
)

// Formats Write accepts.
var Formats = []string{"html", "csv", "json"}

// Write renders the report in format (html, csv or json). generated is the
// time of writing for the header (the caller's clock, e.g. "2026-03-01T12:00:00Z").
//
// The CSV is the audit trail, one row per recorded action, with the
// original and corrected values side by side; the HTML and JSON hold the
// whole report.
func (r *Report) Write(w io.Writer, format, generated string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("audit: json: %w", err)
		}
		return nil
	case "csv":
		return r.writeCSV(w)
	case "html":
		if err := page.Execute(w, struct {
			*Report
			Generated string
		}{r, generated}); err != nil {
			return fmt.Errorf("audit: html: %w", err)
		}
		return nil
	}
	return fmt.Errorf("audit: format %q: use html, csv or json", format)
}

func (r *Report) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"seq", "time_utc", "block", "who", "organisation", "signer_key", "signature_meaning", "action",
		"subject", "entry", "reason", "original_values", "corrected_values", "status", "refusal", "transaction", "log_record", "contract_code", "verified",
		"role", "member", "refusal_raw"})
	verified := "yes"
	if !r.Verification.OK {
		verified = "see verification failures"
	}
	for _, e := range r.Trail {
		_ = cw.Write([]string{strconv.Itoa(e.Seq), e.Time, strconv.FormatUint(e.Block, 10), e.Who, e.Org, e.Signer, e.Meaning, e.Action,
			e.Subject, e.Entry, e.Reason, e.Original, e.Corrected, e.Status, e.Refusal, e.Tx, strconv.FormatUint(e.Leaf, 10), e.CodeHash, verified,
			e.Role, e.Member, e.RawError})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("audit: csv: %w", err)
	}
	return nil
}

//go:embed report.html.tmpl
var pageText string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"short": func(s string) string {
		if len(s) > 16 {
			return s[:16] + "…"
		}
		return s
	},
	// date and clock split a UTC time "2006-01-02T15:04:05.000Z" in two
	// lines' worth, so a narrow column breaks it where people expect.
	"date": func(s string) string { d, _, _ := strings.Cut(s, "T"); return d },
	"clock": func(s string) string {
		if _, c, ok := strings.Cut(s, "T"); ok {
			return c
		}
		return ""
	},
	"banner": func(v Verification) string {
		switch {
		case !v.OK:
			return "fail"
		case v.Proof.Complete && v.Proof.LeftOut <= 0:
			return "ok"
		}
		return "partial"
	},
}).Parse(pageText))

// GeneratedAt formats the time a report is written (the caller's clock:
// the package reads none).
func GeneratedAt(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
