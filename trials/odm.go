package trials

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/trialchain/trialchain/trials/model"
)

// ODMForm is one case-report form of CDISC ODM ClinicalData: the items of
// one top-level ItemGroupData of one StudyEventData of one subject.
// Items of a repeated item group (ItemGroupRepeatKey k) are named
// ItemOID#k, as the contract's repeating fields are.
type ODMForm struct {
	StudyOID   string
	SubjectKey string // the sponsor's subject key: map it to a pseudonymous id before submitting
	Visit      string // StudyEventOID (with #StudyEventRepeatKey if repeated)
	Form       string // ItemGroupOID of the top-level ItemGroupData
	Fields     map[string]model.FieldValue
	Line       int            // line of the form's start in the document
	ItemLines  map[string]int // line of each item
}

// ODM import limits.
const (
	maxODMDepth = 64
	maxODMForms = 100000
)

// ParseODMClinicalData reads every ClinicalData of a CDISC ODM document
// (1.3.2; the 2.0 layout with <Value> children and nested ItemGroupData is
// read too) into forms, in document order. Units come from
// MeasurementUnitRef, shown as the unit's Symbol when BasicDefinitions
// declares one.
//
// # Errors
//
// A malformed document gets an *ImportError naming the element and its
// line: the XML syntax error, an element out of place (e.g. ItemData
// outside ItemGroupData), a missing key attribute (SubjectKey,
// StudyEventOID, ItemGroupOID, ItemOID), an item given twice, no ODM root,
// no ClinicalData.
func ParseODMClinicalData(b []byte) ([]ODMForm, error) {
	p := &odmParser{d: xml.NewDecoder(bytes.NewReader(b)), units: map[string]string{}}
	p.d.Strict = true
	forms, err := p.parse()
	if err != nil {
		return nil, err
	}
	return forms, nil
}

type odmParser struct {
	d     *xml.Decoder
	stack []string
	units map[string]string // MeasurementUnit OID → symbol
	unit  string            // current MeasurementUnit OID

	study, subject, visit string
	inClinical            bool
	groups                []odmGroup // open ItemGroupData
	form                  *ODMForm
	item                  *odmItem
	forms                 []ODMForm
	sawRoot, sawClinical  bool
}

type odmGroup struct {
	oid, repeat string
}

type odmItem struct {
	line              int
	name, value, unit string
	hasValue          bool
	text              strings.Builder
	element           string
}

func (p *odmParser) fail(format string, args ...any) error {
	line, _ := p.d.InputPos()
	el := strings.Join(p.stack, "/")
	if el == "" {
		el = "document"
	}
	return &ImportError{Format: "CDISC ODM", Element: el, Msg: fmt.Sprintf(format, args...) + fmt.Sprintf(" (line %d)", line)}
}

func attr(se xml.StartElement, name string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == name && (a.Name.Space == "" || a.Name.Space == se.Name.Space) {
			return a.Value, true
		}
	}
	return "", false
}

func (p *odmParser) parse() ([]ODMForm, error) {
	for {
		tok, err := p.d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, p.fail("malformed XML: %s", se.Msg)
			}
			return nil, p.fail("%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			p.stack = append(p.stack, t.Name.Local)
			if len(p.stack) > maxODMDepth {
				return nil, p.fail("nested deeper than %d elements", maxODMDepth)
			}
			if err := p.start(t); err != nil {
				return nil, err
			}
		case xml.EndElement:
			if err := p.end(t); err != nil {
				return nil, err
			}
			p.stack = p.stack[:len(p.stack)-1]
		case xml.CharData:
			if p.item != nil && p.item.element != "" {
				p.item.text.Write(t)
			}
		}
	}
	if !p.sawRoot {
		return nil, &ImportError{Format: "CDISC ODM", Element: "ODM", Msg: "no ODM root element"}
	}
	if !p.sawClinical {
		return nil, &ImportError{Format: "CDISC ODM", Element: "ClinicalData", Msg: "the document has no ClinicalData"}
	}
	return p.forms, nil
}

func (p *odmParser) parent() string {
	if len(p.stack) < 2 {
		return ""
	}
	return p.stack[len(p.stack)-2]
}

func (p *odmParser) start(se xml.StartElement) error {
	name := se.Name.Local
	if len(p.stack) == 1 {
		if name != "ODM" {
			return p.fail("root element is %s, want ODM", name)
		}
		p.sawRoot = true
		return nil
	}
	need := func(a string) (string, error) {
		v, ok := attr(se, a)
		if !ok || strings.TrimSpace(v) == "" {
			return "", p.fail("missing %s attribute", a)
		}
		return v, nil
	}
	var err error
	switch {
	case name == "MeasurementUnit" && !p.inClinical:
		p.unit, _ = attr(se, "OID")
		if s, ok := attr(se, "Symbol"); ok && p.unit != "" {
			p.units[p.unit] = s
		}
	case name == "ClinicalData":
		if p.inClinical {
			return p.fail("ClinicalData inside ClinicalData")
		}
		p.inClinical, p.sawClinical = true, true
		if p.study, err = need("StudyOID"); err != nil {
			return err
		}
	case !p.inClinical:
		return nil
	case name == "SubjectData":
		if p.parent() != "ClinicalData" {
			return p.fail("SubjectData must be inside ClinicalData")
		}
		if p.subject, err = need("SubjectKey"); err != nil {
			return err
		}
	case name == "StudyEventData":
		if p.parent() != "SubjectData" {
			return p.fail("StudyEventData must be inside SubjectData")
		}
		if p.visit, err = need("StudyEventOID"); err != nil {
			return err
		}
		if k, ok := attr(se, "StudyEventRepeatKey"); ok && k != "" {
			p.visit += "#" + k
		}
	case name == "FormData": // ODM 1.3.2: StudyEventData/FormData/ItemGroupData
		if p.parent() != "StudyEventData" {
			return p.fail("FormData must be inside StudyEventData")
		}
		oid, err := need("FormOID")
		if err != nil {
			return err
		}
		p.openForm(oid)
	case name == "ItemGroupData":
		oid, err := need("ItemGroupOID")
		if err != nil {
			return err
		}
		switch p.parent() {
		case "StudyEventData":
			p.openForm(oid)
		case "FormData", "ItemGroupData":
		default:
			return p.fail("ItemGroupData must be inside StudyEventData, FormData or ItemGroupData")
		}
		rk, _ := attr(se, "ItemGroupRepeatKey")
		p.groups = append(p.groups, odmGroup{oid: oid, repeat: rk})
	case name == "ItemData" || strings.HasPrefix(name, "ItemData"):
		if len(p.groups) == 0 || p.parent() != "ItemGroupData" {
			return p.fail("%s must be inside ItemGroupData", name)
		}
		oid, err := need("ItemOID")
		if err != nil {
			return err
		}
		line, _ := p.d.InputPos()
		it := &odmItem{name: oid, line: line}
		if rk := p.groups[len(p.groups)-1].repeat; rk != "" {
			it.name += "#" + rk
		}
		if v, ok := attr(se, "Value"); ok {
			it.value, it.hasValue = v, true
		}
		if name != "ItemData" { // typed ItemDataString, ItemDataInteger... carry the value as text
			it.element = name
		}
		if isNull, _ := attr(se, "IsNull"); isNull == "Yes" {
			it.hasValue = true
		}
		p.item = it
	case name == "Value":
		if p.item == nil || p.parent() != "ItemData" {
			return p.fail("Value must be inside ItemData")
		}
		p.item.element = "Value"
		p.item.text.Reset()
	case name == "MeasurementUnitRef":
		if p.item != nil {
			oid, err := need("MeasurementUnitOID")
			if err != nil {
				return err
			}
			p.item.unit = oid
			if s, ok := p.units[oid]; ok && s != "" {
				p.item.unit = s
			}
		}
	}
	return nil
}

func (p *odmParser) openForm(oid string) {
	line, _ := p.d.InputPos()
	p.form = &ODMForm{StudyOID: p.study, SubjectKey: p.subject, Visit: p.visit, Form: oid, Fields: map[string]model.FieldValue{},
		Line: line, ItemLines: map[string]int{}}
}

func (p *odmParser) end(ee xml.EndElement) error {
	name := ee.Name.Local
	if !p.inClinical {
		return nil
	}
	switch {
	case name == "ClinicalData":
		p.inClinical = false
	case name == "Value" && p.item != nil:
		if p.item.hasValue && p.item.value != "" {
			return p.fail("item %s has more than one Value", p.item.name)
		}
		p.item.value, p.item.hasValue = strings.TrimSpace(p.item.text.String()), true
		p.item.element = ""
	case (name == "ItemData" || strings.HasPrefix(name, "ItemData")) && p.item != nil:
		it := p.item
		p.item = nil
		if it.element != "" && it.element != "Value" {
			it.value, it.hasValue = strings.TrimSpace(it.text.String()), true
		}
		if p.form == nil {
			return p.fail("item %s outside a form", it.name)
		}
		if _, dup := p.form.Fields[it.name]; dup {
			return p.fail("item %s is given twice in form %s", it.name, p.form.Form)
		}
		p.form.Fields[it.name] = model.FieldValue{Value: it.value, Unit: it.unit}
		p.form.ItemLines[it.name] = it.line
	case name == "ItemGroupData":
		p.groups = p.groups[:len(p.groups)-1]
		if len(p.groups) == 0 && p.parent() == "StudyEventData" {
			return p.closeForm()
		}
	case name == "FormData":
		return p.closeForm()
	}
	return nil
}

func (p *odmParser) closeForm() error {
	if p.form == nil {
		return nil
	}
	if len(p.forms) >= maxODMForms {
		return p.fail("more than %d forms", maxODMForms)
	}
	p.forms = append(p.forms, *p.form)
	p.form = nil
	return nil
}

// FormsFromODM reads the form definitions of an ODM document's metadata:
// each FormDef (ODM 1.3.2), and each ItemGroupDef of Type Form (or
// referenced by a StudyEventDef), with the items of the item groups it
// references, as contract form definitions. ODM 1.3.2 data types map to
// integer, decimal (float, double), date, partialDatetime (datetime and
// partialDatetime: xs:dateTime need not carry seconds or a zone),
// partialDate, partialTime (time, partialTime), boolean (xs:boolean,
// "1"/"0" too), text (the rest); an item with a CodeListRef becomes a code
// field with the code list's coded values; Mandatory="Yes" makes it
// required; items of Repeating item groups are repeating. No field is
// public: declare the de-identified ones public before registering.
func FormsFromODM(b []byte) ([]model.Form, error) {
	type itemRef struct {
		ItemOID   string `xml:"ItemOID,attr"`
		Mandatory string `xml:"Mandatory,attr"`
	}
	type groupRef struct {
		ItemGroupOID string `xml:"ItemGroupOID,attr"`
	}
	type groupDef struct {
		OID       string     `xml:"OID,attr"`
		Name      string     `xml:"Name,attr"`
		Type      string     `xml:"Type,attr"`
		Repeating string     `xml:"Repeating,attr"`
		Items     []itemRef  `xml:"ItemRef"`
		Groups    []groupRef `xml:"ItemGroupRef"`
	}
	type itemDef struct {
		OID      string `xml:"OID,attr"`
		Name     string `xml:"Name,attr"`
		DataType string `xml:"DataType,attr"`
		Length   int    `xml:"Length,attr"`
		CodeList struct {
			OID string `xml:"CodeListOID,attr"`
		} `xml:"CodeListRef"`
		Unit struct {
			OID string `xml:"MeasurementUnitOID,attr"`
		} `xml:"MeasurementUnitRef"`
	}
	type codeList struct {
		OID   string `xml:"OID,attr"`
		Items []struct {
			Value string `xml:"CodedValue,attr"`
		} `xml:"CodeListItem"`
	}
	type formDef struct {
		OID    string     `xml:"OID,attr"`
		Name   string     `xml:"Name,attr"`
		Groups []groupRef `xml:"ItemGroupRef"`
	}
	type mdv struct {
		StudyEvents []struct {
			Groups []groupRef `xml:"ItemGroupRef"`
		} `xml:"StudyEventDef"`
		Forms     []formDef  `xml:"FormDef"`
		Groups    []groupDef `xml:"ItemGroupDef"`
		Items     []itemDef  `xml:"ItemDef"`
		CodeLists []codeList `xml:"CodeList"`
	}
	var doc struct {
		XMLName xml.Name
		Studies []struct {
			MDV []mdv `xml:"MetaDataVersion"`
		} `xml:"Study"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, &ImportError{Format: "CDISC ODM", Element: "document", Msg: "malformed XML: " + err.Error()}
	}
	if doc.XMLName.Local != "ODM" {
		return nil, &ImportError{Format: "CDISC ODM", Element: doc.XMLName.Local, Msg: "root element is not ODM"}
	}
	var forms []model.Form
	for _, st := range doc.Studies {
		for _, m := range st.MDV {
			groups := map[string]groupDef{}
			for _, g := range m.Groups {
				groups[g.OID] = g
			}
			items := map[string]itemDef{}
			for _, it := range m.Items {
				items[it.OID] = it
			}
			codes := map[string][]string{}
			for _, cl := range m.CodeLists {
				for _, ci := range cl.Items {
					codes[cl.OID] = append(codes[cl.OID], ci.Value)
				}
			}
			isForm := map[string]bool{}
			for _, se := range m.StudyEvents {
				for _, g := range se.Groups {
					isForm[g.ItemGroupOID] = true
				}
			}
			// ODM 1.3.2 forms are FormDefs referencing item groups; older
			// and 2.0-style files make an ItemGroupDef the form.
			type formSpec struct {
				id, name string
				groups   []groupDef
			}
			var specs []formSpec
			for _, fd := range m.Forms {
				sp := formSpec{id: fd.OID, name: fd.Name}
				for _, gr := range fd.Groups {
					g, ok := groups[gr.ItemGroupOID]
					if !ok {
						return nil, &ImportError{Format: "CDISC ODM", Element: "FormDef " + fd.OID + "/ItemGroupRef", Msg: fmt.Sprintf("ItemGroupOID %q has no ItemGroupDef", gr.ItemGroupOID)}
					}
					sp.groups = append(sp.groups, g)
				}
				specs = append(specs, sp)
			}
			for _, g := range m.Groups {
				if g.Type == "Form" || isForm[g.OID] {
					specs = append(specs, formSpec{id: g.OID, name: g.Name, groups: []groupDef{g}})
				}
			}
			for _, sp := range specs {
				f := model.Form{ID: sp.id, Name: sp.name}
				seen := map[string]bool{}
				var add func(g groupDef, repeating bool, depth int) error
				add = func(g groupDef, repeating bool, depth int) error {
					if depth > 16 {
						return &ImportError{Format: "CDISC ODM", Element: "ItemGroupRef", Msg: "item groups nested too deep (a cycle?) at " + g.OID}
					}
					repeating = repeating || g.Repeating == "Yes" || g.Repeating == "Static" || g.Repeating == "Dynamic"
					for _, ir := range g.Items {
						it, ok := items[ir.ItemOID]
						if !ok {
							return &ImportError{Format: "CDISC ODM", Element: "ItemRef", Msg: fmt.Sprintf("ItemOID %q has no ItemDef", ir.ItemOID)}
						}
						if seen[it.OID] {
							continue
						}
						seen[it.OID] = true
						fd := model.Field{ID: it.OID, Label: it.Name, Required: ir.Mandatory == "Yes", Repeating: repeating}
						switch it.DataType {
						case "integer":
							fd.Type = model.TypeInteger
						case "float", "double", "decimal":
							fd.Type = model.TypeDecimal
						case "date":
							fd.Type = model.TypeDate
						case "datetime", "partialDatetime":
							// xs:dateTime need not carry a zone; EDC exports often drop seconds:
							// keep the value as given, precision and all.
							fd.Type = model.TypePartialDateTime
						case "partialDate":
							fd.Type = model.TypePartialDate
						case "time", "partialTime":
							fd.Type = model.TypePartialTime
						case "boolean":
							fd.Type = model.TypeBoolean
						default:
							fd.Type = model.TypeText
							fd.MaxLength = it.Length
						}
						if cl := it.CodeList.OID; cl != "" && len(codes[cl]) > 0 {
							fd.Type, fd.Codes, fd.MaxLength = model.TypeCode, codes[cl], 0
						}
						fd.Unit = it.Unit.OID
						f.Fields = append(f.Fields, fd)
					}
					for _, gr := range g.Groups {
						sub, ok := groups[gr.ItemGroupOID]
						if !ok {
							return &ImportError{Format: "CDISC ODM", Element: "ItemGroupRef", Msg: fmt.Sprintf("ItemGroupOID %q has no ItemGroupDef", gr.ItemGroupOID)}
						}
						if err := add(sub, repeating, depth+1); err != nil {
							return err
						}
					}
					return nil
				}
				for _, g := range sp.groups {
					if err := add(g, false, 0); err != nil {
						return nil, err
					}
				}
				if len(f.Fields) > 0 {
					forms = append(forms, f)
				}
			}
		}
	}
	sort.SliceStable(forms, func(i, j int) bool { return forms[i].ID < forms[j].ID })
	return forms, nil
}

// RecordsFromODM turns imported ODM forms into case-report-form records
// of trial (trial submit --odm). Each ODM SubjectKey is replaced by the
// site's pseudonymous subject id from subjects (the site's own table; an
// unmapped key is an error, so no sponsor key reaches the chain); visits
// and forms are renamed through the optional maps. Each record gets a fresh
// salt from rand.
func RecordsFromODM(rand io.Reader, trial string, forms []ODMForm, subjects, visits, formIDs map[string]string) ([]Record, error) {
	var out []Record
	for _, f := range forms {
		subj, ok := subjects[f.SubjectKey]
		if !ok {
			return nil, &ImportError{Format: "CDISC ODM", Element: "SubjectData", Msg: fmt.Sprintf("SubjectKey %q has no pseudonymous subject id: enrol the subject and map the key to its id", f.SubjectKey)}
		}
		visit, form := f.Visit, f.Form
		if v, ok := visits[visit]; ok {
			visit = v
		}
		if v, ok := formIDs[form]; ok {
			form = v
		}
		rec, err := NewRecord(rand, trial, subj, visit, form, f.Fields)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// VisitsFromODM reads the visits of an ODM document's metadata: each
// StudyEventDef with the forms it references (FormRef, or ItemGroupRef in
// files whose item groups are the forms), for FormsFromODM's forms.
// Day and window are not in ODM metadata: they are left 0.
func VisitsFromODM(b []byte) ([]model.Visit, error) {
	var doc struct {
		XMLName xml.Name
		Studies []struct {
			MDV []struct {
				Events []struct {
					OID   string `xml:"OID,attr"`
					Name  string `xml:"Name,attr"`
					Forms []struct {
						OID string `xml:"FormOID,attr"`
					} `xml:"FormRef"`
					Groups []struct {
						OID string `xml:"ItemGroupOID,attr"`
					} `xml:"ItemGroupRef"`
				} `xml:"StudyEventDef"`
			} `xml:"MetaDataVersion"`
		} `xml:"Study"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, &ImportError{Format: "CDISC ODM", Element: "document", Msg: "malformed XML: " + err.Error()}
	}
	if doc.XMLName.Local != "ODM" {
		return nil, &ImportError{Format: "CDISC ODM", Element: doc.XMLName.Local, Msg: "root element is not ODM"}
	}
	var out []model.Visit
	for _, st := range doc.Studies {
		for _, m := range st.MDV {
			for _, e := range m.Events {
				v := model.Visit{ID: e.OID, Name: e.Name}
				for _, f := range e.Forms {
					v.Forms = append(v.Forms, f.OID)
				}
				for _, g := range e.Groups {
					v.Forms = append(v.Forms, g.OID)
				}
				if v.ID == "" {
					return nil, &ImportError{Format: "CDISC ODM", Element: "StudyEventDef", Msg: "missing OID attribute"}
				}
				out = append(out, v)
			}
		}
	}
	return out, nil
}
