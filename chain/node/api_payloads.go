package node

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
	"github.com/trialchain/trialchain/chain/view"
)

// Off-chain payloads (see chain/store/payloads.go for how a node keeps
// them and how redaction shreds them).
//
//	PUT /v1/payloads/{sha256}   body = the payload, from a member who signs the upload (view.PayloadAuthHeader)
//	                            and may read it; the signature, the anchor and the size are checked
//	                            from the headers before one byte of the body is read
//	GET /v1/payloads/{sha256}   the payload, to a member who signs the read (view.PayloadAuthHeader)
//	GET /v1/redactions/{sha256} the redaction record, 404 if not redacted

// MaxPayloadBytes bounds one off-chain payload.
const MaxPayloadBytes = 8 << 20

func (n *Node) payloadHash(w http.ResponseWriter, r *http.Request) (block.Hash, bool) {
	h, err := block.ParseHash(r.PathValue("hash"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_hash", fmt.Errorf("want the payload's SHA-256 as 64 hex characters: %w", err))
		return h, false
	}
	return h, true
}

func (n *Node) handlePutPayload(w http.ResponseWriter, r *http.Request) {
	h, ok := n.payloadHash(w, r)
	if !ok {
		return
	}
	if r.ContentLength > MaxPayloadBytes {
		writeErr(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Errorf("payload over %d bytes", MaxPayloadBytes))
		return
	}
	// Everything that can be checked from the headers is checked before
	// the body is read: an anchored hash, not redacted, a signed request
	// from a member who may hold this payload.
	anchors, err := state.Anchors(n.store, h)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	if len(anchors) == 0 {
		writeErr(w, http.StatusNotFound, "not_anchored", fmt.Errorf("payload %s is not anchored on chain: anchor its hash first (trialchain anchor)", h))
		return
	}
	if x, redacted, err := state.LookupRedaction(n.store, h); err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	} else if redacted {
		writeErr(w, http.StatusGone, "redacted", fmt.Errorf("payload %s was redacted at block %d: it may not be stored again", h, x.Height))
		return
	}
	if err := n.authorisePayload(r, h, time.Now()); err != nil {
		writeErr(w, http.StatusForbidden, "forbidden", err)
		return
	}
	data, err := readBody(r, MaxPayloadBytes)
	if isTooLarge(err) {
		writeErr(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Errorf("payload over %d bytes", MaxPayloadBytes))
		return
	}
	if err != nil {
		readErr(w, "the payload", err)
		return
	}
	switch err := n.store.PutPayload(h, data); {
	case errors.Is(err, store.ErrHashMismatch):
		writeErr(w, http.StatusBadRequest, "hash_mismatch", err)
	case errors.Is(err, store.ErrRedacted):
		writeErr(w, http.StatusGone, "redacted", err)
	case err != nil:
		writeErr(w, http.StatusInternalServerError, "store", err)
	default:
		writeJSON(w, http.StatusCreated, view.PayloadStored{Payload: h, Bytes: len(data)})
	}
}

func (n *Node) handleGetPayload(w http.ResponseWriter, r *http.Request) {
	h, ok := n.payloadHash(w, r)
	if !ok {
		return
	}
	if x, redacted, err := state.LookupRedaction(n.store, h); err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	} else if redacted {
		writeErr(w, http.StatusGone, "redacted", fmt.Errorf("payload %s was redacted at block %d (%s): %s", h, x.Height, x.Basis, x.Reason))
		return
	}
	if err := n.authorisePayload(r, h, time.Now()); err != nil {
		writeErr(w, http.StatusForbidden, "forbidden", err)
		return
	}
	if n.guard != nil {
		done, ok := n.guard.heavyAnswer(w, r)
		if !ok {
			return
		}
		defer done()
	}
	data, err := n.store.Payload(h)
	switch {
	case errors.Is(err, store.ErrRedacted):
		writeErr(w, http.StatusGone, "redacted", err)
	case errors.Is(err, store.ErrPayloadMissing):
		writeErr(w, http.StatusNotFound, "not_found", err)
	case err != nil:
		writeErr(w, http.StatusInternalServerError, "store", err)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(data)
	}
}

// authorisePayload checks a signed payload request: bound to this node's
// key, the request's method and path, within view.RequestAuthWindow of
// now, with a nonce never seen before, from an active member who is a
// regulator or an admin or belongs to the organisation of a member who
// anchored the payload.
func (n *Node) authorisePayload(r *http.Request, h block.Hash, now time.Time) error {
	key, ms, nonce, sig, err := parsePayloadAuth(r.Header.Get(view.PayloadAuthHeader))
	if err != nil {
		return err
	}
	if d := now.Sub(time.UnixMilli(ms)); d > view.RequestAuthWindow || d < -view.RequestAuthWindow {
		return fmt.Errorf("signed request is %s away from this node's clock (limit %s)", d.Round(time.Second), view.RequestAuthWindow)
	}
	self := n.key.Public().(ed25519.PublicKey)
	if !ed25519.Verify(key, view.RequestMessage(n.gen.ChainID, self, r.Method, r.URL.Path, ms, nonce), sig) {
		return errors.New("bad signature on the request (it must name this node's key, the method and the path)")
	}
	m, ok, err := state.LookupMember(n.store, key)
	switch {
	case err != nil:
		return fmt.Errorf("read member: %w", err)
	case !ok:
		return errors.New("the signer is not a member")
	case m.Revoked:
		return fmt.Errorf("%s's membership is revoked", m.Name)
	}
	if err := n.nonces.use(key, nonce, now); err != nil {
		return err
	}
	if m.Role == block.RoleRegulator || m.Role == block.RoleAdmin {
		return nil
	}
	anchors, err := state.Anchors(n.store, h)
	if err != nil {
		return fmt.Errorf("read anchors: %w", err)
	}
	for _, a := range anchors {
		if bytes.Equal(a.Sender, key) {
			return nil
		}
		if am, ok, err := state.LookupMember(n.store, a.Sender); err == nil && ok && am.Org == m.Org {
			return nil
		}
	}
	return fmt.Errorf("%s (%s, %s) may not hold payload %s: it was anchored by another organisation", m.Name, m.Org, m.Role, h)
}

// parsePayloadAuth parses a view.PayloadAuthHeader value:
// KEYHEX.UNIXMILLI.NONCEHEX.SIGHEX.
func parsePayloadAuth(v string) (ed25519.PublicKey, int64, []byte, []byte, error) {
	if v == "" {
		return nil, 0, nil, nil, fmt.Errorf("a payload request needs a member's signature in the %s header (trialchain payload get/put signs it)", view.PayloadAuthHeader)
	}
	parts := strings.Split(v, ".")
	if len(parts) != 4 {
		return nil, 0, nil, nil, fmt.Errorf("malformed %s header: want KEY.UNIXMILLI.NONCE.SIGNATURE", view.PayloadAuthHeader)
	}
	key, err1 := hex.DecodeString(parts[0])
	ms, err2 := strconv.ParseInt(parts[1], 10, 64)
	nonce, err3 := hex.DecodeString(parts[2])
	sig, err4 := hex.DecodeString(parts[3])
	if err := errors.Join(err1, err2, err3, err4); err != nil || len(key) != ed25519.PublicKeySize ||
		len(nonce) != view.RequestNonceBytes || len(sig) != ed25519.SignatureSize {
		return nil, 0, nil, nil, fmt.Errorf("malformed %s header: want KEY.UNIXMILLI.NONCE.SIGNATURE in hex and decimal", view.PayloadAuthHeader)
	}
	return key, ms, nonce, sig, nil
}

func (n *Node) handleRedaction(w http.ResponseWriter, r *http.Request) {
	h, ok := n.payloadHash(w, r)
	if !ok {
		return
	}
	x, redacted, err := state.LookupRedaction(n.store, h)
	switch {
	case err != nil:
		writeErr(w, http.StatusInternalServerError, "store", err)
	case !redacted:
		writeErr(w, http.StatusNotFound, "not_redacted", fmt.Errorf("payload %s is not redacted", h))
	default:
		writeJSON(w, http.StatusOK, RedactionView(x))
	}
}

// RedactionView is the API shape of a redaction record.
func RedactionView(x *state.Redaction) view.Redaction {
	return view.Redaction{Payload: x.Payload, Basis: x.Basis, Reason: x.Reason, Meaning: x.Meaning,
		Sender: hex.EncodeToString(x.Sender), Height: x.Height, Index: x.Index,
		Time: view.FormatMilli(x.TimeUnixMilli), TimeUnixMilli: x.TimeUnixMilli, TxHash: x.TxHash}
}
