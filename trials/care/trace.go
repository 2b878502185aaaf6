package care

import (
	"time"

	"github.com/trialchain/trialchain/trials/model"
)

// CheckGTIN checks a GS1 GTIN-14 (AI 01): 14 digits whose last is the
// GS1 mod-10 check digit. A GTIN-8/12/13 is written padded to 14 digits.
func CheckGTIN(g string) error {
	if len(g) != 14 {
		return errf("invalid", "GTIN %q must be 14 digits (pad a GTIN-13 with a leading 0)", g)
	}
	sum := 0
	for i := 0; i < 13; i++ {
		c := g[i]
		if c < '0' || c > '9' {
			return errf("invalid", "GTIN %q must be digits only", g)
		}
		d := int(c - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	if want := byte('0' + (10-sum%10)%10); g[13] != want {
		return errf("invalid", "GTIN %q: check digit %c, want %c", g, g[13], want)
	}
	return nil
}

// gs1Chars is GS1 AI encodable character set 82, less '/' (ids are parts of
// state keys) and the characters a URL would escape.
func gs1Field(field, s string, max int) error {
	if s == "" || len(s) > max {
		return errf("invalid", "%s %q must be 1..%d characters", field, s, max)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return errf("invalid", "%s %q may contain only letters, digits and - . _", field, s)
		}
	}
	return nil
}

// Pack is one serialised pack (GS1 SGTIN: GTIN + serial) with its lot and
// expiry, and its custody as the events made it.
type Pack struct {
	GTIN   string `json:"gtin"`   // AI 01
	Serial string `json:"serial"` // AI 21
	Lot    string `json:"lot"`    // AI 10
	Expiry string `json:"expiry"` // AI 17 as YYYY-MM-DD

	Manufacturer string `json:"manufacturer,omitempty"` // the commissioning organisation
	Owner        string `json:"owner,omitempty"`        // who holds it now
	InTransitTo  string `json:"inTransitTo,omitempty"`  // shipped, not yet received
	Status       string `json:"status,omitempty"`       // active | in-transit | dispensed
	Events       int    `json:"events"`
}

// Pack states.
const (
	PackActive    = "active"
	PackInTransit = "in-transit"
	PackDispensed = "dispensed"
)

// Key is the pack's state key: GTIN/serial.
func (p *Pack) Key() string { return p.GTIN + "/" + p.Serial }

// DigitalLink is the pack's GS1 Digital Link URI, its EPC in events.
func (p *Pack) DigitalLink() string { return DigitalLink(p.GTIN, p.Serial) }

// DigitalLink is the GS1 Digital Link URI of GTIN + serial.
func DigitalLink(gtin, serial string) string {
	return "https://id.gs1.org/01/" + gtin + "/21/" + serial
}

// ExpiryMilli is the end of the expiry day (UTC) in Unix ms.
func (p *Pack) ExpiryMilli() int64 {
	t, err := time.Parse("2006-01-02", p.Expiry)
	if err != nil {
		return 0
	}
	return t.AddDate(0, 0, 1).UnixMilli() - 1
}

// Validate checks a pack's identifiers before it is commissioned.
func (p *Pack) Validate() error {
	if err := CheckGTIN(p.GTIN); err != nil {
		return err
	}
	if err := gs1Field("serial", p.Serial, 20); err != nil {
		return err
	}
	if err := gs1Field("lot", p.Lot, 20); err != nil {
		return err
	}
	if _, err := model.ParseDate("expiry", p.Expiry); err != nil {
		return err
	}
	return nil
}

// EPCIS 2.0 business steps of the events kept here.
const (
	StepCommissioning = "commissioning"
	StepShipping      = "shipping"
	StepReceiving     = "receiving"
	StepDispensing    = "dispensing"
	StepRecalling     = "recalling"
)

// Event is an EPCIS 2.0-style ObjectEvent: what happened (bizStep,
// action) to which EPCs (Digital Link URIs), when, where (the
// organisation) and between whom.
type Event struct {
	Type        string   `json:"type"` // ObjectEvent
	EventTime   string   `json:"eventTime"`
	Action      string   `json:"action"` // ADD | OBSERVE | DELETE
	BizStep     string   `json:"bizStep"`
	Disposition string   `json:"disposition"` // active | in_transit | dispensed | recalled
	EPCList     []string `json:"epcList"`
	BizLocation string   `json:"bizLocation"` // the acting organisation
	Source      string   `json:"source,omitempty"`
	Destination string   `json:"destination,omitempty"`
	Lot         string   `json:"lot,omitempty"`
	Height      uint64   `json:"height"`
}

// Verification answers of Verify.
const (
	Genuine          = "genuine"
	AlreadyDispensed = "already-dispensed"
	Unknown          = "unknown"
	Recalled         = "recalled"
	Expired          = "expired"
)

// Verify answers a pharmacy's question about a pack: unknown if never
// commissioned, recalled if its lot is recalled, already-dispensed,
// expired past its expiry day, else genuine. recalled is whether the
// pack's lot is recalled; nowMs the block time.
func Verify(p *Pack, found, recalled bool, nowMs int64) string {
	switch {
	case !found:
		return Unknown
	case recalled:
		return Recalled
	case p.Status == PackDispensed:
		return AlreadyDispensed
	case nowMs > p.ExpiryMilli():
		return Expired
	}
	return Genuine
}

// Recall is a lot recall.
type Recall struct {
	GTIN   string `json:"gtin"`
	Lot    string `json:"lot"`
	Reason string `json:"reason"`
	By     string `json:"by,omitempty"`
	Time   string `json:"time,omitempty"`
}

// Arguments of the drug-trace methods.
type (
	CommissionArgs struct {
		Packs []Pack `json:"packs"`
	}
	ShipArgs struct {
		Packs []string `json:"packs"` // GTIN/serial keys
		To    string   `json:"to"`    // the receiving organisation
	}
	PacksArgs struct {
		Packs []string `json:"packs"`
	}
	RecallArgs struct {
		Recall Recall `json:"recall"`
	}
	PackQuery struct {
		GTIN   string `json:"gtin"`
		Serial string `json:"serial"`
	}
	VerifyResult struct {
		Pack   string `json:"pack"`
		Answer string `json:"answer"`
		Owner  string `json:"owner,omitempty"`
		Lot    string `json:"lot,omitempty"`
		Expiry string `json:"expiry,omitempty"`
	}
)

// MaxPacks bounds the packs of one commissioning or shipping event.
const MaxPacks = 100

// LotScope is the record set of a lot: its commissioning, every movement
// of its packs, refused ones included, and its recall.
func LotScope(gtin, lot string) string { return "lot:" + gtin + "/" + lot }

// PackKeyScope is the record set of one pack (GTIN/serial).
func PackKeyScope(key string) string { return "pack:" + key }
