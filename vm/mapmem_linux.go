//go:build linux

package vm

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A mappedMemory backs one instance's linear memory (wazero's
// experimental.LinearMemory) with a reservation of the module's maximum
// size, of which the first len bytes are readable and writable. Once the
// module has a snapshot, its first part is a private (copy-on-write)
// mapping of the snapshot's memfd: a page the guest never wrote is the
// snapshot's page, shared with every other instance of the module, and
// the kernel's page table tells which pages were written
// (/proc/self/pagemap), so a reset reads and copies only those (see
// RATIONALE.md, "Reset in proportion to what a call changed").
type mappedMemory struct {
	base    unsafe.Pointer // start of the reservation
	reserve uintptr        // bytes reserved (the memory's maximum)
	size    uintptr        // bytes readable and writable (the memory's length)
	mapped  uintptr        // bytes of the snapshot file mapped at base (0: none yet)
	freed   bool
}

// osPage is the kernel's page size.
var osPage = uintptr(os.Getpagesize())

// pagemap is this process's /proc/self/pagemap, opened once. nil if it
// cannot be read: every instance then uses the copy.
var pagemap = sync.OnceValue(func() *os.File {
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return nil
	}
	return f
})

// newMappedMemory reserves max bytes of address space (no memory is
// committed until pages are touched). It returns nil when mapping is not
// possible here (the copy is then used).
func newMappedMemory(max uint64) *mappedMemory {
	if pageSize%osPage != 0 || pagemap() == nil || max > 1<<33 {
		return nil
	}
	n := uintptr(max)
	if n == 0 {
		n = pageSize
	}
	p, err := unix.MmapPtr(-1, 0, nil, n, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return &mappedMemory{base: p, reserve: n}
}

func (m *mappedMemory) bytes(n uintptr) []byte { return unsafe.Slice((*byte)(m.base), n) }

// Reallocate implements experimental.LinearMemory: the memory grows in
// place (its address never changes) up to the reservation; nil beyond it.
func (m *mappedMemory) Reallocate(size uint64) []byte {
	if m.freed || size > uint64(m.reserve) {
		return nil
	}
	n := uintptr(size)
	if n > m.size {
		b := unsafe.Slice((*byte)(unsafe.Add(m.base, m.size)), n-m.size)
		if err := unix.Mprotect(b, unix.PROT_READ|unix.PROT_WRITE); err != nil {
			return nil
		}
		m.size = n
	}
	return m.bytes(n)
}

// Free implements experimental.LinearMemory: the whole reservation, and
// with it the snapshot mapping, is unmapped. wazero calls it when the
// module instance is closed.
func (m *mappedMemory) Free() {
	if m.freed {
		return
	}
	m.freed = true
	_ = unix.MunmapPtr(m.base, m.reserve)
}

// snapshotFile is a module's snapshot memory in a memfd that instances map.
type snapshotFile struct {
	fd   int
	size int
}

// newSnapshotFile writes mem to a new memfd. It returns nil if memfds are
// not available (the copy is then used).
func newSnapshotFile(mem []byte) *snapshotFile {
	fd, err := unix.MemfdCreate("trialchain-snapshot", unix.MFD_CLOEXEC)
	if err != nil {
		return nil
	}
	for off := 0; off < len(mem); {
		n, err := unix.Pwrite(fd, mem[off:], int64(off))
		if err != nil || n == 0 {
			_ = unix.Close(fd)
			return nil
		}
		off += n
	}
	f := &snapshotFile{fd: fd, size: len(mem)}
	runtime.AddCleanup(f, func(fd int) { _ = unix.Close(fd) }, fd)
	return f
}

// mapSnapshot maps f over the first f.size bytes of m (replacing whatever
// was there: the pages wazero's instantiation wrote) and makes it the
// memory's content. m's length must be f.size.
func (m *mappedMemory) mapSnapshot(f *snapshotFile) error {
	if m.size != uintptr(f.size) {
		return fmt.Errorf("vm: mapping a snapshot of %d bytes over a memory of %d", f.size, m.size)
	}
	if f.size == 0 {
		m.mapped = 0
		return nil
	}
	_, err := unix.MmapPtr(f.fd, 0, m.base, uintptr(f.size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_FIXED)
	if err != nil {
		return fmt.Errorf("vm: mapping the snapshot: %w", err)
	}
	m.mapped = uintptr(f.size)
	runtime.KeepAlive(f)
	return nil
}

// Pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
const (
	pmPresent = 1 << 63
	pmSwapped = 1 << 62
	pmFile    = 1 << 61 // file page or shared anonymous
)

// resetMapped restores the snapshot's range of m from snap and returns
// the number of 64 KiB pages whose content differed. Only the pages the
// kernel reports as private to this mapping (written since it was mapped)
// can differ; they are compared with the snapshot and the differing ones
// copied back. They stay private, so a page a call writes again costs no
// new fault.
func (m *mappedMemory) resetMapped(snap []byte, scratch *[]byte) (uint64, error) {
	n := m.mapped
	if n != uintptr(len(snap)) {
		return 0, errors.New("vm: snapshot not mapped")
	}
	per := int(osPage)
	entries := int(n / osPage)
	if cap(*scratch) < entries*8 {
		*scratch = make([]byte, entries*8)
	}
	buf := (*scratch)[:entries*8]
	off := int64(uintptr(m.base)/osPage) * 8
	for done := 0; done < len(buf); {
		k, err := pagemap().ReadAt(buf[done:], off+int64(done))
		done += k
		if err != nil && done < len(buf) {
			return 0, fmt.Errorf("vm: reading pagemap: %w", err)
		}
	}
	mem := m.bytes(n)
	perWasm := pageSize / per
	var changed uint64
	for w := 0; w < entries; w += perWasm {
		dirty := false
		for p := w; p < w+perWasm; p++ {
			e := *(*uint64)(unsafe.Pointer(&buf[p*8]))
			if e&pmSwapped == 0 && (e&pmPresent == 0 || e&pmFile != 0) {
				continue // never written: still the snapshot file's page
			}
			a, b := mem[p*per:(p+1)*per], snap[p*per:(p+1)*per]
			if string(a) != string(b) {
				copy(a, b)
				dirty = true
			}
		}
		if dirty {
			changed++
		}
	}
	return changed, nil
}

// isMapped reports whether the snapshot is mapped (tests).
func (m *mappedMemory) isMapped() bool { return m != nil && m.mapped > 0 }
