package audit

import (
	"github.com/trialchain/trialchain/chain/proof/bundle"
	"regexp"
	"strings"

	"github.com/trialchain/trialchain/chain/block"
)

// Describe names a trial transaction for people, with an article ("an
// adverse event report", "a case-report form"), or "" for one it does not
// know. It is the bundle.Namer of trial bundles: verify and the audit
// report name failing records with it.
func Describe(tx *block.Tx) string {
	switch tx.Kind {
	case block.KindCall:
		c, err := block.DecodeCall(tx.Payload)
		if err != nil {
			return ""
		}
		return methodNames[c.Method]
	case block.KindAnchor:
		if a, err := block.DecodeAnchor(tx.Payload); err == nil && a.Label != "" {
			return "the document anchor " + quote(a.Label)
		}
	}
	return ""
}

var methodNames = map[string]string{
	"register": "a protocol registration",
	"activate": "the opening of enrolment",
	"amend":    "a protocol amendment",
	"enroll":   "a subject enrolment",
	"submit":   "a case-report form",
	"correct":  "a correction",
	"ae":       "an adverse event report",
	"lock":     "the database lock",
	"results":  "the trial results",
}

func quote(s string) string { return "“" + s + "”" }

// The verifier names a record set's missing entries by their kind
// ("call:ae"); the trial's words are clearer ("an adverse event report").
func init() {
	plain := bundle.DescribeKind
	bundle.DescribeKind = func(kind string) string {
		if m, ok := strings.CutPrefix(kind, "call:"); ok {
			if n := methodNames[m]; n != "" {
				return n
			}
		}
		if kind == "anchor" {
			return "a document anchor"
		}
		if kind == "redact" {
			return "a redaction"
		}
		return plain(kind)
	}
}

// refusalCodes turn the trial contract's error codes (trials/model
// errors: "CODE: detail") into the reason in plain words.
var refusalCodes = map[string]string{
	"invalid":          "the request was not valid",
	"forbidden":        "the signer's role does not permit this",
	"not-found":        "something it refers to does not exist",
	"exists":           "it already exists",
	"wrong-state":      "it is not allowed at this stage of the trial",
	"consent-required": "the required multi-party consent was missing or not valid",
	"missing-required": "a required field is missing",
	"out-of-range":     "a value is outside its allowed range",
	"wrong-type":       "a value is of the wrong type",
	"wrong-unit":       "a value is in the wrong unit",
	"unknown-field":    "the form has no such field",
	"expired":          "the permission has expired",
	"revoked":          "the permission was revoked",
	"site-not-allowed": "this site is not part of the trial protocol",
}

// vmCodes are the execution failures (vm.Code names) in plain words.
var vmCodes = map[string]string{
	"out of gas":          "it ran out of its computation allowance",
	"call depth exceeded": "the program called itself too deeply",
	"trap":                "the program stopped with an internal error",
	"bad pointer":         "the program made an invalid memory access",
	"limit exceeded":      "it exceeded a size limit",
	"bad input":           "its input was not acceptable to the program",
	"no such method":      "the program has no such operation",
	"unsupported":         "it used a function this network does not offer",
}

var longHex = regexp.MustCompile(`[0-9a-f]{24,}`)

// shortenHex shortens long hex strings (keys, hashes) in a message.
func shortenHex(s string) string {
	return longHex.ReplaceAllStringFunc(s, func(h string) string { return h[:12] + "…" })
}

// Refusal says in plain words why a transaction was refused, from the
// receipt's error text ("vm: abort: out-of-range: field …" becomes "A
// value is outside its allowed range: field …"). The raw text stays in
// the report beside it.
func Refusal(raw string) string {
	s := strings.TrimSpace(raw)
	if s == "" {
		return ""
	}
	reason := ""
	if rest, ok := strings.CutPrefix(s, "vm: abort: "); ok {
		s = rest
		if code, detail, ok := strings.Cut(s, ": "); ok {
			if w, known := refusalCodes[code]; known {
				reason, s = w, detail
			}
		}
		if reason == "" {
			reason = "the program refused it"
		}
	} else if rest, ok := strings.CutPrefix(s, "vm: "); ok {
		for code, w := range vmCodes {
			if rest == code || strings.HasPrefix(rest, code+":") || strings.HasPrefix(rest, code+" ") {
				reason, s = w, strings.TrimLeft(strings.TrimPrefix(rest, code), ": ")
				break
			}
		}
		if reason == "" {
			reason, s = "the program failed", rest
		}
	} else if strings.HasPrefix(s, "out of gas") {
		reason, s = vmCodes["out of gas"], strings.TrimLeft(strings.TrimPrefix(s, "out of gas"), ": ")
	} else {
		for _, p := range []string{"state: ", "consent: ", "contract: "} {
			s = strings.TrimPrefix(s, p)
		}
		if code, detail, ok := strings.Cut(s, ": "); ok {
			if w, known := refusalCodes[code]; known {
				reason, s = w, detail
			}
		}
	}
	// A consent whose signers meant something else (e.g. "REJECT"): say
	// who meant what, without the layers of the error's origin.
	if _, rest, ok := strings.Cut(s, "the consent means something else: "); ok {
		reason, s = "the multi-party consent does not approve it (its signers meant something else)", strings.TrimSuffix(rest, ")")
	}
	s = shortenHex(s)
	if reason == "" {
		return upper(s)
	}
	if s == "" {
		return upper(reason) + "."
	}
	return upper(reason) + ": " + s
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
