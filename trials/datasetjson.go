package trials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
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
	// TargetDataType and DisplayFormat are optional Dataset-JSON 1.1 metadata.
	TargetDataType string `json:"targetDataType,omitempty"`
	DisplayFormat  string `json:"displayFormat,omitempty"`
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

// Dataset-JSON 1.1 structure, as dataset.schema.json (draft 2019-09)
// states it: the top-level and column keys allowed, those required, the
// data types and the date-time pattern. TestDatasetJSONSchemaAgrees checks
// these rules against the published schema file.
var (
	datasetTopKeys = []string{"columns", "datasetJSONCreationDateTime", "datasetJSONVersion", "dbLastModifiedDateTime",
		"fileOID", "itemGroupOID", "label", "metaDataRef", "metaDataVersionOID", "name", "originator", "records", "rows",
		"sourceSystem", "studyOID"}
	datasetTopRequired = []string{"datasetJSONCreationDateTime", "datasetJSONVersion", "itemGroupOID", "records", "name", "label", "columns"}
	datasetColumnKeys  = []string{"dataType", "displayFormat", "itemOID", "keySequence", "label", "length", "name", "targetDataType"}
	datasetColRequired = []string{"itemOID", "name", "label", "dataType"}
	datasetDataTypes   = []string{"string", "integer", "decimal", "float", "double", "boolean", "datetime", "date", "time", "URI"}
	datasetTargetTypes = []string{"integer", "decimal"}
	datasetVersionRE   = regexp.MustCompile(`^1\.1(\.(0|[1-9][0-9]*))?$`)
	datasetDateTimeRE  = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(([+-]([01][0-9]|2[0-3]):[0-5][0-9])|Z)?$`)
)

// ParseDatasetJSON reads and checks a CDISC Dataset-JSON 1.1 document
// against the structure its schema defines (required keys, no unknown
// keys, version 1.1.x, creation date-time, column metadata with a known
// dataType) and against itself: a "rows" array whose rows are as long as
// the column list, "records" equal to the row count, each value of its
// column's type (string, integer, float/double/decimal, boolean,
// date/datetime/time as strings) or null.
//
// # Errors
//
// Every problem found is reported at once, as ImportErrors in document
// order (each an *ImportError naming the element).
func ParseDatasetJSON(b []byte) (*DatasetJSON, error) {
	const format = "CDISC Dataset-JSON"
	var probs ImportErrors
	add := func(elem, msg string, args ...any) {
		probs = append(probs, &ImportError{Format: format, Element: elem, Msg: fmt.Sprintf(msg, args...)})
	}
	var top map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&top); err != nil || top == nil {
		msg := "not a JSON object"
		if err != nil {
			msg += ": " + err.Error()
		}
		return nil, &ImportError{Format: format, Msg: msg}
	}
	if d.More() {
		return nil, &ImportError{Format: format, Msg: "trailing data after the JSON object"}
	}
	for _, k := range sortedKeys(top) {
		if !slices.Contains(datasetTopKeys, k) {
			add(k, "not a Dataset-JSON 1.1 key")
		}
	}
	for _, k := range append(append([]string(nil), datasetTopRequired...), "rows") {
		if _, ok := top[k]; !ok {
			add(k, "missing")
		}
	}
	str := func(k string) string {
		raw, ok := top[k]
		if !ok {
			return ""
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			add(k, "not a string")
		}
		return s
	}
	ds := &DatasetJSON{Version: str("datasetJSONVersion"), StudyOID: str("studyOID"), ItemGroupOID: str("itemGroupOID"), Name: str("name"), Label: str("label")}
	for _, k := range []string{"fileOID", "metaDataRef", "metaDataVersionOID", "originator"} {
		str(k)
	}
	if _, ok := top["datasetJSONVersion"]; ok && !datasetVersionRE.MatchString(ds.Version) {
		add("datasetJSONVersion", "%q is not a 1.1 version (1.1 or 1.1.N)", ds.Version)
	}
	for _, k := range []string{"datasetJSONCreationDateTime", "dbLastModifiedDateTime"} {
		if _, ok := top[k]; ok {
			if v := str(k); !datasetDateTimeRE.MatchString(v) {
				add(k, "%q is not a date-time YYYY-MM-DDThh:mm:ss[.f][zone]", v)
			}
		}
	}
	if raw, ok := top["sourceSystem"]; ok {
		var ss map[string]json.RawMessage
		if json.Unmarshal(raw, &ss) != nil || ss == nil {
			add("sourceSystem", "not an object")
		} else {
			for _, k := range sortedKeys(ss) {
				if k != "name" && k != "version" {
					add("sourceSystem."+k, "not a Dataset-JSON 1.1 key")
				}
			}
			for _, k := range []string{"name", "version"} {
				var s string
				if v, ok := ss[k]; !ok {
					add("sourceSystem."+k, "missing")
				} else if json.Unmarshal(v, &s) != nil {
					add("sourceSystem."+k, "not a string")
				}
			}
		}
	}
	records := -1
	if raw, ok := top["records"]; ok {
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			add("records", "not an integer")
		} else if v, err := n.Int64(); err != nil || v < 0 || v > math.MaxInt32 {
			add("records", "%s is not a count", n)
		} else {
			records = int(v)
		}
	}
	if raw, ok := top["columns"]; ok {
		var cols []map[string]json.RawMessage
		if json.Unmarshal(raw, &cols) != nil {
			add("columns", "not an array of objects")
		} else if len(cols) == 0 {
			add("columns", "no columns")
		}
		seen := map[string]int{}
		for i, c := range cols {
			ds.Columns = append(ds.Columns, parseDatasetColumn(fmt.Sprintf("columns[%d]", i), c, add))
			name := strings.ToUpper(ds.Columns[i].Name)
			if j, dup := seen[name]; dup && name != "" {
				add(fmt.Sprintf("columns[%d].name", i), "%q repeats columns[%d]", ds.Columns[i].Name, j)
			}
			seen[name] = i
		}
	}
	if raw, ok := top["rows"]; ok {
		var rows []json.RawMessage
		if json.Unmarshal(raw, &rows) != nil {
			add("rows", "not an array of rows")
		}
		if records >= 0 && rows != nil && records != len(rows) {
			add("records", "says %d, the dataset has %d rows", records, len(rows))
		}
		for i, r := range rows {
			if len(probs) > maxListed {
				break // enough to act on; the rest would drown it
			}
			dec := json.NewDecoder(bytes.NewReader(r))
			dec.UseNumber()
			var row []any
			if err := dec.Decode(&row); err != nil {
				add(fmt.Sprintf("rows[%d]", i), "not an array")
				continue
			}
			if len(ds.Columns) > 0 && len(row) != len(ds.Columns) {
				add(fmt.Sprintf("rows[%d]", i), "has %d values for %d columns", len(row), len(ds.Columns))
				continue
			}
			for j, v := range row {
				if j >= len(ds.Columns) {
					break
				}
				if err := checkDatasetValue(ds.Columns[j].DataType, v); err != nil && slices.Contains(datasetDataTypes, ds.Columns[j].DataType) {
					add(fmt.Sprintf("rows[%d].%s", i, ds.Columns[j].Name), "%s", err)
				}
			}
			ds.Rows = append(ds.Rows, row)
		}
	}
	if err := probs.errOrNil(); err != nil {
		return nil, err
	}
	return ds, nil
}

func parseDatasetColumn(where string, c map[string]json.RawMessage, add func(elem, msg string, args ...any)) DatasetColumn {
	var col DatasetColumn
	for _, k := range sortedKeys(c) {
		if !slices.Contains(datasetColumnKeys, k) {
			add(where+"."+k, "not a Dataset-JSON 1.1 column key")
		}
	}
	for _, k := range datasetColRequired {
		if _, ok := c[k]; !ok {
			add(where+"."+k, "missing")
		}
	}
	str := func(k string) string {
		var s string
		if v, ok := c[k]; ok && json.Unmarshal(v, &s) != nil {
			add(where+"."+k, "not a string")
		}
		return s
	}
	num := func(k string) int {
		v, ok := c[k]
		if !ok {
			return 0
		}
		var n int
		if json.Unmarshal(v, &n) != nil || n < 1 {
			add(where+"."+k, "not an integer ≥ 1")
		}
		return n
	}
	col.ItemOID, col.Name, col.Label, col.DataType = str("itemOID"), str("name"), str("label"), str("dataType")
	col.TargetDataType, col.DisplayFormat = str("targetDataType"), str("displayFormat")
	col.Length, col.KeySequence = num("length"), num("keySequence")
	if _, ok := c["dataType"]; ok && !slices.Contains(datasetDataTypes, col.DataType) {
		add(where+".dataType", "%q is not one of %s", col.DataType, strings.Join(datasetDataTypes, ", "))
	}
	if _, ok := c["targetDataType"]; ok && !slices.Contains(datasetTargetTypes, col.TargetDataType) {
		add(where+".targetDataType", "%q is not one of %s", col.TargetDataType, strings.Join(datasetTargetTypes, ", "))
	}
	if _, ok := c["name"]; ok && col.Name == "" {
		add(where+".name", "empty")
	}
	return col
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
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

// ADaM dataset kinds ResultsFromADaM reads, with the variables each must
// have (one of each inner list). Names follow ADaMIG 1.1 (ADSL) and the
// ADaM Basic Data Structure for Time-to-Event Analyses (ADTTE).
var adamRequired = map[string][][]string{
	"ADSL":  {{"STUDYID"}, {"USUBJID"}, {"TRT01A", "TRT01P", "ARM"}},
	"ADTTE": {{"STUDYID"}, {"USUBJID"}, {"PARAMCD"}, {"PARAM"}, {"AVAL"}, {"CNSR"}, {"TRTA", "TRTP"}},
}

// CheckADaM checks that ds is the ADaM dataset it is given as (kind
// "ADSL" or "ADTTE"): its name (ADTTE may carry a suffix, e.g. ADTTEOS),
// a label, and the variables that kind requires. Every problem is listed.
func CheckADaM(ds *DatasetJSON, kind string) error {
	req, ok := adamRequired[kind]
	if !ok {
		return fmt.Errorf("trials: unknown ADaM dataset kind %q", kind)
	}
	format := "CDISC Dataset-JSON " + kind
	var probs ImportErrors
	name := strings.ToUpper(ds.Name)
	if name != kind && !(kind == "ADTTE" && strings.HasPrefix(name, kind)) {
		probs = append(probs, &ImportError{Format: format, Element: "name", Msg: fmt.Sprintf("the dataset is %q (%s), not %s", ds.Name, ds.Label, kind)})
	}
	if strings.TrimSpace(ds.Label) == "" {
		probs = append(probs, &ImportError{Format: format, Element: "label", Msg: "empty"})
	}
	var missing []string
	for _, alts := range req {
		if slices.IndexFunc(alts, func(n string) bool { return ds.Column(n) >= 0 }) < 0 {
			missing = append(missing, strings.Join(alts, " or "))
		}
	}
	for _, m := range missing {
		probs = append(probs, &ImportError{Format: format, Element: "columns", Msg: "no " + m + " variable"})
	}
	return probs.errOrNil()
}

// ADaMOptions says how ResultsFromADaM reads a dataset.
type ADaMOptions struct {
	// Types maps a PARAMCD or PARAM to "primary" or "secondary" (default
	// secondary).
	Types map[string]string
	// TimeFrame applies to every result.
	TimeFrame string
	// Arms are the protocol's arms; when set, each arm of the dataset must
	// be one of them (by id or name, ignoring case) or be mapped by ArmMap,
	// and results name the protocol arm by its id.
	Arms []model.Arm
	// ArmMap maps a dataset arm (TRTA/TRTP value) to a protocol arm id.
	ArmMap map[string]string
}

// ResultsFromADaM builds per-outcome results from an ADaM time-to-event
// dataset (ADTTE: PARAMCD/PARAM, treatment TRTA or TRTP, AVAL, CNSR) and,
// if given, the subject-level dataset (ADSL) for the size of each arm's
// population (subjects with ITTFL = "Y", by TRT01A or TRT01P). For each
// parameter and arm: N, the number of events (CNSR = 0) and the median
// AVAL of the events, exactly (no floating point).
//
// # Errors
//
// Both datasets must be what they are given as (CheckADaM). Results that
// cannot be right are refused, with every problem listed in a fixed order:
// CNSR other than 0 or 1, an event without a numeric AVAL, a subject twice
// in one parameter, ADTTE subjects or arms not in ADSL, more events than
// subjects in an arm, arms not in the protocol.
func ResultsFromADaM(adtte, adsl *DatasetJSON, opt ADaMOptions) ([]model.OutcomeResult, error) {
	const format = "CDISC Dataset-JSON ADTTE"
	if err := CheckADaM(adtte, "ADTTE"); err != nil {
		return nil, err
	}
	if adsl != nil {
		if err := CheckADaM(adsl, "ADSL"); err != nil {
			return nil, err
		}
	}
	var probs ImportErrors
	add := func(f, elem, msg string, args ...any) {
		probs = append(probs, &ImportError{Format: f, Element: elem, Msg: fmt.Sprintf(msg, args...)})
	}
	col := func(ds *DatasetJSON, names ...string) int {
		for _, n := range names {
			if i := ds.Column(n); i >= 0 {
				return i
			}
		}
		return -1
	}
	pcd, pname, aval, cnsr := col(adtte, "PARAMCD"), col(adtte, "PARAM"), col(adtte, "AVAL"), col(adtte, "CNSR")
	trt, subj := col(adtte, "TRTA", "TRTP"), col(adtte, "USUBJID")
	population := map[string]int{}
	inADSL := map[string]bool{}
	if adsl != nil {
		a, f, u := col(adsl, "TRT01A", "TRT01P", "ARM"), col(adsl, "ITTFL"), col(adsl, "USUBJID")
		for _, r := range adsl.Rows {
			inADSL[cell(adsl, r, u)] = true
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
	seen := map[[2]string]int{} // (PARAMCD, USUBJID) → row
	notInADSL := 0
	for i, r := range adtte.Rows {
		p := cell(adtte, r, pcd)
		if p == "" {
			add(format, fmt.Sprintf("rows[%d].PARAMCD", i), "empty")
			continue
		}
		params[p] = cell(adtte, r, pname)
		u := cell(adtte, r, subj)
		if j, dup := seen[[2]string{p, u}]; dup {
			add(format, fmt.Sprintf("rows[%d].USUBJID", i), "subject %q already has a %s record (rows[%d])", u, p, j)
		}
		seen[[2]string{p, u}] = i
		if adsl != nil && !inADSL[u] {
			if notInADSL < 10 {
				add(format, fmt.Sprintf("rows[%d].USUBJID", i), "subject %q is not in ADSL", u)
			}
			notInADSL++
		}
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
		switch c := cell(adtte, r, cnsr); c {
		case "0":
			a.events++
			t, ok := new(big.Rat).SetString(cell(adtte, r, aval))
			if !ok {
				add(format, fmt.Sprintf("rows[%d].AVAL", i), "event time %q is not a number", cell(adtte, r, aval))
				continue
			}
			a.times = append(a.times, t)
		case "1":
		default:
			add(format, fmt.Sprintf("rows[%d].CNSR", i), "%q is neither 0 (event) nor 1 (censored)", c)
		}
	}
	if notInADSL > 10 {
		add(format, "USUBJID", "%d subjects in all are not in ADSL", notInADSL)
	}
	codes := sortedKeys(byParam)
	protoArm := func(arm string) (string, bool) {
		if id, ok := opt.ArmMap[arm]; ok {
			arm = id
		}
		for _, pa := range opt.Arms {
			if strings.EqualFold(pa.ID, arm) || strings.EqualFold(pa.Name, arm) {
				return pa.ID, true
			}
		}
		return arm, len(opt.Arms) == 0
	}
	var out []model.OutcomeResult
	for _, p := range codes {
		measure := params[p]
		if measure == "" {
			measure = p
		}
		typ := opt.Types[p]
		if typ == "" {
			typ = opt.Types[measure]
		}
		if typ == "" {
			typ = model.Secondary
		}
		res := model.OutcomeResult{Type: typ, Measure: measure, TimeFrame: opt.TimeFrame}
		mappedFrom := map[string]string{} // protocol arm id -> the dataset arm already counted as it
		for _, arm := range sortedKeys(byParam[p]) {
			a := byParam[p][arm]
			ar := model.ArmResult{Arm: arm, N: a.n, Events: a.events}
			if adsl != nil {
				n, ok := population[arm]
				if !ok {
					add(format, p+" arm "+arm, "no ITT subjects of this arm in ADSL")
				} else {
					ar.N = n
				}
			}
			if ar.Events > ar.N {
				add(format, p+" arm "+arm, "%d events among %d subjects", ar.Events, ar.N)
			}
			id, ok := protoArm(arm)
			if !ok {
				names := make([]string, len(opt.Arms))
				for i, pa := range opt.Arms {
					names[i] = pa.ID
				}
				add(format, p+" arm "+arm, "not an arm of the protocol (%s); map it with an arm map", strings.Join(names, ", "))
			}
			if prev, dup := mappedFrom[id]; dup && ok {
				add(format, p+" arm "+arm, "counted as protocol arm %s, as arm %s already is: map each dataset arm to its own protocol arm", id, prev)
			}
			mappedFrom[id] = arm
			ar.Arm = id
			if m := median(a.times); m != "" {
				ar.Value = m
				ar.Summary = fmt.Sprintf("median %s among %d events", m, a.events)
			}
			res.Arms = append(res.Arms, ar)
		}
		out = append(out, res)
	}
	if err := probs.errOrNil(); err != nil {
		return nil, err
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
