package trials

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/trialchain/trialchain/trials/model"
)

// ParseDUOTerms reads the GA4GH DUO terms file (CSV with header id,
// shorthand, label, description; "GA4GH Data Use Ontology, EBISPOT/DUO",
// CC BY 4.0) into terms. A term is a permission or a modifier as its
// description says; the two abstract classes (data use permission, data
// use modifier) are roots.
func ParseDUOTerms(r io.Reader) ([]model.DUOTerm, error) {
	const format = "GA4GH DUO terms CSV"
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 4
	head, err := cr.Read()
	if err != nil {
		return nil, &ImportError{Format: format, Element: "header", Msg: err.Error()}
	}
	if strings.Join(head, ",") != "id,shorthand,label,description" {
		return nil, &ImportError{Format: format, Element: "header", Msg: fmt.Sprintf("is %q, want id,shorthand,label,description", strings.Join(head, ","))}
	}
	var out []model.DUOTerm
	seen := map[string]bool{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &ImportError{Format: format, Element: fmt.Sprintf("line %d", line), Msg: err.Error()}
		}
		id := rec[0]
		if !strings.HasPrefix(id, "DUO:") || len(id) != len("DUO:0000000") {
			return nil, &ImportError{Format: format, Element: fmt.Sprintf("line %d id", line), Msg: fmt.Sprintf("%q is not a DUO id", id)}
		}
		if seen[id] {
			return nil, &ImportError{Format: format, Element: fmt.Sprintf("line %d id", line), Msg: id + " appears twice"}
		}
		seen[id] = true
		t := model.DUOTerm{ID: id, Shorthand: rec[1], Label: rec[2]}
		desc := strings.ToLower(rec[3])
		switch {
		case rec[2] == "data use permission" || rec[2] == "data use modifier":
			t.Kind = "root"
		case strings.Contains(desc, "data use permission"):
			t.Kind = "permission"
		case strings.Contains(desc, "data use modifier"):
			t.Kind = "modifier"
		default:
			return nil, &ImportError{Format: format, Element: fmt.Sprintf("line %d description", line), Msg: "neither a data use permission nor a modifier"}
		}
		out = append(out, t)
	}
	return out, nil
}
