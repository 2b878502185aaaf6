package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
)

// A repaired store replaces a damaged one in three steps, each of which a
// crash may interrupt without leaving a half-written store in use:
//
//  1. RepairDir(dir) clears and names DIR.repair; the repair writes a whole
//     new store there (Open, commits, Close). A crash leaves an unfinished
//     DIR.repair, which nothing opens and the next RepairDir or
//     FinishRepair removes.
//  2. CommitRepair(dir) renames DIR.repair to DIR.repaired (one atomic
//     rename, then the parent directory is synced): from then on the
//     repaired store is the one to use.
//  3. FinishRepair(dir), before dir is opened: if DIR.repaired exists it
//     moves the damaged DIR aside, renames DIR.repaired to DIR, syncs the
//     parent and removes the damaged copy. Each step is a rename, and a
//     crash between them is finished by the next FinishRepair (DIR missing
//     and DIR.repaired present means the first rename was done).

// RepairDir removes what an earlier, unfinished repair of the store in dir
// left and returns the directory a new repair writes to.
func RepairDir(dir string) (string, error) {
	tmp := filepath.Clean(dir) + ".repair"
	if err := os.RemoveAll(tmp); err != nil {
		return "", fmt.Errorf("store: clear %s: %w", tmp, err)
	}
	return tmp, nil
}

// CommitRepair marks the store written (and closed) in RepairDir(dir) as
// the one to use: the next FinishRepair(dir) swaps it in.
func CommitRepair(dir string) error {
	dir = filepath.Clean(dir)
	if err := os.Rename(dir+".repair", dir+".repaired"); err != nil {
		return fmt.Errorf("store: commit repair: %w", err)
	}
	return syncDir(filepath.Dir(dir))
}

// FinishRepair swaps a committed repair (CommitRepair) in place of the
// store in dir, and removes the leftovers of an unfinished one. It reports
// whether a repaired store was swapped in. Call it before Open(dir).
func FinishRepair(dir string) (bool, error) {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.RemoveAll(dir + ".repair"); err != nil {
		return false, fmt.Errorf("store: clear unfinished repair: %w", err)
	}
	done, damaged := dir+".repaired", dir+".damaged"
	if _, err := os.Stat(done); errors.Is(err, fs.ErrNotExist) {
		if err := os.RemoveAll(damaged); err != nil {
			return false, fmt.Errorf("store: remove the damaged copy: %w", err)
		}
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("store: finish repair: %w", err)
	}
	if _, err := os.Stat(dir); err == nil {
		if err := os.RemoveAll(damaged); err != nil {
			return false, fmt.Errorf("store: finish repair: %w", err)
		}
		if err := os.Rename(dir, damaged); err != nil {
			return false, fmt.Errorf("store: finish repair: move the damaged store aside: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("store: finish repair: %w", err)
	}
	if err := os.Rename(done, dir); err != nil {
		return false, fmt.Errorf("store: finish repair: %w", err)
	}
	if err := syncDir(parent); err != nil {
		return false, err
	}
	if err := os.RemoveAll(damaged); err != nil {
		return true, fmt.Errorf("store: remove the damaged copy: %w", err)
	}
	return true, nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: sync %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("store: sync %s: %w", dir, err)
	}
	return nil
}

// CopyPayloadsTo copies every off-chain payload s holds (its ciphertext
// and wrapped data key, as stored) into dst, a store being rebuilt: a
// repair re-executes the chain into a new store, and payloads are not on
// the chain. They need no check here: each is sealed with its hash as
// associated data, and Payload refuses one that does not open. dst must
// use the same KeyWrapper. Payloads the rebuilt chain redacts are dropped
// at dst's next open (reconcilePayloads).
func (s *Store) CopyPayloadsTo(dst *Store) error {
	lo := []byte{pPayload}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: upperBound(lo)})
	if err != nil {
		return fmt.Errorf("store: copy payloads: %w", err)
	}
	defer it.Close()
	b := dst.db.NewBatch()
	defer b.Close()
	kb := dst.keys.NewBatch()
	defer kb.Close()
	for ok := it.First(); ok; ok = it.Next() {
		h := it.Key()[1:]
		if err := b.Set(it.Key(), it.Value(), nil); err != nil {
			return fmt.Errorf("store: copy payloads: %w", err)
		}
		v, closer, err := s.keys.Get(h)
		if errors.Is(err, pebble.ErrNotFound) {
			continue // shredded
		}
		if err != nil {
			return fmt.Errorf("store: copy payload keys: %w", err)
		}
		err = kb.Set(h, v, nil)
		closer.Close()
		if err != nil {
			return fmt.Errorf("store: copy payload keys: %w", err)
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("store: copy payloads: %w", err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: copy payloads: %w", err)
	}
	if err := kb.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("store: copy payload keys: %w", err)
	}
	if err := dst.keys.Flush(); err != nil { // the key store has no WAL
		return fmt.Errorf("store: copy payload keys: %w", err)
	}
	return nil
}
