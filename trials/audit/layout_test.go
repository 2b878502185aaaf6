package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof/bundle"
)

var writeHTML = flag.String("audit.html", "", "TestReportFitsWidth: also write the rendered pages to this directory (to look at them)")

// chromium finds a headless Chromium. Without one the layout test skips,
// except in CI (CI=true), where .ci/run installs Debian's chromium and a
// missing browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium: the report layout test needs it in CI (.ci/run installs it with apt-get install chromium)")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); the layout test runs in CI")
	return ""
}

// measure is appended (to a copy of the report only: the report itself
// carries no script) to record, after layout, the widest point of the page
// and the widths of the viewport and of each table.
const measure = `<script>
(function () {
  var right = 0, worst = "";
  document.querySelectorAll("body *").forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.right > right) { right = r.right; worst = e.tagName + "." + e.className; }
  });
  var b = document.body;
  b.setAttribute("data-viewport", String(window.innerWidth));
  b.setAttribute("data-scroll", String(document.documentElement.scrollWidth));
  b.setAttribute("data-right", String(Math.ceil(right)));
  b.setAttribute("data-worst", worst);
})();
</script>`

var reAttr = regexp.MustCompile(`data-(viewport|scroll|right|worst)="([^"]*)"`)

// layoutWidth renders html in headless Chromium at width px and returns
// the viewport width, the document's scroll width and the right edge of
// the widest element.
func layoutWidth(t *testing.T, bin, html string, width int) (viewport, scroll, right int, worst string) {
	t.Helper()
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	html = strings.Replace(html, "</body>", measure+"</body>", 1)
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--user-data-dir="+filepath.Join(dir, "profile"), fmt.Sprintf("--window-size=%d,1000", width), "--dump-dom", "file://"+page)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	got := map[string]string{}
	for _, m := range reAttr.FindAllStringSubmatch(out.String(), -1) {
		got[m[1]] = m[2]
	}
	if len(got) != 4 {
		t.Fatalf("chromium's DOM lacks the measurements (%v):\n%.2000s", got, out.String())
	}
	viewport, _ = strconv.Atoi(got["viewport"])
	scroll, _ = strconv.Atoi(got["scroll"])
	right, _ = strconv.Atoi(got["right"])
	return viewport, scroll, right, got["worst"]
}

// stressReport is a report with everything that tends to widen a page:
// 64-digit hashes, long unbroken values, long refusals, every section.
func stressReport(t *testing.T) *Report {
	res := sampleResult(t)
	long := strings.Repeat("f", 64)
	fail := &bundle.Error{Record: 2, TxHash: res.Records[1].TxHash, Leaf: 2, Part: "inclusion proof", Err: bundle.ErrInclusion}
	res.Failures = bundle.Failures{fail}
	p := &block.RedactPayload{Targets: []block.Hash{block.Sum([]byte("a")), block.Sum([]byte("b"))}, Basis: block.BasisMistakenPHI, Reason: "patient name " + long, Meaning: "approval of redaction"}
	tx := &block.Tx{ChainID: "audit-test", Nonce: 6, Kind: block.KindRedact, GasLimit: 1, Payload: p.Encode()}
	tx.Sign(siteKey)
	res.Records = append(res.Records, &bundle.Verified{Index: 6, Leaf: 6, Tx: tx, TxHash: tx.Hash(), Receipt: &block.Receipt{TxHash: tx.Hash(), Height: 16, Status: block.StatusOK}, Redact: p,
		Payloads: []*bundle.Payload{{Name: "a-very-long-document-name-without-any-spaces-" + long + ".json", SHA256: block.Sum([]byte("a")), Field: "/recordHash/" + long, Data: []byte("x")}}})
	res.Records[2].Receipt.Error = "vm: abort: consent-required: this needs the consent of consent group " + long + long + " over action " + long + "; none was given"
	res.Contracts = []bundle.ContractVersion{{Address: block.Sum([]byte("c")), CodeHash: block.Sum([]byte("code")), Height: 3}}
	rep := Build(res, res.Failures, "T1")
	rep.Trail[1].Corrected = "NOTE=" + long + long + "; SYSBP=182 mm[Hg]"
	rep.Trail[1].Action += " " + long
	return rep
}

// TestReportFitsWidth renders reports in real headless Chromium at
// 1280 px and fails if anything runs off the page (a table wider than the
// window, an unbroken hash). The reports: a stress report built here and
// the demo's real report (testdata/demo-report.json, written by
// 'trialchain audit --format json' from the demo's bundle), rendered by
// this package's template.
func TestReportFitsWidth(t *testing.T) {
	bin := chromium(t)
	reports := map[string]*Report{"stress": stressReport(t)}
	data, err := os.ReadFile(filepath.Join("testdata", "demo-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var demo Report
	if err := json.Unmarshal(data, &demo); err != nil {
		t.Fatalf("testdata/demo-report.json: %v", err)
	}
	reports["demo"] = &demo
	for name, rep := range reports {
		t.Run(name, func(t *testing.T) {
			var html bytes.Buffer
			if err := rep.Write(&html, "html", "2026-03-03T00:00:00Z"); err != nil {
				t.Fatal(err)
			}
			if *writeHTML != "" {
				if err := os.WriteFile(filepath.Join(*writeHTML, name+".html"), html.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			const width = 1280
			viewport, scroll, right, worst := layoutWidth(t, bin, html.String(), width)
			t.Logf("viewport %d px, document %d px, widest element ends at %d px (%s)", viewport, scroll, right, worst)
			if viewport > width || viewport < width-40 {
				t.Fatalf("chromium's viewport is %d px, want about %d", viewport, width)
			}
			if scroll > viewport || right > viewport {
				t.Fatalf("the page is wider than %d px: document %d px, %s ends at %d px", viewport, scroll, worst, right)
			}
		})
	}
}

// TestLayoutCheckCatches: the measurement sees a page that is too wide
// (the check can fail).
func TestLayoutCheckCatches(t *testing.T) {
	bin := chromium(t)
	wide := `<!DOCTYPE html><html><body><table><tr><td>` + strings.Repeat("0123456789abcdef", 40) + `</td></tr></table></body></html>`
	viewport, scroll, right, _ := layoutWidth(t, bin, wide, 1280)
	if scroll <= viewport || right <= viewport {
		t.Fatalf("a 640-character unbroken cell measured as fitting: viewport %d, document %d, right %d", viewport, scroll, right)
	}
}
