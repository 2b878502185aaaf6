package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// Scenario is one manifest: a fault schedule run against a 4-validator
// network of processes under a bounded load. See scenarios/*.json.
type Scenario struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Short scenarios also run in `make test`; the others only in `make e2e`.
	Short bool `json:"short"`
	// Proxy puts a UDP relay in front of every node (needed by partition
	// and loss steps).
	Proxy bool `json:"proxy"`
	// Byzantine makes node index → mode a Byzantine test double from the start.
	Byzantine map[string]string `json:"byzantine"`
	// Load is the offered load, in transactions per second, from a number
	// of concurrent clients.
	Load struct {
		Rate    int `json:"rate"`
		Workers int `json:"workers"`
	} `json:"load"`
	// Duration of the load (and of the schedule).
	Duration Duration `json:"duration"`
	Steps    []Step   `json:"steps"`
	// Expect are the liveness targets the report compares figures with
	// (reported, not asserted: this machine is shared and timings vary).
	Expect struct {
		MaxGap       Duration `json:"max_gap"`
		EmptyWindows int      `json:"empty_windows"`
		CatchUp      Duration `json:"catch_up"`
		// Assert turns MaxGap into a failure when exceeded (for targets an
		// issue requires as a test; the others are only reported).
		Assert bool `json:"assert"`
	} `json:"expect"`
}

// Step is one perturbation at a time offset from the load's start.
type Step struct {
	At Duration `json:"at"`
	// Do is one of: kill, start, restart, pause, resume, kill-all,
	// start-all, crash-loop, partition, heal, loss, tamper (stop the node,
	// alter an anchor label, a receipt and a header time in its store,
	// check that `trialchain doctor` finds it, restart the node and check
	// that it repairs itself from its peers and then serves the committed
	// values, as another node does), repair (stop the node, remove its data
	// directory, restart it: it catches up from its peers), deploy (submit
	// a deploy of contract Code through Node without waiting; it must
	// commit before the faults are lifted, and is then checked like any
	// acknowledged transaction).
	Do string `json:"do"`
	// Node chooses the target: "leader", "follower", "same" (the previous
	// step's), "random" or an index.
	Node string `json:"node"`
	// Down is how long restart and crash-loop keep a node down.
	Down Duration `json:"down"`
	// For and Every drive crash-loop: a random node is killed every Every
	// for For, and restarted after Down.
	For   Duration `json:"for"`
	Every Duration `json:"every"`
	// FollowersOnly makes crash-loop spare the leader.
	FollowersOnly bool `json:"followers_only"`
	// Groups for partition; Rate for loss.
	Groups [][]int `json:"groups"`
	Rate   float64 `json:"rate"`
	// Code names the contract of a deploy step: NAME.wasm in the
	// contracts directory (make contracts builds bin/contracts).
	Code string `json:"code"`
}

// Duration is a time.Duration written as "5s" in JSON.
type Duration time.Duration

// UnmarshalJSON reads "1m30s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var f float64
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("duration: want \"5s\" or seconds, got %s", b)
		}
		*d = Duration(f * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// LoadScenarios reads every *.json manifest in dir, sorted by file name.
func LoadScenarios(dir string) ([]*Scenario, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*Scenario
	for _, f := range files {
		s, err := LoadScenario(f)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// LoadScenario reads and checks one manifest.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := &Scenario{}
	dec := json.NewDecoder(bytesReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return s, nil
}

// Validate checks a manifest's values.
func (s *Scenario) Validate() error {
	switch {
	case s.Name == "":
		return fmt.Errorf("no name")
	case s.Duration <= 0 || s.Duration.D() > 10*time.Minute:
		return fmt.Errorf("duration must be in (0, 10m]")
	case s.Load.Rate <= 0 || s.Load.Rate > 2000 || s.Load.Workers <= 0 || s.Load.Workers > 256:
		return fmt.Errorf("load: rate in (0, 2000], workers in (0, 256]")
	}
	for k, v := range s.Byzantine {
		if i, err := strconv.Atoi(k); err != nil || i < 0 || i > 3 || v == "" {
			return fmt.Errorf("byzantine: want {\"INDEX\": \"MODE\"}, got %q: %q", k, v)
		}
	}
	for i, st := range s.Steps {
		if st.At < 0 || st.At > s.Duration {
			return fmt.Errorf("step %d: at %v outside the duration", i, st.At.D())
		}
		switch st.Do {
		case "kill", "start", "pause", "resume":
		case "restart":
		case "kill-all", "start-all", "heal", "tamper", "repair":
		case "deploy":
			if st.Code == "" {
				return fmt.Errorf("step %d: deploy needs code (a contract name)", i)
			}
		case "crash-loop":
			if st.For <= 0 || st.Every <= 0 || st.Down <= 0 || st.Down >= st.Every*4 {
				return fmt.Errorf("step %d: crash-loop needs for, every and down (down < 4 every)", i)
			}
		case "partition":
			if len(st.Groups) < 2 {
				return fmt.Errorf("step %d: partition needs at least two groups", i)
			}
			if !s.Proxy {
				return fmt.Errorf("step %d: partition needs \"proxy\": true", i)
			}
		case "loss":
			if st.Rate < 0 || st.Rate >= 1 || !s.Proxy {
				return fmt.Errorf("step %d: loss needs a rate in [0, 1) and \"proxy\": true", i)
			}
		default:
			return fmt.Errorf("step %d: unknown action %q", i, st.Do)
		}
	}
	return nil
}
