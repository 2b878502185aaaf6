package model

// Queries: the discrepancy workflow of the trial-protocol contract. The
// sponsor (a monitor or data manager) raises a query on an entry; the site
// that entered it answers, or corrects the entry with a reason citing the
// query; the sponsor closes it. Open queries (open or answered, not
// closed) block the database lock unless the lock gives an override
// reason.

// Query statuses.
const (
	QueryOpen     = "open"
	QueryAnswered = "answered"
	QueryClosed   = "closed"
)

// QueryArgs raises a query on an entry (role sponsor).
type QueryArgs struct {
	Trial     string    `json:"trial"`
	Entry     string    `json:"entry"`
	Field     string    `json:"field,omitempty"` // the field queried, if one
	Text      string    `json:"text"`
	Signature Signature `json:"signature"`
}

// Validate checks the arguments' shape.
func (a *QueryArgs) Validate() error {
	if err := text("entry", a.Entry, MaxID, true); err != nil {
		return err
	}
	if err := text("field", a.Field, MaxID, false); err != nil {
		return err
	}
	return text("query text", a.Text, MaxText, true)
}

// AnswerArgs answers a query (the entry's site) or closes it (sponsor).
type AnswerArgs struct {
	Trial     string    `json:"trial"`
	Query     string    `json:"query"`
	Text      string    `json:"text"` // the answer, or why the query is closed
	Signature Signature `json:"signature"`
}

// Validate checks the arguments' shape.
func (a *AnswerArgs) Validate() error {
	if err := text("query", a.Query, MaxID, true); err != nil {
		return err
	}
	return text("text", a.Text, MaxText, true)
}

// QueryStep is one step of a query's life after it was raised.
type QueryStep struct {
	Kind          string        `json:"kind"` // answer | correction | close
	Text          string        `json:"text"`
	Correction    string        `json:"correction,omitempty"` // the correction entry, for kind correction
	Manifestation Manifestation `json:"manifestation"`
	Height        uint64        `json:"height"`
}

// Query is a stored query. It is sealed when closed (and at lock).
type Query struct {
	ID            string        `json:"id"`
	Trial         string        `json:"trial"`
	Entry         string        `json:"entry"`
	Subject       string        `json:"subject"`
	Site          string        `json:"site"`
	Field         string        `json:"field,omitempty"`
	Text          string        `json:"text"`
	Status        string        `json:"status"`
	Manifestation Manifestation `json:"manifestation"` // who raised it, when
	Height        uint64        `json:"height"`
	Steps         []QueryStep   `json:"steps,omitempty"`
}

// LockArgs locks a trial's database (role sponsor). Override, if open
// queries remain, says why the lock goes ahead anyway; it is kept in the
// lock's checklist.
type LockArgs struct {
	Trial     string    `json:"trial"`
	Override  string    `json:"override,omitempty"`
	Signature Signature `json:"signature"`
}

// LockChecklist is what a lock found and recorded: the data a database
// lock is decided on.
type LockChecklist struct {
	Entries        int64  `json:"entries"`
	Corrections    int64  `json:"corrections"`
	Subjects       int64  `json:"subjects"`
	QueriesRaised  int64  `json:"queriesRaised"`
	OpenQueries    int64  `json:"openQueries"`
	SeriousAEs     int64  `json:"seriousAdverseEvents"`
	LateSeriousAEs int64  `json:"lateSeriousAdverseEvents"`
	Override       string `json:"override,omitempty"`
}
