package model

import (
	"sort"
	"strings"
)

// Method arguments, records and the access rule of the genome-access
// contract.

// Dataset is a genome dataset registered by its custodian.
type Dataset struct {
	ID   string `json:"id"`
	Hash string `json:"hash"` // SHA-256 of the (encrypted) dataset
	// Location is never sent or stored: the chain holds only
	// LocationCommitment, and the custodian releases the location sealed
	// to a grant's researcher (see trials.LocationCommitment). A dataset
	// with a Location is refused.
	Location           string   `json:"location,omitempty"`
	LocationCommitment string   `json:"locationCommitment"`  // SHA-256 commitment (64 hex) to the salted location
	Codes              []string `json:"codes"`               // DUO ids: exactly one permission, any modifiers
	Diseases           []string `json:"diseases,omitempty"`  // disease ontology ids for DS, e.g. MONDO:0005148
	MaxDays            int      `json:"maxDays,omitempty"`   // longest grant; required with TS
	Delegates          []string `json:"delegates"`           // hex ed25519 keys of the subjects' delegates (may revoke)
	CommitteeGroup     string   `json:"committeeGroup"`      // consent group id of the data-access committee
	Custodian          string   `json:"custodian,omitempty"` // set by the contract: the registering organisation
}

// Permission returns the dataset's permission term.
func (d *Dataset) Permission() string {
	for _, c := range d.Codes {
		if t, ok := LookupDUO(c); ok && t.Kind == "permission" {
			return t.ID
		}
	}
	return ""
}

// Validate checks the dataset.
func (d *Dataset) Validate() error {
	if err := ident("dataset id", d.ID); err != nil {
		return err
	}
	if err := hashField("hash", d.Hash, true); err != nil {
		return err
	}
	if d.Location != "" {
		return errf("invalid", "a dataset's location never goes on chain in the clear: register only its commitment (locationCommitment), and release the location sealed to each granted researcher")
	}
	if err := hashField("locationCommitment", d.LocationCommitment, true); err != nil {
		return err
	}
	perms, seen := 0, map[string]bool{}
	for _, c := range d.Codes {
		t, ok := LookupDUO(c)
		if !ok || t.ID != c {
			return errf("invalid", "code %q is not a GA4GH DUO term id (e.g. DUO:0000006 for HMB)", c)
		}
		if t.Kind == "root" {
			return errf("invalid", "code %s is an abstract DUO class; use a permission or modifier term", c)
		}
		if seen[c] {
			return errf("invalid", "code %s is listed twice", c)
		}
		seen[c] = true
		if t.Kind == "permission" {
			perms++
		}
	}
	if perms != 1 {
		return errf("invalid", "a dataset needs exactly one DUO permission (NRES, GRU, HMB, DS or POA), has %d", perms)
	}
	if d.Permission() == DUODiseaseSpecific && len(d.Diseases) == 0 {
		return errf("invalid", "DS (DUO:0000007) needs the diseases the use is limited to")
	}
	for _, x := range d.Diseases {
		if err := ident("disease", x); err != nil {
			return err
		}
	}
	if seen[DUOTimeLimit] && d.MaxDays <= 0 {
		return errf("invalid", "TS (DUO:0000025) time limit on use needs maxDays")
	}
	if d.MaxDays < 0 || d.MaxDays > MaxGrantDays {
		return errf("invalid", "maxDays must be 0..%d", MaxGrantDays)
	}
	if len(d.Delegates) == 0 {
		return errf("invalid", "a dataset needs at least one subject delegate key (who may revoke)")
	}
	for _, k := range d.Delegates {
		if !IsHash(k) {
			return errf("invalid", "delegate %q must be an ed25519 public key as 64 lowercase hex digits", clip(k))
		}
	}
	return groupField("committeeGroup", d.CommitteeGroup)
}

// MaxGrantDays bounds any grant (ten years).
const MaxGrantDays = 3650

// DefaultGrantDays is a grant's length when neither request nor dataset says.
const DefaultGrantDays = 365

// AccessRequest asks for access (role researcher).
type AccessRequest struct {
	Dataset        string   `json:"dataset"`
	Project        string   `json:"project"`
	Purpose        string   `json:"purpose"`                  // DUO permission term of the research: GRU, HMB, DS or POA (id)
	Diseases       []string `json:"diseases,omitempty"`       // with DS: the diseases studied
	Methods        bool     `json:"methods,omitempty"`        // the work includes general methods development
	Genetic        bool     `json:"genetic,omitempty"`        // the work is a genetic study
	Commercial     bool     `json:"commercial"`               // commercial use
	ForProfit      bool     `json:"forProfit"`                // organisation type: for-profit
	EthicsApproval string   `json:"ethicsApproval,omitempty"` // SHA-256 of the IRB/ERB approval
	Days           int      `json:"days,omitempty"`           // requested length of access
}

// Validate checks the request's form (not whether it is allowed).
func (r *AccessRequest) Validate() error {
	if err := ident("dataset", r.Dataset); err != nil {
		return err
	}
	if err := text("project", r.Project, MaxName, true); err != nil {
		return err
	}
	t, ok := LookupDUO(r.Purpose)
	if !ok || t.ID != r.Purpose || t.Kind != "permission" || t.ID == DUONoRestriction {
		return errf("invalid", "purpose %q must be the DUO id of GRU (DUO:0000042), HMB (DUO:0000006), DS (DUO:0000007) or POA (DUO:0000011)", r.Purpose)
	}
	if r.Purpose == DUODiseaseSpecific && len(r.Diseases) == 0 {
		return errf("invalid", "a disease-specific purpose (DS) needs the diseases studied")
	}
	for _, x := range r.Diseases {
		if err := ident("disease", x); err != nil {
			return err
		}
	}
	if err := hashField("ethicsApproval", r.EthicsApproval, false); err != nil {
		return err
	}
	if r.Days < 0 || r.Days > MaxGrantDays {
		return errf("invalid", "days must be 0..%d", MaxGrantDays)
	}
	return nil
}

// Decision outcomes.
const (
	Granted = "granted"
	Denied  = "denied"
	Held    = "held" // for the data-access committee's consent
)

// Decision is the contract's decision on a request.
type Decision struct {
	Outcome    string   `json:"outcome"`
	Rule       string   `json:"rule,omitempty"` // the DUO rule that denied or held, e.g. "NCU (DUO:0000046)"
	Reason     string   `json:"reason"`
	Conditions []string `json:"conditions,omitempty"` // obligations of a grant (PUB, MOR, RTN)
	Days       int      `json:"days,omitempty"`       // length of a grant
}

// Decide applies the dataset's DUO codes to a request, deterministically:
// first the permission, then every restricting modifier in DUO id order
// (the first failing rule denies), then the modifiers that need a
// committee (the request is held), else the request is granted with the
// dataset's obligations.
func Decide(d *Dataset, r *AccessRequest) Decision {
	deny := func(rule, reason string) Decision {
		return Decision{Outcome: Denied, Rule: DUOName(rule), Reason: reason}
	}
	switch perm := d.Permission(); perm {
	case DUONoRestriction, DUOGRU:
	case DUOHMB:
		if r.Purpose != DUOHMB && r.Purpose != DUODiseaseSpecific {
			return deny(perm, "the dataset allows only health, medical or biomedical research; the request's purpose is "+DUOName(r.Purpose))
		}
	case DUODiseaseSpecific:
		if r.Purpose != DUODiseaseSpecific {
			return deny(perm, "the dataset allows only research on "+strings.Join(d.Diseases, ", ")+"; the request's purpose is "+DUOName(r.Purpose))
		}
		for _, x := range r.Diseases {
			if !contains(d.Diseases, x) {
				return deny(perm, "the dataset allows only research on "+strings.Join(d.Diseases, ", ")+"; the request studies "+x)
			}
		}
	case DUOPOA:
		if r.Purpose != DUOPOA {
			return deny(perm, "the dataset allows only population origins or ancestry research; the request's purpose is "+DUOName(r.Purpose))
		}
	}
	mods := append([]string(nil), d.Codes...)
	sort.Strings(mods)
	var hold []string
	var cond []string
	for _, m := range mods {
		switch m {
		case DUONoMethods:
			if r.Methods {
				return deny(m, "general methods research is not allowed; the request includes methods development")
			}
		case DUOGeneticOnly:
			if !r.Genetic {
				return deny(m, "the dataset may be used for genetic studies only; the request is not a genetic study")
			}
		case DUONPUNCU:
			if r.Commercial || r.ForProfit {
				return deny(m, "use is limited to not-for-profit organisations and non-commercial use; the request is "+orgKind(r))
			}
		case DUOEthics:
			if r.EthicsApproval == "" {
				return deny(m, "ethics (IRB/ERB) approval is required; the request carries none")
			}
		case DUONPOA:
			if r.Purpose == DUOPOA {
				return deny(m, "population origins or ancestry research is prohibited")
			}
		case DUONPU:
			if r.ForProfit {
				return deny(m, "use is limited to not-for-profit organisations; the requester is a for-profit organisation")
			}
		case DUONCU:
			if r.Commercial {
				return deny(m, "use is limited to non-commercial use; the request is for commercial use")
			}
		case DUOCollaboration, DUOUserSpecific, DUOInstitution, DUOProjectSpecific, DUOResearchSpecif, DUOGeographic:
			hold = append(hold, DUOName(m))
		case DUOPublication, DUOMoratorium, DUOReturn:
			t, _ := LookupDUO(m)
			cond = append(cond, DUOName(m)+": "+t.Label)
		}
	}
	days := r.Days
	if days == 0 {
		days = DefaultGrantDays
	}
	if d.MaxDays > 0 && days > d.MaxDays {
		days = d.MaxDays
	}
	if len(hold) > 0 {
		return Decision{Outcome: Held, Rule: strings.Join(hold, ", "), Conditions: cond, Days: days,
			Reason: "the dataset's conditions " + strings.Join(hold, ", ") + " need the data-access committee's decision"}
	}
	return Decision{Outcome: Granted, Conditions: cond, Days: days,
		Reason: "the purpose " + DUOName(r.Purpose) + " is allowed by " + strings.Join(names(d.Codes), ", ")}
}

func orgKind(r *AccessRequest) string {
	switch {
	case r.Commercial && r.ForProfit:
		return "commercial use by a for-profit organisation"
	case r.Commercial:
		return "commercial use"
	default:
		return "by a for-profit organisation"
	}
}

func names(codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = DUOName(c)
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// RegisterDatasetArgs registers a dataset (custodian: role site or sponsor).
type RegisterDatasetArgs struct {
	Dataset Dataset `json:"dataset"`
}

// DecideArgs is the data-access committee's decision on a held request,
// with the committee's consent over DecisionDigest.
type DecideArgs struct {
	Request string `json:"request"`
	Approve bool   `json:"approve"`
	Days    int    `json:"days,omitempty"`
	Reason  string `json:"reason"`
	Consent []byte `json:"consent"`
}

// DecisionDigest is what the data-access committee signs for a decision.
func DecisionDigest(request, dataset string, approve bool, days int, reason string) [32]byte {
	v := "refuse"
	if approve {
		v = "grant"
	}
	return Digest("trialchain/genome-access/decide/v1", request, dataset, v, itoa(int64(days)), reason)
}

// GrantArgs names a grant (access, revoke).
type GrantArgs struct {
	Grant  string `json:"grant"`
	Reason string `json:"reason,omitempty"`
}

// DatasetArgs names a dataset (log, show).
type DatasetArgs struct {
	Dataset string `json:"dataset"`
}

// Request is a stored access request.
type Request struct {
	ID         string        `json:"id"`
	Request    AccessRequest `json:"request"`
	Researcher string        `json:"researcher"` // hex key
	Org        string        `json:"org"`
	Decision   Decision      `json:"decision"`
	Status     string        `json:"status"` // granted | denied | held | approved | refused
	Grant      string        `json:"grant,omitempty"`
	Time       string        `json:"time"`
	Height     uint64        `json:"height"`
}

// Grant is a time-limited access grant.
type Grant struct {
	ID          string   `json:"id"`
	Request     string   `json:"request"`
	Dataset     string   `json:"dataset"`
	Researcher  string   `json:"researcher"`
	Org         string   `json:"org"`
	Project     string   `json:"project"`
	Conditions  []string `json:"conditions,omitempty"`
	IssuedAt    string   `json:"issuedAt"`
	ExpiresAt   string   `json:"expiresAt"`
	ExpiresMs   int64    `json:"expiresMs"`
	ByCommittee bool     `json:"byCommittee"`
	ConsentHash string   `json:"consentHash,omitempty"`
	Revoked     bool     `json:"revoked"`
	RevokedBy   string   `json:"revokedBy,omitempty"`
	RevokedAt   string   `json:"revokedAt,omitempty"`
	RevokeWhy   string   `json:"revokeReason,omitempty"`
	Accesses    int64    `json:"accesses"`
	Released    bool     `json:"released,omitempty"` // the custodian released the location to the researcher
	ReleasedAt  string   `json:"releasedAt,omitempty"`
}

// AccessResult is what access returns: the location sealed to the grant's
// researcher (hex; only their member key opens it), the commitment it must
// match, and until when. Location is never set by the contract: the
// researcher's client fills it in after opening Sealed locally.
type AccessResult struct {
	Grant              string `json:"grant"`
	Dataset            string `json:"dataset"`
	Location           string `json:"location,omitempty"`
	LocationCommitment string `json:"locationCommitment"`
	Sealed             string `json:"sealed"`
	Hash               string `json:"hash"`
	ExpiresAt          string `json:"expiresAt"`
	Access             int64  `json:"access"` // the sequence number of this access under the grant
}

// MaxSealedLocation bounds a released location's sealed bytes, in hex.
const MaxSealedLocation = 2 * 1024

// ReleaseArgs releases a dataset's location to a grant's researcher:
// Sealed is salt ‖ location sealed with HPKE to the researcher's member
// key (hex).
type ReleaseArgs struct {
	Grant  string `json:"grant"`
	Sealed string `json:"sealed"`
}

// Validate checks the arguments' shape.
func (a *ReleaseArgs) Validate() error {
	if err := ident("grant", a.Grant); err != nil {
		return err
	}
	if len(a.Sealed) == 0 || len(a.Sealed) > MaxSealedLocation || len(a.Sealed)%2 != 0 || !isLowerHex(a.Sealed) {
		return errf("invalid", "sealed must be the sealed location in lowercase hex (at most %d characters)", MaxSealedLocation)
	}
	return nil
}

// Release is a dataset location released to one grant: write-once, sealed.
type Release struct {
	Grant      string `json:"grant"`
	Dataset    string `json:"dataset"`
	Researcher string `json:"researcher"` // hex member key it is sealed to
	Sealed     string `json:"sealed"`
	Releaser   string `json:"releaser"` // hex member key of the custodian who released it
	Org        string `json:"org"`
	Time       string `json:"time"`
	Height     uint64 `json:"height"`
}

// LogEntry is one line of a dataset's access log.
type LogEntry struct {
	Seq     int64  `json:"seq"`
	Kind    string `json:"kind"` // register | request | decision | committee | release | access | revoke
	Ref     string `json:"ref"`  // request or grant id
	Actor   string `json:"actor"`
	Org     string `json:"org"`
	Role    string `json:"role"`
	Outcome string `json:"outcome,omitempty"`
	Detail  string `json:"detail,omitempty"`
	Time    string `json:"time"`
	Height  uint64 `json:"height"`
}

// DatasetView is what show returns.
type DatasetView struct {
	Dataset    Dataset       `json:"dataset"`
	Registered Manifestation `json:"registered"`
	Requests   int64         `json:"requests"`
}
