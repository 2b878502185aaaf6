package store

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// tableWriteBuffer is the size of the buffer in front of each table file
// Pebble writes. Pebble hands a table's blocks to the file one by one
// through a 4 KB bufio.Writer, so a flush or compaction made one write
// system call per 4 KB block: a tenth of a validator's store CPU in the
// anchors bench. 256 KB turns 64 of them into one (the data is the same,
// and reaches the file before any sync, read or close of it).
const tableWriteBuffer = 256 << 10

// tableFS buffers the writes of the tables (.sst) and blob files (.blob)
// Pebble creates: each is written once, front to back, then synced and
// closed. Every other file (the WAL, the manifest, OPTIONS) is passed
// through untouched.
type tableFS struct{ vfs.FS }

func (f tableFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	file, err := f.FS.Create(name, c)
	if err != nil || !(strings.HasSuffix(name, ".sst") || strings.HasSuffix(name, ".blob")) {
		return file, err
	}
	return &bufferedFile{File: file, buf: make([]byte, 0, tableWriteBuffer)}, nil
}

// bufferedFile collects sequential writes and passes them on in chunks of
// up to cap(buf) bytes. Whatever reads, syncs, positions or closes the file
// first writes out the buffer, so the file never looks shorter to a caller
// than what it was given.
type bufferedFile struct {
	vfs.File
	buf []byte
	err error // the first failed write out: every later call returns it
}

// Write buffers p, writing out the buffer when p does not fit (and p
// itself when it is at least as large as the buffer).
func (f *bufferedFile) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	if len(f.buf)+len(p) > cap(f.buf) {
		if err := f.flush(); err != nil {
			return 0, err
		}
		if len(p) >= cap(f.buf) {
			n, err := f.File.Write(p)
			if err != nil {
				f.err = fmt.Errorf("store: write table file: %w", err)
			}
			return n, err
		}
	}
	f.buf = append(f.buf, p...)
	return len(p), nil
}

func (f *bufferedFile) flush() error {
	if f.err != nil {
		return f.err
	}
	if len(f.buf) == 0 {
		return nil
	}
	n, err := f.File.Write(f.buf)
	if err == nil && n < len(f.buf) {
		err = fmt.Errorf("short write: %d of %d bytes", n, len(f.buf))
	}
	f.buf = f.buf[:0]
	if err != nil {
		f.err = fmt.Errorf("store: write table file: %w", err)
	}
	return f.err
}

func (f *bufferedFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f *bufferedFile) Read(p []byte) (int, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

func (f *bufferedFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *bufferedFile) Stat() (vfs.FileInfo, error) {
	if err := f.flush(); err != nil {
		return nil, err
	}
	return f.File.Stat()
}

func (f *bufferedFile) Sync() error {
	if err := f.flush(); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *bufferedFile) SyncData() error {
	if err := f.flush(); err != nil {
		return err
	}
	return f.File.SyncData()
}

// SyncTo syncs the file up to length bytes, which Pebble counts in what it
// wrote: the buffer is written out first so that they are all in the file.
func (f *bufferedFile) SyncTo(length int64) (bool, error) {
	if err := f.flush(); err != nil {
		return false, err
	}
	return f.File.SyncTo(length)
}

func (f *bufferedFile) Prefetch(off, length int64) error {
	if err := f.flush(); err != nil {
		return err
	}
	return f.File.Prefetch(off, length)
}

// Close writes out the buffer and closes the file; a failed write out
// still closes it.
func (f *bufferedFile) Close() error {
	err := f.flush()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	return err
}
