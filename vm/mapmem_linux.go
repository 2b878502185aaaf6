//go:build linux

package vm

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
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
	scan    *regionScratch // reset's scratch, made on first use
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

// view maps f read-only and shared, unmapped once owner is unreachable:
// the snapshot's bytes for reset to compare and copy from, without a
// second copy on the Go heap (the memfd holds them anyway; 6 MB per Go
// contract). ok is false if f is nil or empty or the mapping fails.
func (f *snapshotFile) view(owner *snapshot) (b []byte, ok bool) {
	if f == nil || f.size == 0 {
		return nil, false
	}
	n := uintptr(f.size)
	p, err := unix.MmapPtr(f.fd, 0, nil, n, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, false
	}
	runtime.AddCleanup(owner, func(p unsafe.Pointer) { _ = unix.MunmapPtr(p, n) }, p)
	return unsafe.Slice((*byte)(p), n), true
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
	ranges, err := m.writtenRanges(n, scratch)
	if err != nil {
		return 0, err
	}
	mem := m.bytes(n)
	per := int(osPage)
	var changed uint64
	last := -1 // the last wasm page counted as changed (ranges ascend)
	for _, r := range ranges {
		for off := r.start; off < r.end; off += per {
			a, b := mem[off:off+per], snap[off:off+per]
			if string(a) == string(b) {
				continue
			}
			copy(a, b)
			if w := off / pageSize; w != last {
				changed++
				last = w
			}
		}
	}
	return changed, nil
}

// byteRange is [start, end) in bytes from the start of a memory.
type byteRange struct{ start, end int }

// writtenRanges returns, in ascending order, the ranges of the first n
// bytes of m whose OS pages are private to this mapping (written since
// the snapshot was mapped: present and not the file's page, or swapped
// out). Every page that can differ from the snapshot is in them. It asks
// the kernel with the PAGEMAP_SCAN ioctl (Linux 6.7+), which returns
// only those ranges, or else reads 8 bytes of pagemap per page.
func (m *mappedMemory) writtenRanges(n uintptr, scratch *[]byte) ([]byteRange, error) {
	if !pagemapScanMissing.Load() {
		rs, err := m.scanWritten(n)
		if err == nil {
			return rs, nil
		}
		if !errors.Is(err, unix.ENOTTY) && !errors.Is(err, unix.EINVAL) {
			return nil, fmt.Errorf("vm: scanning pagemap: %w", err)
		}
		pagemapScanMissing.Store(true) // an older kernel: read the entries
	}
	return m.readWritten(n, scratch)
}

// pagemapScanMissing is set once PAGEMAP_SCAN is found unsupported.
var pagemapScanMissing atomic.Bool

// PAGEMAP_SCAN (include/uapi/linux/fs.h): _IOWR('f', 16, struct pm_scan_arg).
const (
	pagemapScan   = 0xC0606610
	pageIsFile    = 1 << 2
	pageIsPresent = 1 << 3
	pageIsSwapped = 1 << 4
)

// pmScanArg is struct pm_scan_arg.
type pmScanArg struct {
	size, flags, start, end, walkEnd, vec, vecLen, maxPages       uint64
	categoryInverted, categoryMask, categoryAnyofMask, returnMask uint64
}

// pageRegion is struct page_region.
type pageRegion struct{ start, end, categories uint64 }

// scanRegions is how many regions one PAGEMAP_SCAN call returns at most;
// more are fetched by further calls from where the walk stopped.
const scanRegions = 256

// regionScratch holds the regions of a scan: one per goroutine in reset
// (instances are not shared), kept with the instance's scratch bytes.
type regionScratch struct {
	regions [scanRegions]pageRegion
	ranges  []byteRange
}

// scanWritten is writtenRanges through PAGEMAP_SCAN: the pages that are
// not the file's and are present or swapped out.
func (m *mappedMemory) scanWritten(n uintptr) ([]byteRange, error) {
	rs := m.regionScratch()
	rs.ranges = rs.ranges[:0]
	base := uint64(uintptr(m.base))
	arg := pmScanArg{
		start: base, end: base + uint64(n),
		vec: uint64(uintptr(unsafe.Pointer(&rs.regions[0]))), vecLen: scanRegions,
		categoryInverted: pageIsFile, categoryMask: pageIsFile,
		categoryAnyofMask: pageIsPresent | pageIsSwapped, returnMask: pageIsPresent | pageIsSwapped,
	}
	arg.size = uint64(unsafe.Sizeof(arg))
	fd := pagemap().Fd()
	for arg.start < arg.end {
		k, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, pagemapScan, uintptr(unsafe.Pointer(&arg)))
		if errno != 0 {
			return nil, errno
		}
		for _, r := range rs.regions[:k] {
			rs.ranges = append(rs.ranges, byteRange{int(r.start - base), int(r.end - base)})
		}
		if arg.walkEnd <= arg.start { // no progress: cannot happen
			return nil, errors.New("vm: PAGEMAP_SCAN made no progress")
		}
		arg.start = arg.walkEnd
	}
	runtime.KeepAlive(rs)
	return rs.ranges, nil
}

// regionScratch returns m's scan scratch, made on first use.
func (m *mappedMemory) regionScratch() *regionScratch {
	if m.scan == nil {
		m.scan = new(regionScratch)
	}
	return m.scan
}

// readWritten is writtenRanges from pagemap's 64-bit entries, one per page.
func (m *mappedMemory) readWritten(n uintptr, scratch *[]byte) ([]byteRange, error) {
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
			return nil, fmt.Errorf("vm: reading pagemap: %w", err)
		}
	}
	rs := m.regionScratch()
	rs.ranges = rs.ranges[:0]
	for p := 0; p < entries; p++ {
		e := *(*uint64)(unsafe.Pointer(&buf[p*8]))
		if e&pmSwapped == 0 && (e&pmPresent == 0 || e&pmFile != 0) {
			continue // never written: still the snapshot file's page
		}
		if k := len(rs.ranges); k > 0 && rs.ranges[k-1].end == p*per {
			rs.ranges[k-1].end += per
		} else {
			rs.ranges = append(rs.ranges, byteRange{p * per, (p + 1) * per})
		}
	}
	return rs.ranges, nil
}

// isMapped reports whether the snapshot is mapped (tests).
func (m *mappedMemory) isMapped() bool { return m != nil && m.mapped > 0 }
