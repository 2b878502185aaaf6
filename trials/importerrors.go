package trials

import (
	"fmt"
	"strings"
)

// ImportErrors is every problem an import found, in a deterministic order
// (document order, then by element). errors.As finds each *ImportError.
type ImportErrors []*ImportError

// maxListed bounds how many problems an error message spells out.
const maxListed = 50

func (es ImportErrors) Error() string {
	if len(es) == 1 {
		return es[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "trials: %d problems:", len(es))
	for i, e := range es {
		if i == maxListed {
			fmt.Fprintf(&b, "\n  … and %d more", len(es)-maxListed)
			break
		}
		b.WriteString("\n  - ")
		b.WriteString(strings.TrimPrefix(e.Error(), "trials: "))
	}
	return b.String()
}

// Unwrap lets errors.As and errors.Is see each problem.
func (es ImportErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// errOrNil returns es as an error, or nil when it is empty.
func (es ImportErrors) errOrNil() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
