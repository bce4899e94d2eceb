package reconciler

import (
	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// A flow is kept as two strings of canonical wire bytes (package flowkey),
// so that the desired and the installed table can share them and a flow
// costs two map entries' worth of bytes, not a tree of pointers.
const (
	keyFixed = flowkey.KeyFixed
	valFixed = flowkey.ValFixed
)

// flowKeyVal returns the canonical key and value of a flow.
func flowKeyVal(table uint8, priority uint16, match *oxm.Match, cookie uint64,
	idle, hard, flags, importance uint16, ins action.Instructions) (string, string, error) {
	m := *match
	m.Fields = append([]oxm.Field(nil), match.Fields...)
	m.Normalize()
	return flowkey.KeyVal(table, priority, &m, cookie, idle, hard, flags, importance, ins)
}

// encodeKeyVal is flowkey.Encode.
func encodeKeyVal(table uint8, priority uint16, m *oxm.Match, cookie uint64,
	idle, hard, flags, importance uint16, ins action.Instructions) ([]byte, int, error) {
	return flowkey.Encode(table, priority, m, cookie, idle, hard, flags, importance, ins)
}

// FlowModKey returns the canonical key and value of a desired flow.
func FlowModKey(fm *openflow.FlowMod) (key, val string, err error) {
	return flowKeyVal(fm.TableID, fm.Priority, &fm.Match, fm.Cookie,
		fm.IdleTimeout, fm.HardTimeout, fm.Flags, fm.Importance, fm.Instructions)
}

// FlowStatsKey returns the canonical key and value of a flow dumped from the
// switch. Timeouts and importance are the flow's own; flags as reported.
func FlowStatsKey(fs *openflow.FlowStats) (key, val string, err error) {
	return flowKeyVal(fs.TableID, fs.Priority, &fs.Match, fs.Cookie,
		fs.IdleTimeout, fs.HardTimeout, fs.Flags, fs.Importance, fs.Instructions)
}

// sameButActions reports whether two values differ only in their
// instructions, which MODIFY_STRICT can change; anything else (cookie,
// timeouts, flags) needs an ADD, since MODIFY_STRICT cannot change a cookie
// in OpenFlow 1.1+.
func sameButActions(a, b string) bool {
	return len(a) >= valFixed && len(b) >= valFixed && a[:valFixed] == b[:valFixed]
}

// flowModBody is flowkey.FlowModBody.
func flowModBody(command uint8, key, val string) []byte {
	return flowkey.FlowModBody(command, key, val)
}

// FlowModMessage returns a flow_mod built from canonical bytes, ready for
// the connection actor (which fills in the xid).
func FlowModMessage(version, command uint8, key, val string) openflow.Message {
	return &openflow.Unknown{
		Header: openflow.Header{Version: version, Type: openflow.TypeFlowMod},
		Data:   flowModBody(command, key, val),
	}
}

// DecodeFlow turns canonical bytes back into a FlowMod, for messages to
// people (errors name the flow in ovs-ofctl syntax).
func DecodeFlow(version uint8, key, val string) (*openflow.FlowMod, error) {
	return flowkey.Decode(version, key, val)
}
