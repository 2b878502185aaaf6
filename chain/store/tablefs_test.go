package store

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestTableFSWrites writes a table file through tableFS in pieces of
// various sizes and checks, after each way of ending the writes, that the
// file holds every byte in order.
func TestTableFSWrites(t *testing.T) {
	piece := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }
	tests := []struct {
		name   string
		pieces [][]byte
		end    func(t *testing.T, f vfs.File)
	}{
		{"small pieces, close", [][]byte{piece(10, 1), piece(4096, 2), piece(5, 3)}, closeFile},
		{"exactly the buffer, close", [][]byte{piece(tableWriteBuffer, 4)}, closeFile},
		{"over the buffer in small pieces, sync", pieces(tableWriteBuffer/4000+3, 4000), syncFile},
		{"a piece larger than the buffer after a small one, sync data", [][]byte{piece(7, 5), piece(tableWriteBuffer+1, 6), piece(9, 7)}, syncDataFile},
		{"sync to, then stat", pieces(100, 4101), syncToFile},
		{"nothing written, close", nil, closeFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := vfs.NewMem()
			fs := tableFS{mem}
			f, err := fs.Create("000001.sst", vfs.WriteCategoryUnspecified)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := f.(*bufferedFile); !ok {
				t.Fatalf("Create(.sst) = %T, want *bufferedFile", f)
			}
			var want []byte
			for _, p := range tt.pieces {
				want = append(want, p...) // before: vfs.File.Write may modify p
				n, err := f.Write(p)
				if err != nil || n != len(p) {
					t.Fatalf("Write(%d bytes) = %d, %v", len(p), n, err)
				}
			}
			tt.end(t, f)
			got := readAll(t, mem, "000001.sst")
			if !bytes.Equal(got, want) {
				t.Fatalf("file holds %d bytes, want the %d written", len(got), len(want))
			}
		})
	}
}

func pieces(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = bytes.Repeat([]byte{byte(i)}, size)
	}
	return out
}

func closeFile(t *testing.T, f vfs.File) {
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func syncFile(t *testing.T, f vfs.File) {
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

func syncDataFile(t *testing.T, f vfs.File) {
	if err := f.SyncData(); err != nil {
		t.Fatal(err)
	}
}

// syncToFile syncs and checks that Stat sees the whole file, as Pebble's
// writer does before it records a table's size.
func syncToFile(t *testing.T, f vfs.File) {
	if _, err := f.SyncTo(1); err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 100*4101 {
		t.Fatalf("Stat().Size() = %d, want %d", fi.Size(), 100*4101)
	}
}

func readAll(t *testing.T, fs vfs.FS, name string) []byte {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTableFSPassesOthers checks that files other than tables and blob
// files (the WAL, the manifest) are written straight through.
func TestTableFSPassesOthers(t *testing.T) {
	fs := tableFS{vfs.NewMem()}
	for _, name := range []string{"000002.log", "MANIFEST-000001", "OPTIONS-000003", "CURRENT"} {
		f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := f.(*bufferedFile); ok {
			t.Errorf("Create(%s) is buffered", name)
		}
		f.Close()
	}
	for _, name := range []string{"000004.sst", "000005.blob"} {
		f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := f.(*bufferedFile); !ok {
			t.Errorf("Create(%s) = %T, want *bufferedFile", name, f)
		}
		f.Close()
	}
}

// failingFile fails every write.
type failingFile struct{ vfs.File }

var errDisk = errors.New("disk full")

func (failingFile) Write([]byte) (int, error) { return 0, errDisk }

// TestTableFSWriteError checks that a failed write out is reported by the
// call that caused it and by every later one, including Sync and Close.
func TestTableFSWriteError(t *testing.T) {
	mem := vfs.NewMem()
	under, err := mem.Create("000001.sst", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	f := &bufferedFile{File: failingFile{under}, buf: make([]byte, 0, 16)}
	if _, err := f.Write(make([]byte, 10)); err != nil {
		t.Fatalf("a buffered write failed: %v", err)
	}
	if _, err := f.Write(make([]byte, 10)); !errors.Is(err, errDisk) {
		t.Fatalf("write over the buffer = %v, want %v", err, errDisk)
	}
	if _, err := f.Write(make([]byte, 1)); !errors.Is(err, errDisk) {
		t.Fatalf("write after the failure = %v, want %v", err, errDisk)
	}
	if err := f.Sync(); !errors.Is(err, errDisk) {
		t.Fatalf("Sync after the failure = %v, want %v", err, errDisk)
	}
	if err := f.Close(); !errors.Is(err, errDisk) {
		t.Fatalf("Close after the failure = %v, want %v", err, errDisk)
	}
}
