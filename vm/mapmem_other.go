//go:build !linux

package vm

import "errors"

// Without Linux's memfd and pagemap every instance resets by comparing
// and copying its whole memory (same gas, more time): see mapmem_linux.go.
type mappedMemory struct{}

type snapshotFile struct{}

func newMappedMemory(uint64) *mappedMemory            { return nil }
func newSnapshotFile([]byte) *snapshotFile            { return nil }
func (*snapshotFile) view(*snapshot) ([]byte, bool)   { return nil, false }
func (*mappedMemory) Reallocate(uint64) []byte        { return nil }
func (*mappedMemory) Free()                           {}
func (*mappedMemory) mapSnapshot(*snapshotFile) error { return errors.New("vm: no mapped memory") }
func (*mappedMemory) resetMapped([]byte, *[]byte) (uint64, error) {
	return 0, errors.New("vm: no mapped memory")
}

func (*mappedMemory) isMapped() bool { return false }
