package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeBlocks returns the fenced shell blocks (```sh, ```bash,
// ```console) of the README section whose "## " heading starts with
// heading, each as its command lines: continuation lines joined, comment
// lines dropped, a "$ " prompt removed.
func readmeBlocks(readme, heading string) ([][]string, error) {
	i := strings.Index(readme, "\n## "+heading)
	if i < 0 {
		return nil, fmt.Errorf("README has no section %q", heading)
	}
	sec := readme[i+1:]
	if j := strings.Index(sec[3:], "\n## "); j >= 0 {
		sec = sec[:j+3]
	}
	var blocks [][]string
	var cur []string
	in, cont := false, ""
	for _, l := range strings.Split(sec, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case !in && (t == "```sh" || t == "```bash" || t == "```console" || t == "```shell"):
			in, cur = true, nil
		case in && t == "```":
			in = false
			blocks = append(blocks, cur)
		case in:
			t = strings.TrimPrefix(cont+t, "$ ")
			cont = ""
			if strings.HasSuffix(t, "\\") {
				cont = strings.TrimSuffix(t, "\\") + " "
				continue
			}
			if t != "" && !strings.HasPrefix(t, "#") {
				cur = append(cur, t)
			}
		}
	}
	if in {
		return nil, fmt.Errorf("section %q: unterminated code block", heading)
	}
	return blocks, nil
}

// shellWords splits a command line as sh would for the README's lines:
// '…' and "…" quoting, a word starting with # ending the line, $NAME
// (unquoted) replaced by the words of vars[NAME].
func shellWords(line string, vars map[string]string) ([]string, error) {
	var words []string
	var w strings.Builder
	has := false
	flush := func() {
		if has {
			words = append(words, w.String())
		}
		w.Reset()
		has = false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !has:
			flush()
			return words, nil
		case c == '\'' || c == '"':
			j := strings.IndexByte(line[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated %c in %q", c, line)
			}
			w.WriteString(line[i+1 : i+1+j])
			has, i = true, i+1+j
		case c == '$' && !has:
			j := i + 1
			for j < len(line) && (line[j] == '_' || line[j] >= 'A' && line[j] <= 'Z') {
				j++
			}
			v, ok := vars[line[i+1:j]]
			if !ok {
				return nil, fmt.Errorf("$%s is not defined (in %q)", line[i+1:j], line)
			}
			words = append(words, strings.Fields(v)...)
			i = j - 1
		default:
			w.WriteByte(c)
			has = true
		}
	}
	flush()
	return words, nil
}

func TestShellWords(t *testing.T) {
	vars := map[string]string{"K": "--keyring devnet/keys", "N": "--home devnet/node0"}
	for _, tc := range []struct{ in, want string }{
		{`trialchain a SYSBP="128 mm[Hg]" $K $N   # prints ADDR`, "trialchain|a|SYSBP=128 mm[Hg]|--keyring|devnet/keys|--home|devnet/node0"},
		{`x '{"by":5}' --text "130 in the source?"`, `x|{"by":5}|--text|130 in the source?`},
		{`x --arm-map "Placebo=placebo" a#b`, "x|--arm-map|Placebo=placebo|a#b"},
	} {
		got, err := shellWords(tc.in, vars)
		if err != nil || strings.Join(got, "|") != tc.want {
			t.Errorf("shellWords(%q) = %q, %v; want %q", tc.in, strings.Join(got, "|"), err, tc.want)
		}
	}
	if _, err := shellWords(`x $UNSET`, vars); err == nil {
		t.Error("an undefined variable was accepted")
	}
}

// TestReadmeTrialSection runs every command of the README's
// "Clinical-trial commands" section, in order and as written, on a fresh
// 4-validator devnet: the files the README takes to be the user's own
// (ResearchStudy.json, edc-export.xml, …) are the fixtures, the consent
// group board/ is made as the consent section makes it (with a stored
// dealer key instead of minutes of safe primes), and the placeholders the
// README tells the reader to fill in (ADDR, SUBJECT, HASH) are taken from
// the output of the command that printed them. Any non-zero exit fails.
func TestReadmeTrialSection(t *testing.T) {
	if _, err := os.Stat(trialsFixturesDir); err != nil {
		t.Skipf("conformance fixtures not available (%s absent): %v", trialsFixturesDir, err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readmeBlocks(string(readme), "Clinical-trial commands")
	if err != nil {
		t.Fatal(err)
	}
	// K and N as the README defines them for the devnet.
	kn := regexp.MustCompile(`(?m)^K="([^"]+)"; N="([^"]+)"$`).FindStringSubmatch(string(readme))
	if kn == nil {
		t.Fatal(`README does not define K="…"; N="…"`)
	}
	vars := map[string]string{"K": kn[1], "N": kn[2]}

	work := t.TempDir()
	for _, n := range []string{"trial-protocol", "genome-access"} {
		if out, err := buildWasm("../../contracts-examples/"+n, filepath.Join(work, "bin", "contracts", n+".wasm")); err != nil {
			t.Fatalf("build %s: %v\n%s", n, err, out)
		}
	}
	net, _ := procNetwork(t)
	if err := os.Symlink(net, filepath.Join(work, "devnet")); err != nil {
		t.Fatal(err)
	}
	in := func(args ...string) string {
		t.Helper()
		c := exec.Command(binPath, args...)
		c.Dir = work
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		if err := c.Run(); err != nil {
			t.Fatalf("$ trialchain %s\n%s%v", strings.Join(args, " "), out.String(), err)
		}
		return out.String()
	}
	// The consent section's board, registered.
	kr := strings.Fields(vars["K"])
	in(append([]string{"consent", "group", "new", "--name", "board", "--threshold", "2", "--party", "sponsor=sponsor",
		"--party", "site=site", "--party", "admin=admin", "--dealer-key", abs(t, "../../chain/consent/testdata/testkey-2048.pem"), "--out", "board"}, kr...)...)
	in(append(append([]string{"consent", "group", "register", "board/group.json", "--from", "sponsor"}, kr...), strings.Fields(vars["N"])...)...)

	// The user's own files.
	copyIn := func(name, fixture string) {
		b, err := os.ReadFile(filepath.Join(trialsFixturesDir, fixture))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyIn("ResearchStudy.json", "fhir-r5/ResearchStudy-example-ctgov-study-record.json")
	copyIn("edc-export.xml", "cdisc-odm/Chronic_Low_Back_Pain_example.xml")
	// The ADaM datasets of a two-arm trial: the pilot study's without its low-dose arm.
	twoArms(t, filepath.Join(work, "adtte.json"), "cdisc-dataset-json/adtte.json", "TRTA", "Xanomeline Low Dose")
	twoArms(t, filepath.Join(work, "adsl.json"), "cdisc-dataset-json/adsl.json", "TRT01A", "Xanomeline Low Dose")
	for name, content := range map[string]string{"signed-consent.pdf": "signed informed consent", "wgs.vcf.enc": "encrypted genome", "irb.pdf": "IRB approval"} {
		if err := os.WriteFile(filepath.Join(work, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	hex64 := regexp.MustCompile(`\b[0-9a-f]{64}\b`)
	subjectRe := regexp.MustCompile(`\b[0-9a-f]{32}\b`)
	ph := map[string]string{} // placeholders filled from output
	ran := 0
	for bi, block := range blocks {
		for _, line := range block {
			args, err := shellWords(line, vars)
			if err != nil {
				t.Fatalf("block %d: %v", bi+1, err)
			}
			if len(args) == 0 || args[0] != "trialchain" {
				t.Fatalf("block %d: %q is not a trialchain command", bi+1, line)
			}
			for i, a := range args {
				for p, v := range ph {
					a = strings.ReplaceAll(a, p, v)
				}
				args[i] = a
			}
			if sub, ok := ph["SUBJECT"]; ok { // the site's subject table
				if err := os.WriteFile(filepath.Join(work, "subjects.map"), []byte("001="+sub+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := filepath.Glob(filepath.Join(work, "records", "*.rec"))
			out := in(args[1:]...)
			ran++
			if testing.Verbose() {
				t.Logf("$ %s\n%s", strings.Join(args, " "), out)
			}
			switch {
			case len(args) > 2 && args[1] == "contract" && args[2] == "deploy":
				ph["ADDR"] = hex64.FindString(out)
			case len(args) > 2 && args[1] == "trial" && args[2] == "enroll":
				ph["SUBJECT"] = subjectRe.FindString(out)
			}
			if after, _ := filepath.Glob(filepath.Join(work, "records", "*.rec")); len(before) == 0 && len(after) == 1 {
				ph["HASH"] = strings.TrimSuffix(filepath.Base(after[0]), ".rec")
			}
		}
	}
	if ran < 20 {
		t.Fatalf("ran %d commands of the section: the parser lost some", ran)
	}
	t.Logf("%d commands of %d blocks ran as written", ran, len(blocks))
}

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// twoArms writes the fixture Dataset-JSON without the rows whose column
// col is drop, its record count adjusted.
func twoArms(t *testing.T, out, fixture, col, drop string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(trialsFixturesDir, fixture))
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	at := -1
	cols, _ := d["columns"].([]any)
	for i, c := range cols {
		if m, _ := c.(map[string]any); m["name"] == col {
			at = i
		}
	}
	rows, _ := d["rows"].([]any)
	if at < 0 || len(rows) == 0 {
		t.Fatalf("%s: no column %s or no rows", fixture, col)
	}
	var kept []any
	for _, r := range rows {
		if r.([]any)[at] != drop {
			kept = append(kept, r)
		}
	}
	if len(kept) == len(rows) {
		t.Fatalf("%s: no %s rows to drop", fixture, drop)
	}
	d["rows"], d["records"] = kept, len(kept)
	if b, err = json.Marshal(d); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
