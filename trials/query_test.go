package trials_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
)

// TestQueryWorkflow runs the discrepancy workflow on the trial-protocol
// contract in the VM: the sponsor raises queries on an entry, the site
// answers one and corrects the entry for another (with a reason citing
// the query), open queries block the lock, the sponsor closes them (or
// overrides with a reason), and the lock records its checklist.
func TestQueryWorkflow(t *testing.T) {
	c := newChain(t)
	who := newCast()
	p := registerTrial(t, c, who)
	c.ok(who.sponsor, trials.ActivateCall(p.ID, sig("Dr. Ada Sponsor", "activation")), nil)
	subj := newSubject(t)
	call, _ := trials.EnrollCall(p.ID, subj, trials.HashBytes([]byte("consent")), 1, p.Arms[0].ID, sig("Dr. Site PI", "enrolment"))
	c.ok(who.siteA, call, nil)
	rec, err := trials.NewRecord(rand.Reader, p.ID, subj, "day1", "vitals", goodVitals())
	if err != nil {
		t.Fatal(err)
	}
	call, err = trials.SubmitCall(&p, rec, sig("Dr. Site PI", "author"))
	if err != nil {
		t.Fatal(err)
	}
	var e model.Entry
	c.ok(who.siteA, call, &e)

	raise := func(field, text string) model.Query {
		t.Helper()
		call, err := trials.QueryRaiseCall(p.ID, e.ID, field, text, sig("Mo Monitor", "query"))
		if err != nil {
			t.Fatal(err)
		}
		var q model.Query
		c.ok(who.sponsor, call, &q)
		if q.Status != model.QueryOpen || q.Site != who.siteA.org || q.Subject != subj {
			t.Fatalf("raised %+v", q)
		}
		return q
	}
	q1 := raise("HR", "HR 60 /min at dosing: please confirm against the source")
	q2 := raise("SYSBP", "SYSBP 120 differs from the source document (130)")
	q3 := raise("", "Visit date missing from the source")

	// Who may do what.
	qc := func(method string, a any) trials.Call {
		return trials.Call{Contract: trials.TrialProtocol, Method: method, Args: mustJSON(a)}
	}
	ans := func(q, text string) trials.Call {
		call, err := trials.QueryAnswerCall(p.ID, q, text, sig("Dr. Site PI", "query answer"))
		if err != nil {
			t.Fatal(err)
		}
		return call
	}
	closeq := func(q, why string) trials.Call {
		call, err := trials.QueryCloseCall(p.ID, q, why, sig("Mo Monitor", "query close"))
		if err != nil {
			t.Fatal(err)
		}
		return call
	}
	runRefusals(t, c, []refusal{
		{"a site raises a query", who.siteA, qc("query_raise", model.QueryArgs{Trial: p.ID, Entry: e.ID, Text: "x", Signature: sig("A", "q")}), []string{"forbidden"}},
		{"a query on no entry", who.sponsor, qc("query_raise", model.QueryArgs{Trial: p.ID, Entry: "crf-000000099", Text: "x", Signature: sig("A", "q")}), []string{"not-found"}},
		{"a query on no field", who.sponsor, qc("query_raise", model.QueryArgs{Trial: p.ID, Entry: e.ID, Field: "NOPE", Text: "x", Signature: sig("A", "q")}), []string{"unknown-field"}},
		{"a query without text", who.sponsor, qc("query_raise", model.QueryArgs{Trial: p.ID, Entry: e.ID, Signature: sig("A", "q")}), []string{"invalid", "query text"}},
		{"another site answers", who.siteB, ans(q1.ID, "fine"), []string{"forbidden"}},
		{"a correction cites another entry's query", who.siteA, mkCorrectQuery(p.ID, "crf-000000099", q2.ID, goodVitals(), "typo"), []string{"not-found"}},
	})
	c.t = t

	// q1: the site answers, the monitor closes.
	var q model.Query
	c.ok(who.siteA, ans(q1.ID, "Confirmed against the source: 60 /min"), &q)
	if q.Status != model.QueryAnswered || len(q.Steps) != 1 || q.Steps[0].Kind != "answer" {
		t.Fatalf("answered %+v", q)
	}
	c.ok(who.sponsor, closeq(q1.ID, "answer accepted"), &q)
	if q.Status != model.QueryClosed {
		t.Fatalf("closed %+v", q)
	}
	runRefusals(t, c, []refusal{
		{"answering a closed query", who.siteA, ans(q1.ID, "more"), []string{"wrong-state", "closed"}},
		{"closing a closed query", who.sponsor, closeq(q1.ID, "again"), []string{"wrong-state", "closed"}},
	})
	c.t = t

	// q2: the site corrects the entry with a reason citing the query.
	fixed := with(goodVitals(), "SYSBP", model.FieldValue{Value: "130", Unit: "mm[Hg]"})
	rec2, _ := trials.NewRecord(rand.Reader, p.ID, subj, "day1", "vitals", fixed)
	call, err = trials.CorrectQueryCall(&p, e.ID, q2.ID, rec2, "transcription error, see query "+q2.ID, sig("Dr. Site PI", "correction"))
	if err != nil {
		t.Fatal(err)
	}
	var corr model.Entry
	c.ok(who.siteA, call, &corr)
	if corr.Corrects != e.ID || corr.Public["SYSBP"].Value != "130" {
		t.Fatalf("correction %+v", corr)
	}
	var list model.List[model.Query]
	c.ok(who.regulator, trials.ListCall(p.ID, "queries"), &list)
	if len(list.Items) != 3 || list.Items[1].Status != model.QueryAnswered || list.Items[1].Steps[0].Correction != corr.ID {
		t.Fatalf("queries %+v", list.Items)
	}
	c.ok(who.sponsor, closeq(q2.ID, "corrected"), nil)

	// q3 is still open: the lock is refused, naming it.
	lock := trials.LockCall(p.ID, sig("Dr. Ada Sponsor", "lock"))
	msg := c.refused(who.sponsor, lock, "open-queries", q3.ID)
	t.Logf("lock refused: %s", msg)
	// Overridden with a reason, the lock goes ahead and records its checklist.
	var st model.TrialState
	c.ok(who.sponsor, trials.LockOverrideCall(p.ID, "source document unavailable; agreed with the sponsor's QA", sig("Dr. Ada Sponsor", "lock")), &st)
	cl := st.Lock.Checklist
	if cl == nil || cl.Entries != 2 || cl.Corrections != 1 || cl.QueriesRaised != 3 || cl.OpenQueries != 1 || !strings.Contains(cl.Override, "QA") {
		t.Fatalf("checklist %+v", cl)
	}
	// After lock, queries are sealed with the rest.
	runRefusals(t, c, []refusal{
		{"closing a query after lock", who.sponsor, closeq(q3.ID, "late"), []string{"wrong-state"}},
		{"raising a query after lock", who.sponsor, qc("query_raise", model.QueryArgs{Trial: p.ID, Entry: e.ID, Text: "x", Signature: sig("A", "q")}), []string{"wrong-state"}},
	})
}

// TestLockChecklistClean: with every query closed the lock needs no
// override, and a lock with no entries says so in its checklist.
func TestLockChecklistClean(t *testing.T) {
	c := newChain(t)
	who := newCast()
	p := registerTrial(t, c, who)
	c.ok(who.sponsor, trials.ActivateCall(p.ID, sig("Dr. Ada Sponsor", "activation")), nil)
	var st model.TrialState
	c.ok(who.sponsor, trials.LockCall(p.ID, sig("Dr. Ada Sponsor", "lock")), &st)
	if cl := st.Lock.Checklist; cl == nil || cl.Entries != 0 || cl.OpenQueries != 0 || cl.Override != "" {
		t.Fatalf("checklist %+v", st.Lock)
	}
}

func mkCorrectQuery(trial, entry, query string, f map[string]model.FieldValue, reason string) trials.Call {
	return trials.Call{Contract: trials.TrialProtocol, Method: "correct", Args: mustJSON(model.CorrectArgs{Trial: trial, Entry: entry, Fields: f,
		RecordHash: trials.HashBytes([]byte(entry)), Reason: reason, Query: query, Signature: sig("Dr. Site PI", "correction")})}
}
