package trials

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"

	"github.com/trialchain/trialchain/trials/model"
)

// TrialData is what a trial's data export reads: the protocol and the
// trial's records as on chain (trial show, trial show --list), and, for
// the values kept off chain, the site's full records by record hash (its
// RecordStore). Without a record, an entry exports its public fields only.
type TrialData struct {
	Protocol model.Protocol
	Subjects []model.Subject
	Entries  []model.Entry
	AEs      []model.AdverseEvent
	Records  map[string]Record // by Record.Hash(); may be nil
}

// Traceability columns added to every exported dataset. Each row names
// the on-chain record it comes from (TCSRCID: entry, subject or adverse
// event id) and the SHA-256 of that record's on-chain state value
// (TCSRCHASH = model.Hash of the stored JSON, which a bundle's state proof
// or receipt carries); case-report-form rows also carry the hash of the
// full off-chain record the entry commits to (TCRECHASH).
const (
	colSourceID   = "TCSRCID"
	colSourceHash = "TCSRCHASH"
	colRecordHash = "TCRECHASH"
)

// SDTMOptions says how collected forms map to SDTM domains.
type SDTMOptions struct {
	// VSForms are the forms exported as vital signs (VS): each numeric
	// field a test, its id the VSTESTCD. Default: "vitals".
	VSForms []string
	// Created is the datasetJSONCreationDateTime (YYYY-MM-DDThh:mm:ss),
	// a parameter so that the same data give the same bytes.
	Created string
}

// CurrentEntries returns, for each subject, visit and form, the entry in
// force (the last correction, else the submission), ordered by subject,
// visit, form; and each one's history (the submission then its
// corrections, in order).
func CurrentEntries(entries []model.Entry) (current []model.Entry, history map[string][]model.Entry) {
	byKey := map[[3]string][]model.Entry{}
	for _, e := range entries {
		k := [3]string{e.Subject, e.Visit, e.Form}
		byKey[k] = append(byKey[k], e)
	}
	keys := make([][3]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		if a[1] != b[1] {
			return a[1] < b[1]
		}
		return a[2] < b[2]
	})
	history = map[string][]model.Entry{}
	for _, k := range keys {
		es := byKey[k]
		sort.Slice(es, func(i, j int) bool { return es[i].ID < es[j].ID })
		last := es[len(es)-1]
		current = append(current, last)
		history[last.ID] = es
	}
	return current, history
}

// entryValues are an entry's values: the full record's if the site's
// store has it, else the public fields.
func (d *TrialData) entryValues(e *model.Entry) map[string]model.FieldValue {
	if r, ok := d.Records[e.RecordHash]; ok {
		return r.Fields
	}
	return e.Public
}

func usubjid(trial, subject string) string { return trial + "-" + subject }

func col(name, label, typ string) DatasetColumn {
	return DatasetColumn{ItemOID: "IT." + name, Name: name, Label: label, DataType: typ}
}

var traceCols = []DatasetColumn{
	col(colSourceID, "TrialChain on-chain record id", "string"),
	col(colSourceHash, "SHA-256 of the on-chain record", "string"),
}

// SDTM exports the trial's collected data as CDISC SDTM datasets in
// Dataset-JSON 1.1: DM (subjects), AE (adverse events), VS (vital signs,
// from SDTMOptions.VSForms), and the trial design domains the protocol
// gives: TS (trial summary) and TV (trial visits). Corrections are
// applied (the entry in force). Every row is traceable to its on-chain
// record (TCSRCID, TCSRCHASH, TCRECHASH). The result is ordered and
// deterministic: the same data and options give the same bytes.
func SDTM(d *TrialData, opt SDTMOptions) (map[string][]byte, error) {
	if opt.Created == "" {
		return nil, fmt.Errorf("trials: SDTM export: the creation date-time is required")
	}
	if len(opt.VSForms) == 0 {
		opt.VSForms = []string{"vitals"}
	}
	p := &d.Protocol
	study := p.ID
	out := map[string][]byte{}
	put := func(name, label string, cols []DatasetColumn, rows [][]any) error {
		ds := &DatasetJSON{Version: "1.1.0", StudyOID: study, ItemGroupOID: "IG." + name, Name: name, Label: label, Columns: cols, Rows: rows}
		b, err := ds.Marshal(opt.Created)
		if err != nil {
			return err
		}
		out[strings.ToLower(name)+".json"] = b
		return nil
	}

	// DM: one row per subject.
	armName := map[string]string{}
	for _, a := range p.Arms {
		armName[a.ID] = a.Name
	}
	subs := append([]model.Subject(nil), d.Subjects...)
	sort.Slice(subs, func(i, j int) bool { return subs[i].ID < subs[j].ID })
	dmCols := append([]DatasetColumn{col("STUDYID", "Study Identifier", "string"), col("DOMAIN", "Domain Abbreviation", "string"),
		col("USUBJID", "Unique Subject Identifier", "string"), col("SUBJID", "Subject Identifier for the Study", "string"),
		col("SITEID", "Study Site Identifier", "string"), col("RFICDTC", "Date/Time of Informed Consent", "date"),
		col("AGE", "Age", "integer"), col("AGEU", "Age Units", "string"), col("SEX", "Sex", "string"),
		col("ARMCD", "Planned Arm Code", "string"), col("ARM", "Description of Planned Arm", "string")}, traceCols...)
	current, _ := CurrentEntries(d.Entries)
	demo := map[string]map[string]model.FieldValue{} // subject → demographics values in force
	for _, e := range current {
		if e.Form == "demographics" {
			demo[e.Subject] = d.entryValues(&e)
		}
	}
	var dm [][]any
	for _, s := range subs {
		var age, ageu, sex any
		if v := demo[s.ID]["AGE"]; v.Value != "" {
			if n, ok := model.ParseDecimal(v.Value); ok && n.IsInteger() {
				age, ageu = json.Number(v.Value), "YEARS"
			}
		}
		if v := demo[s.ID]["SEX"]; v.Value != "" {
			sex = v.Value
		}
		dm = append(dm, []any{study, "DM", usubjid(study, s.ID), s.ID, s.Site, datePart(s.Manifestation.Time), age, ageu, sex, s.Arm, armName[s.Arm], s.ID, model.Hash(s)})
	}
	if err := put("DM", "Demographics", dmCols, dm); err != nil {
		return nil, err
	}

	// AE: one row per adverse event, numbered per subject.
	aes := append([]model.AdverseEvent(nil), d.AEs...)
	sort.Slice(aes, func(i, j int) bool {
		if aes[i].Subject != aes[j].Subject {
			return aes[i].Subject < aes[j].Subject
		}
		return aes[i].ID < aes[j].ID
	})
	aeCols := append([]DatasetColumn{col("STUDYID", "Study Identifier", "string"), col("DOMAIN", "Domain Abbreviation", "string"),
		col("USUBJID", "Unique Subject Identifier", "string"), col("AESEQ", "Sequence Number", "integer"),
		col("AETERM", "Reported Term for the Adverse Event", "string"), col("AESEV", "Severity/Intensity", "string"),
		col("AESER", "Serious Event", "string"), col("AESTDTC", "Start Date/Time of Adverse Event", "string")}, traceCols...)
	var ae [][]any
	seq := map[string]int{}
	for _, a := range aes {
		seq[a.Subject]++
		ser := "N"
		if a.Serious {
			ser = "Y"
		}
		var onset any
		if a.Onset != "" {
			onset = a.Onset
		}
		ae = append(ae, []any{study, "AE", usubjid(study, a.Subject), seq[a.Subject], a.Term, strings.ToUpper(a.Severity), ser, onset, a.ID, model.Hash(a)})
	}
	if err := put("AE", "Adverse Events", aeCols, ae); err != nil {
		return nil, err
	}

	// VS: one row per numeric value of a vital-signs form in force.
	vsCols := append([]DatasetColumn{col("STUDYID", "Study Identifier", "string"), col("DOMAIN", "Domain Abbreviation", "string"),
		col("USUBJID", "Unique Subject Identifier", "string"), col("VSSEQ", "Sequence Number", "integer"),
		col("VSTESTCD", "Vital Signs Test Short Name", "string"), col("VSTEST", "Vital Signs Test Name", "string"),
		col("VSORRES", "Result or Finding in Original Units", "string"), col("VSORRESU", "Original Units", "string"),
		col("VISIT", "Visit Name", "string"), col("VSDTC", "Date/Time of Measurements", "date")},
		append(traceCols, col(colRecordHash, "SHA-256 of the full off-chain record", "string"))...)
	var vs [][]any
	seq = map[string]int{}
	for _, e := range current {
		isVS := false
		for _, f := range opt.VSForms {
			isVS = isVS || e.Form == f
		}
		form, ok := p.Form(e.Form)
		if !isVS || !ok {
			continue
		}
		vals := d.entryValues(&e)
		for _, fd := range form.Fields {
			if fd.Type != model.TypeInteger && fd.Type != model.TypeDecimal {
				continue
			}
			v, ok := vals[fd.ID]
			if !ok || v.Value == "" {
				continue
			}
			seq[e.Subject]++
			var unit any
			if v.Unit != "" {
				unit = v.Unit
			}
			label := fd.Label
			if label == "" {
				label = fd.ID
			}
			vs = append(vs, []any{study, "VS", usubjid(study, e.Subject), seq[e.Subject], strings.ToUpper(fd.ID), label, v.Value, unit,
				e.Visit, datePart(e.Manifestation.Time), e.ID, model.Hash(e), e.RecordHash})
		}
	}
	if err := put("VS", "Vital Signs", vsCols, vs); err != nil {
		return nil, err
	}

	// TS and TV: the trial design the protocol gives.
	tsCols := append([]DatasetColumn{col("STUDYID", "Study Identifier", "string"), col("DOMAIN", "Domain Abbreviation", "string"),
		col("TSSEQ", "Sequence Number", "integer"), col("TSPARMCD", "Trial Summary Parameter Short Name", "string"),
		col("TSPARM", "Trial Summary Parameter", "string"), col("TSVAL", "Parameter Value", "string")}, traceCols...)
	var ts [][]any
	tsRow := func(code, name, val string) {
		if val != "" {
			ts = append(ts, []any{study, "TS", len(ts) + 1, code, name, val, p.ID, model.Hash(*p)})
		}
	}
	tsRow("TITLE", "Trial Title", p.Title)
	tsRow("SPONSOR", "Clinical Study Sponsor", p.Sponsor)
	tsRow("TPHASE", "Trial Phase Classification", p.Phase)
	tsRow("SSTDTC", "Study Start Date", p.StartDate)
	tsRow("NARMS", "Planned Number of Arms", fmt.Sprint(len(p.Arms)))
	tsRow("ACTSUB", "Actual Number of Subjects", fmt.Sprint(len(d.Subjects)))
	if err := put("TS", "Trial Summary", tsCols, ts); err != nil {
		return nil, err
	}
	tvCols := append([]DatasetColumn{col("STUDYID", "Study Identifier", "string"), col("DOMAIN", "Domain Abbreviation", "string"),
		col("VISITNUM", "Visit Number", "integer"), col("VISIT", "Visit Name", "string"), col("VISITDY", "Planned Study Day of Visit", "integer")}, traceCols...)
	var tv [][]any
	for i, v := range p.Visits {
		tv = append(tv, []any{study, "TV", i + 1, v.ID, v.Day, p.ID, model.Hash(*p)})
	}
	if err := put("TV", "Trial Visits", tvCols, tv); err != nil {
		return nil, err
	}
	return out, nil
}

func datePart(t string) any {
	if len(t) < 10 {
		return nil
	}
	return t[:10]
}

// Marshal writes the dataset as a Dataset-JSON 1.1 document created at
// created (YYYY-MM-DDThh:mm:ss). Records is the row count; an empty
// dataset has "rows": [].
func (d *DatasetJSON) Marshal(created string) ([]byte, error) {
	if !datasetDateTimeRE.MatchString(created) {
		return nil, fmt.Errorf("trials: Dataset-JSON creation time %q: want YYYY-MM-DDThh:mm:ss", created)
	}
	rows := d.Rows
	if rows == nil {
		rows = [][]any{}
	}
	doc := struct {
		Created      string          `json:"datasetJSONCreationDateTime"`
		Version      string          `json:"datasetJSONVersion"`
		Originator   string          `json:"originator"`
		SourceSystem map[string]any  `json:"sourceSystem"`
		StudyOID     string          `json:"studyOID,omitempty"`
		ItemGroupOID string          `json:"itemGroupOID"`
		Records      int             `json:"records"`
		Name         string          `json:"name"`
		Label        string          `json:"label"`
		Columns      []DatasetColumn `json:"columns"`
		Rows         [][]any         `json:"rows"`
	}{created, d.Version, "TrialChain", map[string]any{"name": "TrialChain", "version": "1"}, d.StudyOID, d.ItemGroupOID, len(rows), d.Name, d.Label, d.Columns, rows}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("trials: Dataset-JSON %s: %w", d.Name, err)
	}
	return b.Bytes(), nil
}

// ODM 1.3.2 output shapes (encoding/xml writes them in field order).
type (
	odmOut struct {
		XMLName          xml.Name       `xml:"ODM"`
		Xmlns            string         `xml:"xmlns,attr"`
		ODMVersion       string         `xml:"ODMVersion,attr"`
		FileType         string         `xml:"FileType,attr"`
		FileOID          string         `xml:"FileOID,attr"`
		CreationDateTime string         `xml:"CreationDateTime,attr"`
		Originator       string         `xml:"Originator,attr"`
		Clinical         odmClinicalOut `xml:"ClinicalData"`
	}
	odmClinicalOut struct {
		StudyOID     string           `xml:"StudyOID,attr"`
		MDVOID       string           `xml:"MetaDataVersionOID,attr"`
		Subjects     []odmSubjectOut  `xml:"SubjectData"`
		AuditRecords *odmAuditRecords `xml:"AuditRecords,omitempty"`
	}
	odmAuditRecords struct {
		Records []odmAuditOut `xml:"AuditRecord"`
	}
	odmSubjectOut struct {
		SubjectKey string        `xml:"SubjectKey,attr"`
		Events     []odmEventOut `xml:"StudyEventData"`
	}
	odmEventOut struct {
		OID   string       `xml:"StudyEventOID,attr"`
		Forms []odmFormOut `xml:"FormData"`
	}
	odmFormOut struct {
		OID    string        `xml:"FormOID,attr"`
		Audit  odmAuditOut   `xml:"AuditRecord"`
		Groups []odmGroupOut `xml:"ItemGroupData"`
	}
	odmGroupOut struct {
		OID    string        `xml:"ItemGroupOID,attr"`
		Repeat string        `xml:"ItemGroupRepeatKey,attr,omitempty"`
		Items  []odmItemOut  `xml:"ItemData"`
		Groups []odmGroupOut `xml:"ItemGroupData"`
	}
	odmItemOut struct {
		OID   string      `xml:"ItemOID,attr"`
		Value string      `xml:"Value,attr"`
		Unit  *odmUnitOut `xml:"MeasurementUnitRef,omitempty"`
	}
	odmUnitOut struct {
		OID string `xml:"MeasurementUnitOID,attr"`
	}
	odmAuditOut struct {
		ID       string    `xml:"ID,attr,omitempty"`
		User     odmRefOut `xml:"UserRef"`
		Location odmLocOut `xml:"LocationRef"`
		Time     string    `xml:"DateTimeStamp"`
		Reason   string    `xml:"ReasonForChange,omitempty"`
		Source   string    `xml:"SourceID"`
	}
	odmRefOut struct {
		OID string `xml:"UserOID,attr"`
	}
	odmLocOut struct {
		OID string `xml:"LocationOID,attr"`
	}
)

func auditOf(e *model.Entry) odmAuditOut {
	return odmAuditOut{User: odmRefOut{OID: e.Manifestation.Signer}, Location: odmLocOut{OID: e.Site}, Time: e.Manifestation.Time,
		Reason: e.Reason, Source: fmt.Sprintf("%s %s record %s", e.ID, model.Hash(*e), e.RecordHash)}
}

// ODM exports the trial's case-report-form data as a CDISC ODM 1.3.2
// Snapshot: per subject, visit and form the values in force (the full
// record's where the site's store has it), each FormData with the audit
// record of the entry in force (signer key, site, time, reason for change,
// and as SourceID the entry id, the SHA-256 of its on-chain value and the
// record hash); ClinicalData/AuditRecords holds the audit record of every
// version, submission and corrections, in order. SubjectKey is the
// pseudonymous subject id. ParseODMClinicalData and ImportODM read it
// back to the same values.
func ODM(d *TrialData, created string) ([]byte, error) {
	if !datasetDateTimeRE.MatchString(created) {
		return nil, fmt.Errorf("trials: ODM creation time %q: want YYYY-MM-DDThh:mm:ss", created)
	}
	current, history := CurrentEntries(d.Entries)
	doc := odmOut{Xmlns: "http://www.cdisc.org/ns/odm/v1.3", ODMVersion: "1.3.2", FileType: "Snapshot", FileOID: "TC." + d.Protocol.ID + "." + created,
		CreationDateTime: created, Originator: "TrialChain",
		Clinical: odmClinicalOut{StudyOID: d.Protocol.ID, MDVOID: fmt.Sprintf("v%d", d.Protocol.Version)}}
	var all []odmAuditOut
	for _, e := range current {
		if n := len(doc.Clinical.Subjects); n == 0 || doc.Clinical.Subjects[n-1].SubjectKey != e.Subject {
			doc.Clinical.Subjects = append(doc.Clinical.Subjects, odmSubjectOut{SubjectKey: e.Subject})
		}
		s := &doc.Clinical.Subjects[len(doc.Clinical.Subjects)-1]
		if n := len(s.Events); n == 0 || s.Events[n-1].OID != e.Visit {
			s.Events = append(s.Events, odmEventOut{OID: e.Visit})
		}
		ev := &s.Events[len(s.Events)-1]
		top := odmGroupOut{OID: e.Form}
		repeats := map[string]*odmGroupOut{}
		var repKeys []string
		vals := d.entryValues(&e)
		for _, name := range sortedKeys(vals) {
			v := vals[name]
			it := odmItemOut{Value: v.Value}
			if v.Unit != "" {
				it.Unit = &odmUnitOut{OID: v.Unit}
			}
			base, rep, isRep := strings.Cut(name, "#")
			it.OID = base
			if !isRep {
				top.Items = append(top.Items, it)
				continue
			}
			g := repeats[rep]
			if g == nil {
				g = &odmGroupOut{OID: e.Form + ".R", Repeat: rep}
				repeats[rep] = g
				repKeys = append(repKeys, rep)
			}
			g.Items = append(g.Items, it)
		}
		sort.Slice(repKeys, func(i, j int) bool {
			if len(repKeys[i]) != len(repKeys[j]) {
				return len(repKeys[i]) < len(repKeys[j])
			}
			return repKeys[i] < repKeys[j]
		})
		for _, k := range repKeys {
			top.Groups = append(top.Groups, *repeats[k])
		}
		ev.Forms = append(ev.Forms, odmFormOut{OID: e.Form, Audit: auditOf(&e), Groups: []odmGroupOut{top}})
		for _, h := range history[e.ID] {
			a := auditOf(&h)
			a.ID = "AR." + h.ID
			all = append(all, a)
		}
	}
	if len(all) > 0 {
		doc.Clinical.AuditRecords = &odmAuditRecords{Records: all}
	}
	b, err := xml.MarshalIndent(doc, "", " ")
	if err != nil {
		return nil, fmt.Errorf("trials: ODM export: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}
