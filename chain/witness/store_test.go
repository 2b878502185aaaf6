package witness_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/witness"
	"github.com/trialchain/trialchain/chain/witness/witnesstest"
)

// cosignSteps makes a witness cosign n successive checkpoints of c and
// returns the home after each step (a copy of its files).
func cosignSteps(t *testing.T, c *witnesstest.Chain, n int) (string, []map[string]string) {
	t.Helper()
	w, dir := newWitness(t, c)
	var steps []map[string]string
	for i := 0; i < n; i++ {
		grow(t, c, "r", 1, 2)
		if _, err := add(t, w, c); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, snapshot(t, dir))
	}
	w.Close()
	return dir, steps
}

func write(t *testing.T, dir, name, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func openStore(dir string) (*witness.Store, error) {
	_, pk, err := witness.LoadKey(dir)
	if err != nil {
		return nil, err
	}
	return witness.Open(dir, pk)
}

// TestStateDamage: each way the witness's memory can be damaged is
// refused at start with its own error, and the refusal writes nothing.
func TestStateDamage(t *testing.T) {
	type damage struct {
		name string
		do   func(t *testing.T, dir string, steps []map[string]string)
		want error
		says string
	}
	cases := []damage{
		{"state file truncated", func(t *testing.T, dir string, s []map[string]string) {
			st := s[4][witness.StateFile]
			write(t, dir, witness.StateFile, st[:len(st)/2])
		}, witness.ErrStateCorrupt, "truncated or corrupt"},
		{"state file rolled back", func(t *testing.T, dir string, s []map[string]string) {
			write(t, dir, witness.StateFile, s[1][witness.StateFile]) // 2 cosigned; the log holds 5
		}, witness.ErrRolledBack, "counts 2 cosigned checkpoints"},
		{"state file rolled back to the start", func(t *testing.T, dir string, s []map[string]string) {
			write(t, dir, witness.StateFile, s[0][witness.StateFile])
		}, witness.ErrRolledBack, "rolled back"},
		{"log truncated by one record", func(t *testing.T, dir string, s []map[string]string) {
			write(t, dir, witness.LogFile, s[3][witness.LogFile])
		}, witness.ErrLogTruncated, "holds 4 complete records"},
		{"log truncated mid-record", func(t *testing.T, dir string, s []map[string]string) {
			l := s[4][witness.LogFile]
			write(t, dir, witness.LogFile, l[:len(l)-len(l)/3])
		}, witness.ErrLogTruncated, "truncated"},
		{"log emptied", func(t *testing.T, dir string, s []map[string]string) {
			write(t, dir, witness.LogFile, "")
		}, witness.ErrLogTruncated, "holds 0 complete records"},
		{"log deleted", func(t *testing.T, dir string, s []map[string]string) {
			os.Remove(filepath.Join(dir, witness.LogFile))
		}, witness.ErrLogTruncated, "missing"},
		{"state file deleted", func(t *testing.T, dir string, s []map[string]string) {
			os.Remove(filepath.Join(dir, witness.StateFile))
		}, witness.ErrStateMissing, "holds 5 cosigned"},
		{"log record edited", func(t *testing.T, dir string, s []map[string]string) {
			l := []byte(s[4][witness.LogFile])
			l[60] ^= 1 // inside the first record's cosignature
			write(t, dir, witness.LogFile, string(l))
		}, witness.ErrLogCorrupt, "record 1"},
		{"state file's log head edited", func(t *testing.T, dir string, s []map[string]string) {
			st := []byte(s[4][witness.StateFile])
			i := strings.Index(string(st), `"head": "`) + len(`"head": "`)
			if st[i] == '0' {
				st[i] = '1'
			} else {
				st[i] = '0'
			}
			write(t, dir, witness.StateFile, string(st))
		}, witness.ErrDisagree, "hash chain"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := witnesstest.New(t, "trial-net", 7)
			dir, steps := cosignSteps(t, c, 5)
			tc.do(t, dir, steps)
			before := snapshot(t, dir)
			_, err := openStore(dir)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %q does not say %q", err, tc.says)
			}
			sameFiles(t, dir, before)
		})
	}
}

// TestCrashRecovery: the two states a crash inside Append can leave are
// repaired, and the witness goes on from the right checkpoint.
func TestCrashRecovery(t *testing.T) {
	t.Run("log synced, state not replaced", func(t *testing.T) {
		c := witnesstest.New(t, "trial-net", 7)
		dir, steps := cosignSteps(t, c, 3)
		write(t, dir, witness.StateFile, steps[1][witness.StateFile]) // one behind: the rename never happened
		st, err := openStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		if st.Count() != 3 || st.Latest().Height != c.Height() || !strings.Contains(st.Recovered, "rolled the state file forward") {
			t.Fatalf("recovered to %d records, block %d (%q)", st.Count(), st.Latest().Height, st.Recovered)
		}
		st.Close()
	})
	t.Run("partial record at the log's end", func(t *testing.T) {
		c := witnesstest.New(t, "trial-net", 7)
		dir, steps := cosignSteps(t, c, 3)
		full, prev := steps[2][witness.LogFile], steps[1][witness.LogFile]
		write(t, dir, witness.LogFile, full[:len(prev)+40]) // the third record half written
		write(t, dir, witness.StateFile, steps[1][witness.StateFile])
		st, err := openStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		if st.Count() != 2 || !strings.Contains(st.Recovered, "partial record") {
			t.Fatalf("recovered to %d records (%q)", st.Count(), st.Recovered)
		}
		st.Close()
		if b, _ := os.ReadFile(filepath.Join(dir, witness.LogFile)); string(b) != prev {
			t.Fatal("the partial record was not cut off")
		}
		// The witness goes on from block 2's checkpoint.
		w := openWitness(t, c, dir)
		if _, err := add(t, w, c); err != nil {
			t.Fatal(err)
		}
	})
}

// TestOtherChainRefused: a witness bound to one chain refuses to serve
// another genesis, and a checkpoint of another chain, writing nothing.
func TestOtherChainRefused(t *testing.T) {
	c := witnesstest.New(t, "trial-net", 7)
	w, dir := newWitness(t, c)
	grow(t, c, "x", 2, 2)
	if _, err := add(t, w, c); err != nil {
		t.Fatal(err)
	}
	other := witnesstest.New(t, "other-net", 7)
	grow(t, other, "x", 3, 2)
	before := snapshot(t, dir)
	_, err := w.Add(&witness.Request{OldSize: w.Latest().LogSize, Checkpoint: other.Checkpoint(t, 0)})
	if !errors.Is(err, witness.ErrWrongChain) || !strings.Contains(err.Error(), `of chain "other-net"`) {
		t.Fatalf("got %v", err)
	}
	sameFiles(t, dir, before)
	w.Close()
	key, pk, _ := witness.LoadKey(dir)
	st, err := witness.Open(dir, pk)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := witness.New(st, key, pk.Name, other.G, clock); !errors.Is(err, witness.ErrChainMismatch) {
		t.Fatalf("serving another genesis: got %v", err)
	}
	sameFiles(t, dir, before)
}

// TestOneProcessPerHome: a second Open of a home in use is refused.
func TestOneProcessPerHome(t *testing.T) {
	c := witnesstest.New(t, "trial-net", 7)
	_, dir := newWitness(t, c)
	if _, err := openStore(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open: %v", err)
	}
}

func TestInitRefusesExisting(t *testing.T) {
	dir := t.TempDir()
	if _, err := witness.Init(dir, "regulator"); err != nil {
		t.Fatal(err)
	}
	if _, err := witness.Init(dir, "regulator"); !errors.Is(err, witness.ErrExists) {
		t.Fatalf("got %v", err)
	}
	if st, err := os.Stat(filepath.Join(dir, witness.KeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st.Mode(), err)
	}
}
