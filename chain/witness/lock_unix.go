//go:build unix

package witness

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f (released by the
// returned function or when the process exits): two witness processes on
// one home would each believe its own latest checkpoint.
func lockFile(f *os.File) (func(), error) {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }, nil
}
