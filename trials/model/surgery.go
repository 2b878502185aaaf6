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

// SurgeryAmendArgs adds an addendum (Text) or a correction (a whole
// corrected Procedure) to a final record, with a reason (role site).
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
