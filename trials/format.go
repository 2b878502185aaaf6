package trials

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/trialchain/trialchain/trials/model"
)

// FormatReport says in plain words what the outcome-reporting report found.
func FormatReport(r *model.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Outcome-reporting report for %s: %d outcomes pre-specified", r.Trial, r.Registered)
	if r.BaselineAt != "" {
		fmt.Fprintf(&b, " (protocol version %d, committed at the first enrolment, %s)", r.BaselineVersion, r.BaselineAt)
	}
	fmt.Fprintf(&b, ", %d reported.\n", r.Reported)
	if r.Faithful {
		b.WriteString("The results report exactly the pre-specified outcomes.\n")
		return b.String()
	}
	if r.PrimarySwitched {
		b.WriteString("WARNING: the primary outcome was switched.\n")
	}
	if r.PrimaryDropped && !r.PrimarySwitched {
		b.WriteString("WARNING: a pre-specified primary outcome was not reported (dropped, not replaced).\n")
	}
	if n := len(r.Missing); n > 0 {
		fmt.Fprintf(&b, "%d registered outcome(s) not reported:\n", n)
		for i, o := range r.Missing {
			if i == 10 {
				fmt.Fprintf(&b, "  … and %d more\n", n-10)
				break
			}
			fmt.Fprintf(&b, "  - %s %s: %s\n", o.Type, o.ID, o.Measure)
		}
	}
	if n := len(r.Added); n > 0 {
		fmt.Fprintf(&b, "%d outcome(s) reported but never registered:\n", n)
		for _, o := range r.Added {
			fmt.Fprintf(&b, "  - reported as %s: %s\n", o.Type, o.Measure)
		}
	}
	if n := len(r.Changed); n > 0 {
		fmt.Fprintf(&b, "%d outcome(s) changed:\n", n)
		for _, c := range r.Changed {
			fmt.Fprintf(&b, "  - %s (%s): %s registered as %q, reported as %q\n", c.Outcome, c.Measure, c.What, c.Registered, c.Reported)
		}
	}
	for _, a := range r.AmendedOutcomes {
		fmt.Fprintf(&b, "Amended after enrolment began: %s\n", a)
	}
	return b.String()
}

// Describe turns the output of a successful call into plain words for the
// CLI. Unknown calls get their JSON back.
func Describe(call Call, output []byte) (string, error) {
	dec := func(v any) error {
		if err := json.Unmarshal(output, v); err != nil {
			return fmt.Errorf("trials: decode %s.%s result: %w", call.Contract, call.Method, err)
		}
		return nil
	}
	switch call.Contract + "." + call.Method {
	case TrialProtocol + ".register", TrialProtocol + ".activate", TrialProtocol + ".lock":
		var t model.TrialState
		if err := dec(&t); err != nil {
			return "", err
		}
		switch call.Method {
		case "register":
			return fmt.Sprintf("Registered trial %s version %d (%q): %d outcomes (%d primary), %d forms, %d visits, sites %s. Status: registered; activate it to open enrolment.",
				t.Protocol.ID, t.Protocol.Version, t.Protocol.Title, len(t.Protocol.Outcomes), countPrimary(t.Protocol.Outcomes),
				len(t.Protocol.Forms), len(t.Protocol.Visits), strings.Join(t.Protocol.Sites, ", ")), nil
		case "activate":
			return fmt.Sprintf("Trial %s is active: allowed sites may enrol subjects.", t.Protocol.ID), nil
		default:
			s := fmt.Sprintf("Database of %s locked by %s at %s: %d subjects, %d entries, %d adverse events. Results may now be submitted.",
				t.Protocol.ID, t.Lock.Manifestation.PrintedName, t.Lock.Manifestation.Time, t.Lock.Subjects, t.Lock.Entries, t.Lock.AEs)
			if cl := t.Lock.Checklist; cl != nil {
				s += "\n" + FormatChecklist(cl)
			}
			return s, nil
		}
	case TrialProtocol + ".query_raise", TrialProtocol + ".query_answer", TrialProtocol + ".query_close":
		var q model.Query
		if err := dec(&q); err != nil {
			return "", err
		}
		return FormatQuery(&q), nil
	case TrialProtocol + ".amend":
		var a model.Amendment
		if err := dec(&a); err != nil {
			return "", err
		}
		return FormatAmendment(&a), nil
	case TrialProtocol + ".enroll":
		var s model.Subject
		if err := dec(&s); err != nil {
			return "", err
		}
		return fmt.Sprintf("Enrolled subject %s in %s at %s (protocol version %d, consent document %s…), signed by %s (%s) at %s.",
			s.ID, s.Trial, s.Site, s.ProtocolVersion, s.ConsentDocHash[:12], s.Manifestation.PrintedName, s.Manifestation.Meaning, s.Manifestation.Time), nil
	case TrialProtocol + ".submit", TrialProtocol + ".correct":
		var e model.Entry
		if err := dec(&e); err != nil {
			return "", err
		}
		return FormatEntry(&e), nil
	case TrialProtocol + ".entry":
		var v model.EntryView
		if err := dec(&v); err != nil {
			return "", err
		}
		s := FormatEntry(&v.Entry)
		if len(v.Corrections) > 0 {
			s += "\nCorrected by: " + strings.Join(v.Corrections, ", ")
		}
		return s, nil
	case TrialProtocol + ".ae":
		var a model.AdverseEvent
		if err := dec(&a); err != nil {
			return "", err
		}
		return FormatAE(&a), nil
	case TrialProtocol + ".results", TrialProtocol + ".report":
		var r model.Report
		if err := dec(&r); err != nil {
			return "", err
		}
		return FormatReport(&r), nil
	case TrialProtocol + ".show":
		var v model.TrialView
		if err := dec(&v); err != nil {
			return "", err
		}
		return FormatTrial(&v), nil
	case GenomeAccess + ".register":
		var v model.DatasetView
		if err := dec(&v); err != nil {
			return "", err
		}
		return fmt.Sprintf("Registered dataset %s (custodian %s) with DUO codes %s; its location is not on chain, only a commitment to it (%s…), released sealed to each granted researcher.",
			v.Dataset.ID, v.Dataset.Custodian, strings.Join(duoNames(v.Dataset.Codes), ", "), shortHex(v.Dataset.LocationCommitment)), nil
	case GenomeAccess + ".request", GenomeAccess + ".decide":
		var r model.Request
		if err := dec(&r); err != nil {
			return "", err
		}
		return FormatRequest(&r), nil
	case GenomeAccess + ".access":
		var a model.AccessResult
		if err := dec(&a); err != nil {
			return "", err
		}
		where := "sealed to the grant's researcher (open it with their key: trialchain genome access)"
		if a.Location != "" {
			where = a.Location + " (opened with your key, matches the dataset's commitment)"
		}
		return fmt.Sprintf("Access %d under %s to dataset %s at %s (SHA-256 %s…); the grant expires %s. This access is logged.",
			a.Access, a.Grant, a.Dataset, where, shortHex(a.Hash), a.ExpiresAt), nil
	case GenomeAccess + ".release":
		var r model.Release
		if err := dec(&r); err != nil {
			return "", err
		}
		return fmt.Sprintf("Released the location of dataset %s to %s, sealed to the researcher's key %s…: only they can open it; nobody else, and no state proof, sees it.",
			r.Dataset, r.Grant, shortHex(r.Researcher)), nil
	case GenomeAccess + ".revoke", GenomeAccess + ".grant":
		var g model.Grant
		if err := dec(&g); err != nil {
			return "", err
		}
		return FormatGrant(&g), nil
	case GenomeAccess + ".log":
		var l []model.LogEntry
		if err := dec(&l); err != nil {
			return "", err
		}
		return FormatLog(l), nil
	case SurgicalRecords + ".record", SurgicalRecords + ".cosign", SurgicalRecords + ".amend", SurgicalRecords + ".final":
		var r model.SurgicalRecord
		if err := dec(&r); err != nil {
			return "", err
		}
		return FormatRecord(&r), nil
	case SurgicalRecords + ".show":
		var v model.RecordView
		if err := dec(&v); err != nil {
			return "", err
		}
		s := FormatRecord(&v.Record)
		if len(v.Amendments) > 0 {
			s += "\nAmended by: " + strings.Join(v.Amendments, ", ")
		}
		for _, l := range v.Links {
			s += fmt.Sprintf("\nLinked to subject %s of trial %s by %s at %s", l.Subject, l.Trial, l.Manifestation.PrintedName, l.Manifestation.Time)
		}
		return s, nil
	case SurgicalRecords + ".link":
		var l model.Link
		if err := dec(&l); err != nil {
			return "", err
		}
		return fmt.Sprintf("Linked to subject %s of trial %s.", l.Subject, l.Trial), nil
	}
	if d, ok := describeCare(call, output); ok {
		return d, nil
	}
	return string(output), nil
}

// hints say what to do about each kind of refusal.
var hints = map[string]string{
	"site-not-allowed": "your organisation is not one of the trial's sites; the sponsor can add it by an amendment",
	"consent-required": "collect the consent group's signature shares over the action (trialchain consent sign), combine them (trialchain consent combine) and pass the consent file",
	"out-of-range":     "check the value against the form definition (trialchain trial show)",
	"missing-required": "fill in every required field of the form",
	"wrong-unit":       "give the value in the unit the form declares",
	"wrong-type":       "give the value in the form's type",
	"unknown-field":    "use only the fields of the form (trialchain trial show)",
	"wrong-state":      "the trial or record is not in a state that allows this; see trialchain trial show / surgery show",
	"not-found":        "check the identifier",
	"exists":           "it is already on chain; to change it, amend or correct it with a reason",
	"forbidden":        "send it from an account with the right role and organisation",
	"expired":          "request access again",
	"revoked":          "the grant was revoked; request access again",
	"not-released":     "ask the dataset's custodian to release the location to your grant (trialchain genome release GRANT --location … --from custodian)",
}

// ExplainRefusal turns a contract's refusal ("code: message") into a
// sentence that says what was refused and what to do.
func ExplainRefusal(msg string) string {
	code, rest, ok := strings.Cut(msg, ": ")
	if !ok {
		return "Refused: " + msg
	}
	s := "Refused: " + rest
	if h, ok := hints[code]; ok {
		s += "\nWhat to do: " + h + "."
	}
	return s
}

func countPrimary(os []model.Outcome) int {
	n := 0
	for _, o := range os {
		if o.Type == model.Primary {
			n++
		}
	}
	return n
}

func duoNames(codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = model.DUOName(c)
	}
	return out
}

func signed(m model.Manifestation) string {
	return fmt.Sprintf("signed by %s (%s) at %s", m.PrintedName, m.Meaning, m.Time)
}

// FormatAmendment describes an amendment.
func FormatAmendment(a *model.Amendment) string {
	s := fmt.Sprintf("Trial %s amended to version %d (%s), with the consent of group %s…: %s. Changed: %s.",
		a.Trial, a.Version, signed(a.Manifestation), short(a.ConsentGroup), a.Reason, strings.Join(a.Parts, ", "))
	for _, c := range a.OutcomeChanges {
		s += "\n  outcome change: " + c
	}
	if a.AfterEnrolment {
		s += "\n  (after enrolment began: shown in the outcome-reporting report)"
	}
	return s
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// FormatEntry describes a case-report-form entry.
func FormatEntry(e *model.Entry) string {
	var b strings.Builder
	if e.Kind == model.KindCorrection {
		fmt.Fprintf(&b, "Entry %s corrects %s (reason: %s): ", e.ID, e.Corrects, e.Reason)
	} else {
		fmt.Fprintf(&b, "Entry %s: ", e.ID)
	}
	fmt.Fprintf(&b, "form %s, visit %s, subject %s, site %s; %s.\n", e.Form, e.Visit, e.Subject, e.Site, signed(e.Manifestation))
	names := make([]string, 0, len(e.Public))
	for n := range e.Public {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := e.Public[n]
		fmt.Fprintf(&b, "  %s = %s %s\n", n, v.Value, v.Unit)
	}
	if len(e.Private) > 0 {
		fmt.Fprintf(&b, "  held off chain (committed): %s\n", strings.Join(e.Private, ", "))
	}
	fmt.Fprintf(&b, "  full record SHA-256 %s", e.RecordHash)
	return b.String()
}

// FormatAE describes an adverse event.
func FormatAE(a *model.AdverseEvent) string {
	kind := "non-serious"
	if a.Serious {
		kind = "serious"
	}
	s := fmt.Sprintf("Adverse event %s: %s (%s, %s) for subject %s at %s; site aware %s, reported %s; %s.",
		a.ID, a.Term, kind, a.Severity, a.Subject, a.Site, a.AwareAt, a.ReportedAt, signed(a.Manifestation))
	if a.RecordHash != "" {
		s += fmt.Sprintf(" Full narrative off chain, SHA-256 %s.", a.RecordHash)
	}
	if a.Late {
		s += fmt.Sprintf("\nLATE: a serious adverse event must be reported within 24 hours of awareness; this one is %d h %02d min late.", a.MinutesLate/60, a.MinutesLate%60)
	}
	return s
}

// FormatTrial describes a trial.
func FormatTrial(v *model.TrialView) string {
	var b strings.Builder
	p := &v.Protocol
	fmt.Fprintf(&b, "Trial %s version %d: %s\n", p.ID, p.Version, p.Title)
	fmt.Fprintf(&b, "Status %s; sponsor %s; sites %s; consent group %s…\n", v.Status, p.Sponsor, strings.Join(p.Sites, ", "), short(p.ConsentGroup))
	fmt.Fprintf(&b, "%d subjects, %d entries, %d adverse events (%d serious reported late)\n", v.Subjects, v.Entries, v.AEs, v.LateAEs)
	if len(v.Contracts) > 0 {
		names := make([]string, 0, len(v.Contracts))
		for n := range v.Contracts {
			names = append(names, n)
		}
		sort.Strings(names)
		b.WriteString("Contracts pinned at registration (use these, not a label):\n")
		for _, n := range names {
			fmt.Fprintf(&b, "  %-17s %s\n", n, v.Contracts[n])
		}
	}
	if v.BaselineAt != "" {
		fmt.Fprintf(&b, "Outcomes committed at the first enrolment (%s, version %d): %d\n", v.BaselineAt, v.BaselineVer, len(v.Baseline))
	}
	for _, o := range p.Outcomes {
		tf := ""
		if o.TimeFrame != "" {
			tf = " [" + o.TimeFrame + "]"
		}
		fmt.Fprintf(&b, "  %s %s: %s%s\n", o.Type, o.ID, o.Measure, tf)
	}
	for _, f := range p.Forms {
		fmt.Fprintf(&b, "Form %s:", f.ID)
		for _, fd := range f.Fields {
			fmt.Fprintf(&b, " %s(%s", fd.ID, fd.Type)
			if fd.Unit != "" {
				fmt.Fprintf(&b, " %s", fd.Unit)
			}
			if fd.Min != "" || fd.Max != "" {
				fmt.Fprintf(&b, " %s..%s", fd.Min, fd.Max)
			}
			if fd.Required {
				b.WriteString(" required")
			}
			if !fd.Public {
				b.WriteString(" off-chain")
			}
			b.WriteString(")")
		}
		b.WriteString("\n")
	}
	for _, a := range v.History {
		fmt.Fprintf(&b, "Amendment to version %d: %s (%s); changed %s\n", a.Version, a.Reason, signed(a.Manifestation), strings.Join(a.Parts, ", "))
	}
	if v.Lock != nil {
		fmt.Fprintf(&b, "Database locked at %s by %s\n", v.Lock.Manifestation.Time, v.Lock.Manifestation.PrintedName)
	}
	return strings.TrimRight(b.String(), "\n")
}

// FormatRequest describes an access request and its decision.
func FormatRequest(r *model.Request) string {
	s := fmt.Sprintf("Request %s by %s for dataset %s (project %q, purpose %s): ", r.ID, r.Org, r.Request.Dataset, r.Request.Project, model.DUOName(r.Request.Purpose))
	switch r.Status {
	case model.Granted:
		s += fmt.Sprintf("GRANTED as %s for %d days. %s", r.Grant, r.Decision.Days, r.Decision.Reason)
	case model.Denied:
		s += fmt.Sprintf("DENIED by rule %s: %s", r.Decision.Rule, r.Decision.Reason)
	case model.Held:
		s += fmt.Sprintf("HELD for the data-access committee (%s): %s", r.Decision.Rule, r.Decision.Reason)
	case "approved":
		s += fmt.Sprintf("APPROVED by the data-access committee as %s", r.Grant)
	case "refused":
		s += "REFUSED by the data-access committee"
	}
	if len(r.Decision.Conditions) > 0 {
		s += "\nConditions: " + strings.Join(r.Decision.Conditions, "; ")
	}
	return s
}

// FormatGrant describes a grant.
func FormatGrant(g *model.Grant) string {
	s := fmt.Sprintf("Grant %s: %s (%s) may access dataset %s for project %q from %s until %s; %d accesses so far.",
		g.ID, g.Org, short(g.Researcher), g.Dataset, g.Project, g.IssuedAt, g.ExpiresAt, g.Accesses)
	if g.Released {
		s += fmt.Sprintf("\nThe custodian released the dataset's location to the researcher (sealed to their key) at %s.", g.ReleasedAt)
	} else if !g.Revoked {
		s += "\nThe custodian has not released the dataset's location yet (trialchain genome release)."
	}
	if g.Revoked {
		s += fmt.Sprintf("\nREVOKED at %s by %s…: %s", g.RevokedAt, short(g.RevokedBy), g.RevokeWhy)
	}
	return s
}

// FormatLog describes a dataset's log, one line per event.
func FormatLog(l []model.LogEntry) string {
	var b strings.Builder
	for _, e := range l {
		fmt.Fprintf(&b, "%4d %s %-9s %-16s %s (%s, %s…)", e.Seq, e.Time, e.Kind, e.Ref, e.Outcome, e.Org, short(e.Actor))
		if e.Detail != "" {
			fmt.Fprintf(&b, ": %s", e.Detail)
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// FormatRecord describes a surgical record.
func FormatRecord(r *model.SurgicalRecord) string {
	p := &r.Procedure
	var b strings.Builder
	fmt.Fprintf(&b, "Surgical record %s (%s", r.ID, r.Kind)
	if r.Amends != "" {
		fmt.Fprintf(&b, " of %s, reason: %s", r.Amends, r.Reason)
	}
	fmt.Fprintf(&b, "): %s\n", strings.ToUpper(r.Status))
	by := ""
	if p.Surgeon != "" {
		by = " by " + p.Surgeon
	}
	fmt.Fprintf(&b, "  %s %s (%s) on patient %s at %s%s, %s to %s\n", p.Code.System, p.Code.Code, p.Code.Display, p.Patient, p.Site, by, p.Start, p.End)
	if p.Status != "" {
		fmt.Fprintf(&b, "  status %s; full record (surgeon, exact times, notes, device) off chain, SHA-256 %s\n", p.Status, p.RecordHash)
	}
	if p.Device != "" {
		fmt.Fprintf(&b, "  device %s\n", p.Device)
	}
	if len(p.Complications) > 0 {
		fmt.Fprintf(&b, "  complications: %s\n", strings.Join(p.Complications, "; "))
	}
	if p.Outcome != "" {
		fmt.Fprintf(&b, "  outcome: %s\n", p.Outcome)
	}
	if r.Text != "" {
		fmt.Fprintf(&b, "  %s: %s\n", r.Kind, r.Text)
	}
	fmt.Fprintf(&b, "  %s", signed(r.Manifestation))
	if r.Cosign != nil {
		fmt.Fprintf(&b, "\n  co-signed by the team's consent group %s… at %s", short(r.Cosign.Group), r.Cosign.Time)
	} else {
		fmt.Fprintf(&b, "\n  awaiting co-signature of consent group %s… over digest %s", short(p.TeamGroup), r.Digest)
	}
	return b.String()
}

// FormatQuery says in words where a query stands.
func FormatQuery(q *model.Query) string {
	var b strings.Builder
	on := q.Entry
	if q.Field != "" {
		on += " field " + q.Field
	}
	fmt.Fprintf(&b, "Query %s on entry %s (subject %s, site %s): %s — %q, raised by %s at %s", q.ID, on, q.Subject, q.Site, q.Status, q.Text,
		q.Manifestation.PrintedName, q.Manifestation.Time)
	for _, st := range q.Steps {
		switch st.Kind {
		case "correction":
			fmt.Fprintf(&b, "\n  corrected by %s as entry %s: %q (%s)", st.Manifestation.PrintedName, st.Correction, st.Text, st.Manifestation.Time)
		case "close":
			fmt.Fprintf(&b, "\n  closed by %s: %q (%s)", st.Manifestation.PrintedName, st.Text, st.Manifestation.Time)
		default:
			fmt.Fprintf(&b, "\n  answered by %s: %q (%s)", st.Manifestation.PrintedName, st.Text, st.Manifestation.Time)
		}
	}
	return b.String()
}

// FormatChecklist is the lock checklist in words, one item a line.
func FormatChecklist(cl *model.LockChecklist) string {
	mark := func(ok bool) string {
		if ok {
			return "[x]"
		}
		return "[!]"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Lock checklist:\n")
	fmt.Fprintf(&b, "  %s %d entries (%d corrections) from %d subjects\n", mark(cl.Entries > 0), cl.Entries, cl.Corrections, cl.Subjects)
	fmt.Fprintf(&b, "  %s %d queries raised, %d not closed\n", mark(cl.OpenQueries == 0), cl.QueriesRaised, cl.OpenQueries)
	fmt.Fprintf(&b, "  %s %d serious adverse events, %d reported late (reconcile with the safety database)", mark(cl.LateSeriousAEs == 0), cl.SeriousAEs, cl.LateSeriousAEs)
	if cl.Override != "" {
		fmt.Fprintf(&b, "\n  override: %q", cl.Override)
	}
	return b.String()
}
