package trials

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/trialchain/trialchain/trials/model"
)

// ODMMaps renames what an EDC export calls things to a protocol's ids.
// Names not in a map are used as they are (except subjects: every
// SubjectKey must be mapped, so no sponsor key reaches the chain).
type ODMMaps struct {
	Subjects map[string]string // SubjectKey → pseudonymous subject id
	Visits   map[string]string // StudyEventOID (with #repeat) → visit id
	Forms    map[string]string // FormOID or top-level ItemGroupOID → form id
	Items    map[string]string // ItemOID → field id (a #repeat suffix is kept)
}

// ImportODM checks every form read from ODM ClinicalData against protocol
// p, as the contract would, and returns a record (with a fresh salt from
// rand) for each form that passes, in document order.
//
// # Errors
//
// Every problem of every form is returned at once, each an *ImportError
// whose Element names the subject, event, form, item and line, e.g.
// `subject 001, event SE.MH, form FO.X, item I.AGE (line 140)`: an
// unmapped SubjectKey, a visit or form the protocol lacks, a form the
// visit does not collect, an item that is no field of the form, a value
// of the wrong type, unit or range, a required field missing. A form with
// any problem gets no record; the caller decides whether to submit the
// rest (trial submit --odm --import-valid).
func ImportODM(rand io.Reader, p *model.Protocol, forms []ODMForm, maps ODMMaps) ([]Record, ImportErrors) {
	const format = "CDISC ODM"
	var recs []Record
	var probs ImportErrors
	unmapped := map[string]bool{}
	for _, f := range forms {
		where := func(item string, line int) string {
			s := fmt.Sprintf("subject %s, event %s, form %s", f.SubjectKey, f.Visit, f.Form)
			if item != "" {
				s += ", item " + item
			}
			return s + fmt.Sprintf(" (line %d)", line)
		}
		n := len(probs)
		add := func(item string, line int, msg string, args ...any) {
			probs = append(probs, &ImportError{Format: format, Element: where(item, line), Msg: fmt.Sprintf(msg, args...)})
		}
		subj, ok := maps.Subjects[f.SubjectKey]
		if !ok {
			if !unmapped[f.SubjectKey] {
				add("", f.Line, "SubjectKey %q has no pseudonymous subject id: enrol the subject and map the key in the subject map file", f.SubjectKey)
			}
			unmapped[f.SubjectKey] = true
		}
		visit, form := rename(maps.Visits, f.Visit), rename(maps.Forms, f.Form)
		v, okV := p.Visit(visit)
		// The first occurrence of an event (StudyEventRepeatKey 1, as EDC
		// systems export even non-repeating events) is the protocol's
		// visit of that StudyEventOID unless the maps say otherwise; a
		// later occurrence needs its own visit (--visit-map OID#2=...).
		if base, rk, rep := strings.Cut(f.Visit, "#"); !okV && rep && rk == "1" {
			if _, mapped := maps.Visits[f.Visit]; !mapped {
				if bv, ok := p.Visit(rename(maps.Visits, base)); ok {
					visit, v, okV = bv.ID, bv, true
				}
			}
		}
		if !okV {
			add("", f.Line, "visit %q is not in the protocol (map the StudyEventOID to a visit id)", visit)
		}
		fd, okF := p.Form(form)
		if !okF {
			add("", f.Line, "form %q is not in the protocol (map it to a form id, or build the forms from the ODM metadata)", form)
		} else if okV && !slices.Contains(v.Forms, form) {
			add("", f.Line, "visit %q does not collect form %q", visit, form)
		}
		fields := map[string]model.FieldValue{}
		present := map[string]bool{}
		for _, item := range sortedKeys(f.Fields) {
			val := f.Fields[item]
			base, rep, isRep := strings.Cut(item, "#")
			name := rename(maps.Items, base)
			if isRep {
				name += "#" + rep
			}
			fields[name] = val
			if !okF {
				continue
			}
			def, ok := fd.FieldDef(name)
			if !ok {
				add(item, f.ItemLines[item], "form %q has no field %q (map the ItemOID to a field)", form, name)
				continue
			}
			present[def.ID] = true
			if err := def.ValidateValue(name, val); err != nil {
				var me *model.Error
				msg := err.Error()
				if errors.As(err, &me) {
					msg = me.Msg
				}
				add(item, f.ItemLines[item], "%s", msg)
			}
		}
		if okF {
			for _, d := range fd.Fields {
				if d.Required && !present[d.ID] {
					add(d.ID, f.Line, "required field %q (%s) is missing", d.ID, d.Label)
				}
			}
		}
		if len(probs) > n {
			continue
		}
		rec, err := NewRecord(rand, p.ID, subj, visit, form, fields)
		if err != nil {
			probs = append(probs, &ImportError{Format: format, Element: where("", f.Line), Msg: err.Error()})
			continue
		}
		recs = append(recs, rec)
	}
	return recs, probs
}

func rename(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}

// ParseMapFile reads a map file: one KEY=VALUE (or KEY,VALUE) per line;
// blank lines and lines starting with # are skipped. A key given twice,
// or a line without both sides, is an error naming the line.
func ParseMapFile(b []byte) (map[string]string, error) {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			k, v, ok = strings.Cut(line, ",")
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("trials: map file line %d: want KEY=VALUE, got %q", n, line)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("trials: map file line %d: %q is mapped twice", n, k)
		}
		m[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trials: map file: %w", err)
	}
	return m, nil
}
