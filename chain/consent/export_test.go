package consent

import "io"

// DealWithTestKey is NewGroup with the stored 2048-bit test key instead of
// minutes of safe-prime search; the examples use it.
func DealWithTestKey(r io.Reader, spec GroupSpec) (*Group, []*SealedShare, error) {
	return dealTest(r, spec)
}
