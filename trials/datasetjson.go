package trials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/trialchain/trialchain/trials/model"
)

// DatasetJSON is a CDISC Dataset-JSON 1.1 dataset (e.g. an ADaM ADSL or
// ADTTE). Values are kept as decoded JSON: string, json.Number, bool or nil.
type DatasetJSON struct {
	Version      string
	StudyOID     string
	ItemGroupOID string
	Name, Label  string
	Columns      []DatasetColumn
	Rows         [][]any
}

// DatasetColumn is one column (variable) of a Dataset-JSON dataset.
type DatasetColumn struct {
	ItemOID     string `json:"itemOID"`
	Name        string `json:"name"`
	Label       string `json:"label"`
	DataType    string `json:"dataType"`
	Length      int    `json:"length,omitempty"`
	KeySequence int    `json:"keySequence,omitempty"`
}

// Column returns the index of the named column, or -1.
func (d *DatasetJSON) Column(name string) int {
	for i, c := range d.Columns {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

// ParseDatasetJSON reads and checks a Dataset-JSON 1.x document: version
// 1.x, columns named and typed, every row as long as the column list,
// "records" equal to the row count, each value of its column's type
// (string, integer, float/double/decimal, boolean, date/datetime/time as
// strings) or null.
func ParseDatasetJSON(b []byte) (*DatasetJSON, error) {
	const format = "CDISC Dataset-JSON"
	var raw struct {
		Version      string          `json:"datasetJSONVersion"`
		StudyOID     string          `json:"studyOID"`
		ItemGroupOID string          `json:"itemGroupOID"`
		Records      *int            `json:"records"`
		Name         string          `json:"name"`
		Label        string          `json:"label"`
		Columns      []DatasetColumn `json:"columns"`
		Rows         []json.RawMessage
	}
	var top map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&top); err != nil {
		return nil, &ImportError{Format: format, Msg: "not a JSON object: " + err.Error()}
	}
	for _, k := range []string{"datasetJSONVersion", "columns", "rows"} {
		if _, ok := top[k]; !ok {
			return nil, &ImportError{Format: format, Element: k, Msg: "missing"}
		}
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, &ImportError{Format: format, Msg: err.Error()}
	}
	if !strings.HasPrefix(raw.Version, "1.") {
		return nil, &ImportError{Format: format, Element: "datasetJSONVersion", Msg: fmt.Sprintf("%q is not a 1.x version", raw.Version)}
	}
	if len(raw.Columns) == 0 {
		return nil, &ImportError{Format: format, Element: "columns", Msg: "no columns"}
	}
	for i, c := range raw.Columns {
		if c.Name == "" || c.DataType == "" {
			return nil, &ImportError{Format: format, Element: fmt.Sprintf("columns[%d]", i), Msg: "needs name and dataType"}
		}
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(top["rows"], &rows); err != nil {
		return nil, &ImportError{Format: format, Element: "rows", Msg: "not an array of rows"}
	}
	if raw.Records != nil && *raw.Records != len(rows) {
		return nil, &ImportError{Format: format, Element: "records", Msg: fmt.Sprintf("says %d, the dataset has %d rows", *raw.Records, len(rows))}
	}
	ds := &DatasetJSON{Version: raw.Version, StudyOID: raw.StudyOID, ItemGroupOID: raw.ItemGroupOID, Name: raw.Name, Label: raw.Label, Columns: raw.Columns}
	for i, r := range rows {
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.UseNumber()
		var row []any
		if err := dec.Decode(&row); err != nil {
			return nil, &ImportError{Format: format, Element: fmt.Sprintf("rows[%d]", i), Msg: "not an array"}
		}
		if len(row) != len(ds.Columns) {
			return nil, &ImportError{Format: format, Element: fmt.Sprintf("rows[%d]", i), Msg: fmt.Sprintf("has %d values for %d columns", len(row), len(ds.Columns))}
		}
		for j, v := range row {
			if err := checkDatasetValue(ds.Columns[j].DataType, v); err != nil {
				return nil, &ImportError{Format: format, Element: fmt.Sprintf("rows[%d].%s", i, ds.Columns[j].Name), Msg: err.Error()}
			}
		}
		ds.Rows = append(ds.Rows, row)
	}
	return ds, nil
}

func checkDatasetValue(typ string, v any) error {
	if v == nil {
		return nil
	}
	switch typ {
	case "string", "date", "datetime", "time", "URI":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%v is not a %s string", v, typ)
		}
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("%v is not an integer", v)
		}
		if _, err := n.Int64(); err != nil {
			return fmt.Errorf("%v is not an integer", v)
		}
	case "float", "double", "decimal":
		switch x := v.(type) {
		case json.Number:
		case string: // decimal may be a string in 1.1
			if _, ok := new(big.Rat).SetString(x); !ok {
				return fmt.Errorf("%q is not a number", x)
			}
		default:
			return fmt.Errorf("%v is not a number", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%v is not a boolean", v)
		}
	default:
		return fmt.Errorf("unknown dataType %q", typ)
	}
	return nil
}

func cell(ds *DatasetJSON, row []any, col int) string {
	if col < 0 || row[col] == nil {
		return ""
	}
	switch x := row[col].(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// ResultsFromADaM builds per-outcome results from an ADaM time-to-event
// dataset (ADTTE: PARAMCD/PARAM, treatment TRTA or TRTP, AVAL, CNSR) and,
// if given, the subject-level dataset (ADSL) for the size of each arm's
// population (subjects with ITTFL = "Y", by TRT01A or TRT01P). For each
// parameter and arm: N, the number of events (CNSR = 0) and the median
// AVAL of the events, exactly (no floating point). types maps a PARAMCD
// or PARAM to "primary" or "secondary" (default secondary); timeFrame
// applies to all.
func ResultsFromADaM(adtte, adsl *DatasetJSON, types map[string]string, timeFrame string) ([]model.OutcomeResult, error) {
	const format = "CDISC Dataset-JSON ADTTE"
	col := func(ds *DatasetJSON, names ...string) int {
		for _, n := range names {
			if i := ds.Column(n); i >= 0 {
				return i
			}
		}
		return -1
	}
	pcd, pname, aval, cnsr := col(adtte, "PARAMCD"), col(adtte, "PARAM"), col(adtte, "AVAL"), col(adtte, "CNSR")
	trt := col(adtte, "TRTA", "TRTP")
	for name, i := range map[string]int{"PARAMCD": pcd, "AVAL": aval, "CNSR": cnsr, "TRTA or TRTP": trt} {
		if i < 0 {
			return nil, &ImportError{Format: format, Element: "columns", Msg: "no " + name + " column"}
		}
	}
	population := map[string]int{}
	if adsl != nil {
		a, f := col(adsl, "TRT01A", "TRT01P", "ARM"), col(adsl, "ITTFL")
		if a < 0 {
			return nil, &ImportError{Format: "CDISC Dataset-JSON ADSL", Element: "columns", Msg: "no TRT01A, TRT01P or ARM column"}
		}
		for _, r := range adsl.Rows {
			if f < 0 || cell(adsl, r, f) == "Y" {
				population[cell(adsl, r, a)]++
			}
		}
	}
	type acc struct {
		n, events int
		times     []*big.Rat
	}
	params := map[string]string{} // PARAMCD → PARAM
	byParam := map[string]map[string]*acc{}
	for i, r := range adtte.Rows {
		p := cell(adtte, r, pcd)
		if p == "" {
			return nil, &ImportError{Format: format, Element: fmt.Sprintf("rows[%d].PARAMCD", i), Msg: "empty"}
		}
		params[p] = cell(adtte, r, pname)
		arm := cell(adtte, r, trt)
		if byParam[p] == nil {
			byParam[p] = map[string]*acc{}
		}
		a := byParam[p][arm]
		if a == nil {
			a = &acc{}
			byParam[p][arm] = a
		}
		a.n++
		if cell(adtte, r, cnsr) == "0" {
			a.events++
			t, ok := new(big.Rat).SetString(cell(adtte, r, aval))
			if !ok {
				return nil, &ImportError{Format: format, Element: fmt.Sprintf("rows[%d].AVAL", i), Msg: "not a number"}
			}
			a.times = append(a.times, t)
		}
	}
	codes := make([]string, 0, len(byParam))
	for p := range byParam {
		codes = append(codes, p)
	}
	sort.Strings(codes)
	var out []model.OutcomeResult
	for _, p := range codes {
		measure := params[p]
		if measure == "" {
			measure = p
		}
		typ := types[p]
		if typ == "" {
			typ = types[measure]
		}
		if typ == "" {
			typ = model.Secondary
		}
		res := model.OutcomeResult{Type: typ, Measure: measure, TimeFrame: timeFrame}
		arms := make([]string, 0, len(byParam[p]))
		for a := range byParam[p] {
			arms = append(arms, a)
		}
		sort.Strings(arms)
		for _, arm := range arms {
			a := byParam[p][arm]
			ar := model.ArmResult{Arm: arm, N: a.n, Events: a.events}
			if n, ok := population[arm]; ok {
				ar.N = n
			}
			if m := median(a.times); m != "" {
				ar.Value = m
				ar.Summary = fmt.Sprintf("median %s among %d events", m, a.events)
			}
			res.Arms = append(res.Arms, ar)
		}
		out = append(out, res)
	}
	return out, nil
}

// median returns the exact median as a decimal string ("" for none).
func median(xs []*big.Rat) string {
	if len(xs) == 0 {
		return ""
	}
	s := append([]*big.Rat(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i].Cmp(s[j]) < 0 })
	m := new(big.Rat).Set(s[len(s)/2])
	if len(s)%2 == 0 {
		m.Add(s[len(s)/2-1], s[len(s)/2])
		m.Quo(m, big.NewRat(2, 1))
	}
	str := m.FloatString(6)
	str = strings.TrimRight(strings.TrimRight(str, "0"), ".")
	return str
}
