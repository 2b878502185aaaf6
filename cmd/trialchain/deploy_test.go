package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// consortium is a running compose project of deploy/compose.yaml.
type consortium struct {
	t       *testing.T
	compose []string // the compose command: docker-compose or docker compose
	file    string
	project string
	env     []string
}

// composeTool finds Docker and its Compose tool, or skips the test saying
// why: the consortium test needs a Docker engine.
func composeTool(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("docker not on PATH: the consortium test runs four containers and needs Docker with Compose")
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("no Docker engine (docker info: %v: %s): the consortium test needs one", err, bytes.TrimSpace(out))
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}
	}
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	t.Skip("Docker has no Compose tool (docker-compose or docker compose): the consortium test needs one")
	return nil
}

// TestConsortiumCompose builds the image, starts deploy/compose.yaml (four
// organisations, one validator container each), commits, stops a container
// and restarts it, cuts one container off the consortium network and shows
// the other three commit, then reconnects it and shows it catch up. Before
// each fault it waits for every node's metrics to show links to all three
// others. Everything it creates (image, containers, networks, volumes) is
// removed at the end, whatever happens.
func TestConsortiumCompose(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the consortium test builds an image and runs four containers")
	}
	tool := composeTool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	id := hex.EncodeToString(rnd[:])
	image := "trialchain-test:" + id

	// The image, as `make image` builds it.
	dir := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(dir, "trialchain"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	df, err := os.ReadFile(filepath.Join("deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), df, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, "docker", "build", "-q", "-t", image, dir).CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", image).Run() })

	file, err := filepath.Abs(filepath.Join("deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := &consortium{t: t, compose: tool, file: file, project: "tcops" + id,
		env: append(os.Environ(), "TRIALCHAIN_IMAGE="+image)}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := c.run(context.Background(), "logs", "--no-color", "--tail", "40")
			t.Logf("compose logs:\n%s", out)
		}
		if out, err := c.run(context.Background(), "down", "-v", "--remove-orphans", "-t", "5"); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	start := time.Now()
	if out, err := c.run(ctx, "up", "-d"); err != nil {
		t.Fatalf("compose up: %v\n%s", err, out)
	}
	t.Logf("network up in %v", time.Since(start).Round(time.Millisecond))
	orgs := []string{"sponsor", "hospital-a", "hospital-b", "regulator"}

	for _, org := range orgs {
		c.waitReady(ctx, org)
	}
	t.Logf("four APIs answer %v after up", time.Since(start).Round(time.Millisecond))

	// 1. All four commit.
	h := c.anchor(ctx, "sponsor", "first")
	for _, org := range orgs {
		c.waitHeight(ctx, org, h)
	}

	// 2. A stopped container misses blocks; restarted, it keeps its data
	// (its volume) and catches up.
	c.waitLinks(ctx, orgs)
	if out, err := c.run(ctx, "stop", "-t", "10", "hospital-b"); err != nil {
		t.Fatalf("compose stop: %v\n%s", err, out)
	}
	h = c.anchor(ctx, "sponsor", "while-stopped")
	for _, org := range []string{"sponsor", "hospital-a", "regulator"} {
		c.waitHeight(ctx, org, h)
	}
	if out, err := c.run(ctx, "start", "hospital-b"); err != nil {
		t.Fatalf("compose start: %v\n%s", err, out)
	}
	restarted := time.Now()
	c.waitReady(ctx, "hospital-b")
	c.waitHeight(ctx, "hospital-b", h)
	t.Logf("hospital-b caught up to height %d in %v after restarting", h, time.Since(restarted).Round(time.Millisecond))
	h = c.anchor(ctx, "hospital-b", "after-restart")
	for _, org := range orgs {
		c.waitHeight(ctx, org, h)
	}

	// 3. The regulator is cut off: the other three still commit (3 of 4
	// is a quorum), the regulator does not move.
	c.waitLinks(ctx, orgs)
	network := c.project + "_consortium"
	regulator := c.container(ctx, "regulator")
	if out, err := exec.CommandContext(ctx, "docker", "network", "disconnect", network, regulator).CombinedOutput(); err != nil {
		t.Fatalf("network disconnect: %v\n%s", err, out)
	}
	var cut uint64
	for i := 0; i < 2; i++ {
		cut = c.anchor(ctx, "hospital-a", fmt.Sprintf("cut-%d", i))
	}
	for _, org := range orgs[:3] {
		c.waitHeight(ctx, org, cut)
	}
	if got := c.height(ctx, "regulator"); got >= cut {
		t.Fatalf("regulator cut off from the consortium network reached height %d (the others %d)", got, cut)
	}

	// 4. Reconnected, it catches up and commits with the others again.
	if out, err := exec.CommandContext(ctx, "docker", "network", "connect", network, regulator).CombinedOutput(); err != nil {
		t.Fatalf("network connect: %v\n%s", err, out)
	}
	reconnected := time.Now()
	c.waitHeight(ctx, "regulator", cut)
	t.Logf("regulator caught up to height %d in %v after reconnecting", cut, time.Since(reconnected).Round(time.Millisecond))
	h = c.anchor(ctx, "regulator", "back")
	for _, org := range orgs {
		c.waitHeight(ctx, org, h)
	}
	// What each node's metrics say of its links now (after a cut the
	// transport may take a while to redial; blocks flow regardless).
	for _, org := range orgs {
		t.Logf("%s: links to %v peers after the reconnection", org, c.scrape(ctx, org)["trialchain_peers_connected"])
	}
}

func (c *consortium) run(ctx context.Context, args ...string) ([]byte, error) {
	all := append(append(append([]string{}, c.compose[1:]...), "-f", c.file, "-p", c.project), args...)
	cmd := exec.CommandContext(ctx, c.compose[0], all...)
	cmd.Env = c.env
	return cmd.CombinedOutput()
}

// container is the id of a service's container.
func (c *consortium) container(ctx context.Context, service string) string {
	c.t.Helper()
	out, err := c.run(ctx, "ps", "-q", service)
	id := strings.TrimSpace(string(out))
	if err != nil || id == "" {
		c.t.Fatalf("compose ps %s: %v\n%s", service, err, out)
	}
	return id
}

// cli runs trialchain inside a service's container (the image has no shell:
// the binary is the client too), against that organisation's own node.
func (c *consortium) cli(ctx context.Context, service string, args ...string) ([]byte, error) {
	all := append([]string{"exec", c.container(ctx, service), "/trialchain"}, args...)
	all = append(all, "--client-config", "/net/client.toml", "--node", "https://"+service+":26601")
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", all...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%v: %s", err, bytes.TrimSpace(errb.Bytes()))
	}
	return out.Bytes(), nil
}

// anchor commits one anchor transaction through a service's node and
// returns the height of its block.
func (c *consortium) anchor(ctx context.Context, service, label string) uint64 {
	c.t.Helper()
	actx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	// A node that complained about the leader while it was cut off answers
	// "no leader" until its view catches up with the others' (SmartBFT);
	// a user retries that, and so does the test, saying how long it took.
	start := time.Now()
	var out []byte
	var err error
	for {
		out, err = c.cli(actx, service, "anchor", "/net/genesis.json", "--label", label, "--from", "sponsor", "--wait", "-o", "json")
		if err == nil || !strings.Contains(string(out), "no leader") || actx.Err() != nil {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if err != nil {
		c.t.Fatalf("anchor %s through %s: %v\n%s", label, service, err, out)
	}
	if d := time.Since(start); d > 5*time.Second {
		c.t.Logf("anchor %s through %s: accepted after %v of \"no leader\" answers", label, service, d.Round(time.Millisecond))
	}
	var r struct {
		Receipt struct {
			Height uint64 `json:"height"`
		} `json:"receipt"`
	}
	if err := json.Unmarshal(out, &r); err != nil || r.Receipt.Height == 0 {
		c.t.Fatalf("anchor %s: no receipt height in %s (%v)", label, out, err)
	}
	return r.Receipt.Height
}

// height is a node's committed height (0 when it does not answer).
func (c *consortium) height(ctx context.Context, service string) uint64 {
	out, err := c.cli(ctx, service, "status", "-o", "json")
	if err != nil {
		return 0
	}
	var s struct {
		Height uint64 `json:"height"`
	}
	if json.Unmarshal(out, &s) != nil {
		return 0
	}
	return s.Height
}

// waitReady waits (at most 60 s) for a node's API to answer.
func (c *consortium) waitReady(ctx context.Context, service string) {
	c.t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		_, err := c.cli(wctx, service, "status", "-o", "json")
		if err == nil {
			return
		}
		select {
		case <-wctx.Done():
			c.t.Fatalf("%s's API does not answer: %v", service, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// scrape reads a node's metrics through its published metrics port
// (name{labels} → value; nil if it does not answer).
func (c *consortium) scrape(ctx context.Context, service string) map[string]float64 {
	out, err := c.run(ctx, "port", service, "9100")
	if err != nil {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+strings.TrimSpace(string(out))+"/metrics", nil)
	if err != nil {
		return nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.LastIndexByte(line, ' '); i > 0 && !strings.HasPrefix(line, "#") {
			if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
				m[line[:i]] = v
			}
		}
	}
	return m
}

// waitLinks waits (at most 60 s) until every node's metrics show links to
// all three others: the network is whole again before the next fault.
func (c *consortium) waitLinks(ctx context.Context, services []string) {
	c.t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, s := range services {
		for {
			m := c.scrape(wctx, s)
			if m["trialchain_peers_connected"] == float64(len(services)-1) {
				break
			}
			select {
			case <-wctx.Done():
				c.t.Fatalf("%s has links to %v peers, want %d", s, m["trialchain_peers_connected"], len(services)-1)
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

// waitHeight waits (at most 90 s) for a node to reach height h.
func (c *consortium) waitHeight(ctx context.Context, service string, h uint64) {
	c.t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for {
		got := c.height(wctx, service)
		if got >= h {
			return
		}
		select {
		case <-wctx.Done():
			c.t.Fatalf("%s stayed at height %d, want %d", service, got, h)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
