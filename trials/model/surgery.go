package model

// Method arguments and records of the surgical-records contract.

// Coding is a coded concept (e.g. SNOMED CT).
type Coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// Procedure is a surgical procedure record. The patient is a pseudonym; the
// full record (notes, images) is encrypted off chain and RecordHash is its
// SHA-256.
type Procedure struct {
	ID            string   `json:"id"`
	Patient       string   `json:"patient"` // pseudonymous patient id
	Site          string   `json:"site"`    // organisation; must be the recording organisation
	Surgeon       string   `json:"surgeon"` // printed name of the operating surgeon
	Code          Coding   `json:"code"`
	Device        string   `json:"device,omitempty"` // device identifier (UDI) if a device was implanted
	Start         string   `json:"start"`            // RFC 3339 UTC
	End           string   `json:"end"`
	Complications []string `json:"complications,omitempty"`
	Outcome       string   `json:"outcome"`
	TeamGroup     string   `json:"teamGroup"` // consent group id of the surgical team
	RecordHash    string   `json:"recordHash,omitempty"`
	Source        string   `json:"source,omitempty"`
	Status        string   `json:"status,omitempty"` // FHIR Procedure.status, e.g. completed
}

// No PHI on the ledger: the rule for a procedure on chain.
//
// What can identify a person stays in the full record, which the site
// keeps encrypted off chain and the chain commits to by RecordHash (so it
// can be shredded while every proof stays valid): the performer's name,
// the exact dates and times, free text (outcome notes, complications,
// addendum text), device identifiers and the source system's resource id.
// What goes on chain is generalised: the procedure code, the site, the
// pseudonymous patient id, the month it was performed (YYYY-MM, start and
// end), its FHIR status code, the team's consent group and RecordHash.
// Deidentified applies the rule; ValidateOnChain is what the
// surgical-records contract enforces, so no client can put more on chain.

// ProcedureStatuses are the FHIR R4 Procedure.status codes.
var ProcedureStatuses = []string{"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed", "entered-in-error", "unknown"}

// Deidentified returns what of p goes on chain under the rule above;
// recordHash commits to the full record kept off chain.
func (p Procedure) Deidentified(recordHash string) Procedure {
	status := p.Status
	if !validStatus(status) {
		status = "unknown"
	}
	return Procedure{ID: p.ID, Patient: p.Patient, Site: p.Site, Code: p.Code, Start: month(p.Start), End: month(p.End),
		TeamGroup: p.TeamGroup, RecordHash: recordHash, Status: status}
}

func month(t string) string {
	if len(t) < 7 {
		return t
	}
	return t[:7]
}

func validStatus(s string) bool {
	for _, x := range ProcedureStatuses {
		if s == x {
			return true
		}
	}
	return false
}

// ValidateOnChain checks a procedure as the chain may hold it (the rule
// above); blockMilli bounds its end month.
func (p *Procedure) ValidateOnChain(blockMilli int64) error {
	if err := ident("id", p.ID); err != nil {
		return err
	}
	if err := ident("patient", p.Patient); err != nil {
		return err
	}
	if err := text("site", p.Site, MaxName, true); err != nil {
		return err
	}
	if err := text("code.system", p.Code.System, MaxName, true); err != nil {
		return err
	}
	if err := text("code.code", p.Code.Code, MaxID, true); err != nil {
		return err
	}
	if err := text("code.display", p.Code.Display, MaxName, false); err != nil {
		return err
	}
	if p.Surgeon != "" || p.Device != "" || len(p.Complications) > 0 || p.Outcome != "" || p.Source != "" {
		return errf("phi", "surgeon, device, complications, outcome text and source stay in the encrypted off-chain record: send the de-identified procedure (only code, site, patient pseudonym, month, status, record hash)")
	}
	for _, f := range []struct{ name, v string }{{"start", p.Start}, {"end", p.End}} {
		if len(f.v) != 7 || f.v[4] != '-' {
			return errf("phi", "%s %q must be the month only, YYYY-MM: exact dates stay off chain", f.name, f.v)
		}
		if _, err := ParseDate(f.name, f.v+"-01"); err != nil {
			return err
		}
	}
	if p.End < p.Start {
		return errf("invalid", "end %s is before start %s", p.End, p.Start)
	}
	if now := FormatMilli(blockMilli); p.End > now[:7] {
		return errf("invalid", "end %s is in the future (block time %s)", p.End, now)
	}
	if !validStatus(p.Status) {
		return errf("invalid", "status %q is not a FHIR Procedure.status (%v)", p.Status, ProcedureStatuses)
	}
	if err := hashField("recordHash", p.RecordHash, true); err != nil {
		return err
	}
	return groupField("teamGroup", p.TeamGroup)
}

// Validate checks the procedure; blockMilli bounds its end.
func (p *Procedure) Validate(blockMilli int64) error {
	if err := ident("id", p.ID); err != nil {
		return err
	}
	if err := ident("patient", p.Patient); err != nil {
		return err
	}
	if err := text("site", p.Site, MaxName, true); err != nil {
		return err
	}
	if err := text("surgeon", p.Surgeon, MaxName, true); err != nil {
		return err
	}
	if err := text("code.system", p.Code.System, MaxName, true); err != nil {
		return err
	}
	if err := text("code.code", p.Code.Code, MaxID, true); err != nil {
		return err
	}
	if err := text("code.display", p.Code.Display, MaxName, false); err != nil {
		return err
	}
	if err := text("device", p.Device, MaxName, false); err != nil {
		return err
	}
	start, err := ParseUTC("start", p.Start)
	if err != nil {
		return err
	}
	end, err := ParseUTC("end", p.End)
	if err != nil {
		return err
	}
	if end < start {
		return errf("invalid", "end %s is before start %s", p.End, p.Start)
	}
	if end > blockMilli {
		return errf("invalid", "end %s is in the future (block time %s)", p.End, FormatMilli(blockMilli))
	}
	if len(p.Complications) > MaxList {
		return errf("invalid", "too many complications")
	}
	for _, c := range p.Complications {
		if err := text("complication", c, MaxText, true); err != nil {
			return err
		}
	}
	if err := text("outcome", p.Outcome, MaxText, true); err != nil {
		return err
	}
	if err := hashField("recordHash", p.RecordHash, false); err != nil {
		return err
	}
	return groupField("teamGroup", p.TeamGroup)
}

// Record kinds and statuses.
const (
	RecordOriginal   = "original"
	RecordAddendum   = "addendum"
	RecordCorrection = "correction"

	RecordPending = "pending" // awaiting the team's co-signature
	RecordFinal   = "final"
)

// RecordArgs records a procedure (role site).
type RecordArgs struct {
	Procedure Procedure `json:"procedure"`
	Signature Signature `json:"signature"`
}

// SurgeryAmendArgs adds an addendum (Text: the SHA-256 of the addendum's
// text, which stays off chain) or a correction (a whole corrected,
// de-identified Procedure) to a final record, with a reason (role site).
type SurgeryAmendArgs struct {
	Record    string     `json:"record"`
	Kind      string     `json:"kind"` // addendum | correction
	Reason    string     `json:"reason"`
	Text      string     `json:"text,omitempty"`
	Procedure *Procedure `json:"procedure,omitempty"`
	Signature Signature  `json:"signature"`
}

// CosignArgs co-signs a record with the team's consent over SignDigest.
type CosignArgs struct {
	Record  string `json:"record"`
	Consent []byte `json:"consent"`
}

// LinkArgs links a final record to a trial subject (role site).
type LinkArgs struct {
	Record    string    `json:"record"`
	Trial     string    `json:"trial"`
	Subject   string    `json:"subject"`
	Signature Signature `json:"signature"`
}

// RecordQuery names a record (show, final).
type RecordQuery struct {
	Record string `json:"record"`
}

// Link ties a record to a trial subject.
type Link struct {
	Trial         string        `json:"trial"`
	Subject       string        `json:"subject"`
	Manifestation Manifestation `json:"manifestation"`
	Height        uint64        `json:"height"`
}

// Cosign is a record's co-signature.
type Cosign struct {
	ConsentHash string `json:"consentHash"`
	Group       string `json:"group"`
	Time        string `json:"time"`
	Height      uint64 `json:"height"`
}

// SurgicalRecord is a stored record: an original procedure, or an
// addendum or correction of one (the original is never changed).
type SurgicalRecord struct {
	ID            string        `json:"id"`
	Kind          string        `json:"kind"`
	Amends        string        `json:"amends,omitempty"`
	Reason        string        `json:"reason,omitempty"`
	Text          string        `json:"text,omitempty"`
	Procedure     Procedure     `json:"procedure"`
	Digest        string        `json:"digest"` // hex SignDigest: what the team co-signs
	Status        string        `json:"status"`
	Manifestation Manifestation `json:"manifestation"`
	Cosign        *Cosign       `json:"cosign,omitempty"`
	Height        uint64        `json:"height"`
}

// SignDigest is what the surgical team's consent group signs to make a
// record final: its id, kind, what it amends, reason, text and procedure.
func SignDigest(r *SurgicalRecord) [32]byte {
	return Digest("trialchain/surgical-records/sign/v1", r.ID, r.Kind, r.Amends, r.Reason, r.Text, Hash(r.Procedure))
}

// RecordView is what show returns.
type RecordView struct {
	Record     SurgicalRecord `json:"record"`
	Amendments []string       `json:"amendments,omitempty"`
	Links      []Link         `json:"links,omitempty"`
}
