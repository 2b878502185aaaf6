//go:build linux

package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestResetMappedWrites: the pages a call writes are found by both ways
// of asking the kernel (PAGEMAP_SCAN and pagemap entries) as the same
// ranges, the reset counts the 64 KiB pages whose content changed
// (a page written with its own bytes is private but unchanged), and the
// memory is the snapshot's afterwards. Pages stay private from one reset
// to the next, so each case sees the pages of the cases before it too.
func TestResetMappedWrites(t *testing.T) {
	const pages = 8 // wasm pages
	snap := make([]byte, pages*pageSize)
	for i := range snap {
		snap[i] = byte(i*7 + i>>16)
	}
	m := mappedSnapshot(t, snap, 2*pages*pageSize)
	per := int(osPage)
	type write struct {
		off  int
		same bool // write the snapshot's own byte back
	}
	cases := []struct {
		name    string
		writes  []write
		changed uint64
		private []int // byte offsets of the OS pages private after the call (written so far)
	}{
		{"none", nil, 0, nil},
		{"one byte", []write{{3*pageSize + 5, false}}, 1, []int{3 * pageSize}},
		{"same bytes back", []write{{pageSize, true}, {pageSize + per, true}}, 0, []int{pageSize, pageSize + per, 3 * pageSize}},
		{"two OS pages of one wasm page", []write{{5 * pageSize, false}, {5*pageSize + 2*per + 1, false}}, 1,
			[]int{pageSize, pageSize + per, 3 * pageSize, 5 * pageSize, 5*pageSize + 2*per}},
		{"first and last byte", []write{{0, false}, {len(snap) - 1, false}}, 2,
			[]int{0, pageSize, pageSize + per, 3 * pageSize, 5 * pageSize, 5*pageSize + 2*per, len(snap) - per}},
		{"again, written before", []write{{3*pageSize + 9, false}, {pageSize, false}}, 2,
			[]int{0, pageSize, pageSize + per, 3 * pageSize, 5 * pageSize, 5*pageSize + 2*per, len(snap) - per}},
	}
	mem := m.bytes(m.mapped)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, w := range c.writes {
				if w.same {
					mem[w.off] = snap[w.off]
				} else {
					mem[w.off] = ^snap[w.off]
				}
			}
			var want []int
			for _, off := range c.private {
				want = append(want, off/per)
			}
			var scratch []byte
			pagesOf := func(rs []byteRange) []int {
				var ps []int
				for _, r := range rs {
					if r.start%per != 0 || r.end%per != 0 || r.end <= r.start {
						t.Fatalf("range %v is not whole OS pages", r)
					}
					for off := r.start; off < r.end; off += per {
						ps = append(ps, off/per)
					}
				}
				return ps
			}
			read, err := m.readWritten(m.mapped, &scratch)
			if err != nil {
				t.Fatal(err)
			}
			if got := pagesOf(read); !slices.Equal(got, want) {
				t.Errorf("pagemap entries: private pages %v, want %v", got, want)
			}
			scan, err := m.scanWritten(m.mapped)
			switch {
			case errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL):
				t.Logf("no PAGEMAP_SCAN here: %v", err)
			case err != nil:
				t.Fatal(err)
			default:
				if got := pagesOf(scan); !slices.Equal(got, want) {
					t.Errorf("PAGEMAP_SCAN: private pages %v, want %v", got, want)
				}
			}
			changed, err := m.resetMapped(snap, &scratch)
			if err != nil || changed != c.changed {
				t.Errorf("reset: %d changed pages (%v), want %d", changed, err, c.changed)
			}
			if !bytes.Equal(mem, snap) {
				t.Fatal("memory is not the snapshot after the reset")
			}
		})
	}
}

// TestScanWrittenManyRanges: more private ranges than one PAGEMAP_SCAN
// call returns (every other OS page written) are all found.
func TestScanWrittenManyRanges(t *testing.T) {
	const pages = 64
	snap := make([]byte, pages*pageSize)
	m := mappedSnapshot(t, snap, pages*pageSize)
	per := int(osPage)
	mem := m.bytes(m.mapped)
	var want []byteRange
	for off := 0; off < len(mem); off += 2 * per {
		mem[off] = 1
		want = append(want, byteRange{off, off + per})
	}
	if len(want) <= scanRegions {
		t.Fatalf("%d ranges do not exceed one scan's %d", len(want), scanRegions)
	}
	var scratch []byte
	got, err := m.scanWritten(m.mapped)
	if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL) {
		t.Skipf("no PAGEMAP_SCAN here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%d ranges, want %d: %s", len(got), len(want), fmt.Sprint(got[:min(4, len(got))]))
	}
	changed, err := m.resetMapped(snap, &scratch)
	if err != nil || changed != pages {
		t.Fatalf("reset: %d changed pages (%v), want %d", changed, err, pages)
	}
}

// mappedSnapshot returns a mapped memory of up to max bytes holding snap
// as its snapshot, freed when the test ends (skipped where the kernel
// offers no memfd or mapped memory).
func mappedSnapshot(t *testing.T, snap []byte, max uint64) *mappedMemory {
	t.Helper()
	f := newSnapshotFile(snap)
	if f == nil {
		t.Skip("no memfd here")
	}
	m := newMappedMemory(max)
	if m == nil {
		t.Skip("no mapped memory here")
	}
	t.Cleanup(m.Free)
	if m.Reallocate(uint64(len(snap))) == nil {
		t.Fatal("reallocate")
	}
	if err := m.mapSnapshot(f); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSnapshotHeldOnce: a compiled module keeps its initialised memory
// once, in the memfd instances map (its reset reads a read-only view of
// it, not a copy on the Go heap), and no longer keeps the data segments
// the snapshot took in.
func TestSnapshotHeldOnce(t *testing.T) {
	e := newTestEngine(t, false)
	defer e.Close(context.Background())
	m := compile(t, e, "counter")
	if m.data != nil {
		t.Fatalf("the module still holds %d data segments after its snapshot", len(m.data))
	}
	if m.snap.file == nil {
		t.Skip("no memfd here")
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip(err)
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(m.snap.mem)))
	for line := range strings.Lines(string(maps)) {
		var lo, hi uintptr
		var perms string
		if _, err := fmt.Sscanf(line, "%x-%x %s", &lo, &hi, &perms); err != nil || p < lo || p >= hi {
			continue
		}
		if !strings.Contains(line, "memfd:trialchain-snapshot") || !strings.HasPrefix(perms, "r--s") {
			t.Fatalf("the snapshot's bytes are not a read-only view of its memfd: %s", line)
		}
		if int(hi-p) < len(m.snap.mem) {
			t.Fatalf("the view ends %d bytes in, the snapshot has %d", hi-p, len(m.snap.mem))
		}
		return
	}
	t.Fatalf("no mapping holds the snapshot's bytes at %#x", p)
}
