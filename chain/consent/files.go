package consent

import (
	"fmt"
	"os"
	"path/filepath"
)

// File names written by WriteCeremony.
const (
	GroupFile        = "group.json" // Group.MarshalJSON
	GroupBinFile     = "group.bin"  // Group.MarshalBinary, what goes on chain
	shareFilePattern = "share-%02d-%s.bin"
)

// ShareFileName returns the file name of party p's sealed share.
func ShareFileName(p Party) string { return fmt.Sprintf(shareFilePattern, p.Index, p.Name) }

// WriteCeremony writes the output of NewGroup to dir: group.json,
// group.bin and one share-NN-NAME.bin per party (mode 0600; the shares are
// encrypted, but nobody else needs to read them). It refuses to overwrite
// existing files.
func WriteCeremony(dir string, g *Group, shares []*SealedShare) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if len(shares) != len(g.Parties) {
		return fmt.Errorf("%w: %d sealed shares for %d parties", ErrInvalidGroup, len(shares), len(g.Parties))
	}
	js, err := g.MarshalJSON()
	if err != nil {
		return err
	}
	files := map[string][]byte{GroupFile: append(js, '\n'), GroupBinFile: g.encode()}
	for i, s := range shares {
		b, err := s.MarshalBinary()
		if err != nil {
			return err
		}
		files[ShareFileName(g.Parties[i])] = b
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("consent: %w", err)
	}
	for name, b := range files {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("consent: %w", err)
		}
		_, werr := f.Write(b)
		serr := f.Sync()
		cerr := f.Close()
		for _, err := range []error{werr, serr, cerr} {
			if err != nil {
				return fmt.Errorf("consent: write %s: %w", name, err)
			}
		}
	}
	return nil
}

// HashFile returns the KindFile action for the file at path (its SHA-256).
func HashFile(path string) (Action, error) {
	f, err := os.Open(path)
	if err != nil {
		return Action{}, fmt.Errorf("consent: %w", err)
	}
	defer f.Close()
	return FileAction(f)
}
