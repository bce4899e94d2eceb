// Package flowkey is the form in which ofactor keeps a flow: its canonical
// key and value, two strings of wire bytes. The reconciler's desired and
// installed tables hold flows this way; an embedder (or the daemon) that
// computes them where its flows are made, on as many cores as it likes,
// hands the reconciler finished entries (messages.PutDesired.Canonical,
// messages.UpdateFlows.AddCanonical) and keeps no FlowMod alive.
//
// The key identifies the flow as OpenFlow's strict commands do:
//
//	+-------+---------------+--------------------------------------+
//	| table |   priority    |  ofp_match (OXM, normalized, padded) |
//	+-------+---------------+--------------------------------------+
//
// The value is everything else an ADD sets:
//
//	+------------------+------+------+-------+------------+----------------+
//	|      cookie      | idle | hard | flags | importance |  instructions  |
//	+------------------+------+------+-------+------------+----------------+
//
// Both are what ofactor's encoder writes for the flow; a flow dumped from
// the switch is decoded and encoded again, so equal flows have equal bytes.
package flowkey

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// Sizes of the fixed parts of a key and a value.
const (
	KeyFixed = 3
	ValFixed = 16
)

// MaxInner is the largest message that still fits a bundle ADD_MESSAGE
// (24 bytes of ONF framing) under OpenFlow's 65535-byte limit.
const MaxInner = openflow.MaxMessageLen - 24

// Flow is one flow in canonical bytes. The zero Flow is no flow.
type Flow struct{ key, val string }

// Key returns the flow's key: table, priority and match.
func (f Flow) Key() string { return f.key }

// Value returns the rest of the flow: cookie, timeouts, flags, importance
// and instructions.
func (f Flow) Value() string { return f.val }

// FromStrings makes a Flow of a key and value as Key and Value return them.
func FromStrings(key, val string) Flow { return Flow{key, val} }

// Of returns a FlowMod's Flow, its match normalized (on a copy) as
// oxm.Match.NormalizeFor does for the FlowMod's version (OpenFlow 1.3 when
// its header says none): in the form OVS writes it in that version, which
// is what its dumps and flow monitor hold (in 1.5 the registers are xregs).
// Any FlowMod will do. Flows whose flow_mod would not fit a bundle are
// refused.
func Of(fm *openflow.FlowMod) (Flow, error) {
	m := fm.Match
	m.Fields = append([]oxm.Field(nil), fm.Match.Fields...)
	v := fm.Version
	if v == 0 {
		v = openflow.Version13
	}
	m.NormalizeFor(v)
	return ofMatch(fm, &m)
}

// OfCanonical is Of for a FlowMod whose match is already canonical, as
// ofctl.ParseFlow, ofctl.ParseMatch and oxm.Build make them: it skips
// normalizing, which is most of Of's cost. A match that is not canonical
// gives a key that never equals the switch's, and the flow is sent again
// on every reconnect.
func OfCanonical(fm *openflow.FlowMod) (Flow, error) { return ofMatch(fm, &fm.Match) }

// ErrTable254 refuses a flow in table 254, Open vSwitch's own (its hidden
// internal rules): OVS refuses every write to it (OFPBRC_EPERM).
var ErrTable254 = fmt.Errorf("table 254 is Open vSwitch's internal table: ofactor never writes it")

func ofMatch(fm *openflow.FlowMod, m *oxm.Match) (Flow, error) {
	if fm.TableID == 254 {
		return Flow{}, ErrTable254
	}
	k, v, err := KeyVal(fm.TableID, fm.Priority, m, fm.Cookie,
		fm.IdleTimeout, fm.HardTimeout, fm.Flags, fm.Importance, fm.Instructions)
	if err != nil {
		return Flow{}, err
	}
	if n := FlowModLen(k, v); n > MaxInner {
		return Flow{}, fmt.Errorf("flow_mod of %d bytes: %w", n, openflow.ErrTooLong)
	}
	return Flow{k, v}, nil
}

// FlowModLen is the length of the flow_mod of a key and value.
func FlowModLen(key, val string) int {
	return openflow.HeaderLen + 40 + len(key) - KeyFixed + len(val) - ValFixed
}

// KeyVal encodes a flow's key and value with its match as it is,
// normalized or not. Both strings share one allocation: they live and die
// together, and a flow then costs one heap object, not two.
func KeyVal(table uint8, priority uint16, m *oxm.Match, cookie uint64,
	idle, hard, flags, importance uint16, ins action.Instructions) (string, string, error) {
	// Encoded into scratch space, then copied once into a string of the
	// flow's size: a flow costs its bytes, not a 256-byte buffer too.
	sp := scratch.Get().(*[]byte)
	b, kl, err := AppendEncode((*sp)[:0], table, priority, m, cookie, idle, hard, flags, importance, ins)
	if err != nil {
		scratch.Put(sp)
		return "", "", err
	}
	kv := string(b)
	if cap(b) <= 64<<10 {
		*sp = b
		scratch.Put(sp)
	}
	return kv[:kl], kv[kl:], nil
}

var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Encode writes a flow's key and value back to back into a new buffer and
// returns where the value starts. Callers that only look the bytes up
// convert them without allocating.
func Encode(table uint8, priority uint16, m *oxm.Match, cookie uint64,
	idle, hard, flags, importance uint16, ins action.Instructions) ([]byte, int, error) {
	return AppendEncode(make([]byte, 0, 256), table, priority, m, cookie, idle, hard, flags, importance, ins)
}

// AppendEncode is Encode appending to b; the value starts at the returned
// index of the result.
func AppendEncode(b []byte, table uint8, priority uint16, m *oxm.Match, cookie uint64,
	idle, hard, flags, importance uint16, ins action.Instructions) ([]byte, int, error) {
	b = append(b, table)
	b = binary.BigEndian.AppendUint16(b, priority)
	b, err := m.AppendOXM(b)
	if err != nil {
		return nil, 0, fmt.Errorf("match: %w", err)
	}
	kl := len(b)
	b = binary.BigEndian.AppendUint64(b, cookie)
	b = binary.BigEndian.AppendUint16(b, idle)
	b = binary.BigEndian.AppendUint16(b, hard)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, importance)
	b, err = ins.AppendBinary(b)
	if err != nil {
		return nil, 0, fmt.Errorf("instructions: %w", err)
	}
	return b, kl, nil
}

// Message returns the flow_mod of a flow, built from its bytes (no
// decoding): command ADD, MODIFY_STRICT or DELETE_STRICT, the last without
// instructions.
func (f Flow) Message(version, command uint8) openflow.Message {
	m := &openflow.RawFlowMod{
		Header:   openflow.Header{Version: version},
		Command:  command,
		TableID:  f.key[0],
		Priority: binary.BigEndian.Uint16([]byte(f.key[1:3])),
		Match:    f.key[KeyFixed:],
	}
	if v := f.val; len(v) >= ValFixed {
		m.Cookie = binary.BigEndian.Uint64([]byte(v[0:8]))
		m.IdleTimeout = binary.BigEndian.Uint16([]byte(v[8:10]))
		m.HardTimeout = binary.BigEndian.Uint16([]byte(v[10:12]))
		m.Flags = binary.BigEndian.Uint16([]byte(v[12:14]))
		m.Importance = binary.BigEndian.Uint16([]byte(v[14:16]))
		if command != openflow.FlowDeleteStrict {
			m.Instructions = v[ValFixed:]
		}
	}
	return m
}

// FromStats returns a dumped flow's Flow. A flow read from the wire
// (FlowStats.RawMatch, RawInstructions) is laid out from its bytes as the
// switch sent them, in one allocation and without normalizing: a switch that
// holds what ofactor sent reports ofactor's own canonical bytes back, so
// reading a dump costs a copy a flow (Canonical normalizes the ones that
// turn out to differ). A flow not read from the wire is encoded as it is.
func FromStats(fs *openflow.FlowStats) (Flow, error) {
	if fs.RawMatch == nil {
		k, v, err := KeyVal(fs.TableID, fs.Priority, &fs.Match, fs.Cookie,
			fs.IdleTimeout, fs.HardTimeout, fs.Flags, fs.Importance, fs.Instructions)
		return Flow{k, v}, err
	}
	b := make([]byte, KeyFixed, KeyFixed+len(fs.RawMatch)+ValFixed+len(fs.RawInstructions))
	b[0] = fs.TableID
	binary.BigEndian.PutUint16(b[1:], fs.Priority)
	b = append(b, fs.RawMatch...)
	kl := len(b)
	b = binary.BigEndian.AppendUint64(b, fs.Cookie)
	b = binary.BigEndian.AppendUint16(b, fs.IdleTimeout)
	b = binary.BigEndian.AppendUint16(b, fs.HardTimeout)
	b = binary.BigEndian.AppendUint16(b, fs.Flags)
	b = binary.BigEndian.AppendUint16(b, fs.Importance)
	b = append(b, fs.RawInstructions...)
	kv := string(b)
	return Flow{kv[:kl], kv[kl:]}, nil
}

// FromUpdate returns the Flow of a flow monitor's full update, laid out
// from its bytes as FromStats does. Updates carry no flags or importance:
// those are 0. A removal's Flow has its key only.
func FromUpdate(u *openflow.FlowUpdate) (Flow, error) {
	fs := openflow.FlowStats{TableID: u.TableID, Priority: u.Priority, IdleTimeout: u.IdleTimeout,
		HardTimeout: u.HardTimeout, Cookie: u.Cookie, Match: u.Match, Instructions: u.Instructions,
		RawMatch: u.RawMatch, RawInstructions: u.RawInstructions}
	if fs.RawMatch != nil && fs.RawInstructions == nil {
		fs.RawInstructions = []byte{}
	}
	f, err := FromStats(&fs)
	if err == nil && u.Event == openflow.FlowUpdateRemoved {
		f.val = ""
	}
	return f, err
}

// Canonical returns f (bytes as some switch wrote them) normalized: decoded,
// its match put in canonical form, encoded again. ok is false when the
// bytes do not decode; f is then best kept as it is (deleting it by those
// bytes still works).
func Canonical(version uint8, f Flow) (Flow, bool) {
	fm, err := Decode(version, f.key, f.val)
	if err != nil {
		return Flow{}, false
	}
	c, err := Of(fm)
	return c, err == nil
}

// SameButInstructions reports whether two values differ only in their
// instructions, which MODIFY_STRICT can change; anything else (cookie,
// timeouts, flags) needs an ADD, since MODIFY_STRICT cannot change a cookie
// in OpenFlow 1.1+.
func SameButInstructions(a, b string) bool {
	return len(a) >= ValFixed && len(b) >= ValFixed && a[:ValFixed] == b[:ValFixed]
}

// Decode turns canonical bytes back into a FlowMod (an ADD), for messages
// to people and for tests.
func Decode(version uint8, key, val string) (*openflow.FlowMod, error) {
	if len(key) < KeyFixed+4 || val != "" && len(val) < ValFixed {
		// An empty value (a removal names a flow by its key) decodes with
		// zero cookie, timeouts and flags, and no instructions.
		return nil, fmt.Errorf("flowkey: key of %d bytes, value of %d: too short", len(key), len(val))
	}
	b, err := FromStrings(key, val).Message(version, openflow.FlowAdd).AppendBinary(nil)
	if err != nil {
		return nil, err
	}
	fm := &openflow.FlowMod{}
	if err := fm.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return fm, nil
}

// FlowMod is Decode of the flow, as OpenFlow 1.3.
func (f Flow) FlowMod() (*openflow.FlowMod, error) {
	return Decode(openflow.Version13, f.key, f.val)
}
