package reconciler

import (
	"encoding/binary"
	"fmt"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// A flow is kept as two strings of canonical wire bytes, so that the desired
// and the installed table can share them and a flow costs two map entries'
// worth of bytes, not a tree of pointers.
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
// Both are what our encoder writes for the flow; a flow dumped from the
// switch is decoded and encoded again, so equal flows have equal bytes.
const (
	keyFixed = 3
	valFixed = 16
)

// flowKeyVal returns the canonical key and value of a flow.
func flowKeyVal(table uint8, priority uint16, match *oxm.Match, cookie uint64,
	idle, hard, flags, importance uint16, ins action.Instructions) (string, string, error) {
	m := *match
	m.Fields = append([]oxm.Field(nil), match.Fields...)
	m.Normalize()
	return appendKeyVal(table, priority, &m, cookie, idle, hard, flags, importance, ins)
}

// appendKeyVal encodes a flow's key and value as they are, normalized or
// not. Both strings share one allocation: they live and die together, and a
// flow then costs one heap object, not two.
func appendKeyVal(table uint8, priority uint16, m *oxm.Match, cookie uint64,
	idle, hard, flags, importance uint16, ins action.Instructions) (string, string, error) {
	b, kl, err := encodeKeyVal(table, priority, m, cookie, idle, hard, flags, importance, ins)
	if err != nil {
		return "", "", err
	}
	kv := string(b)
	return kv[:kl], kv[kl:], nil
}

// encodeKeyVal writes a flow's key and value back to back into a new
// buffer and returns where the value starts. Callers that only look the
// bytes up convert them without allocating.
func encodeKeyVal(table uint8, priority uint16, m *oxm.Match, cookie uint64,
	idle, hard, flags, importance uint16, ins action.Instructions) ([]byte, int, error) {
	b := make([]byte, keyFixed, 256)
	b[0] = table
	binary.BigEndian.PutUint16(b[1:], priority)
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

// flowModBody builds the body of an OpenFlow 1.3 flow_mod (everything after
// the header) straight from canonical bytes:
//
//	cookie, cookie_mask, table_id, command, idle, hard, priority,
//	buffer_id, out_port, out_group, flags, importance|pad, match, instructions
func flowModBody(command uint8, key, val string) []byte {
	b := make([]byte, 40, 40+len(key)+len(val))
	if val != "" {
		copy(b[0:8], val[0:8]) // cookie; cookie_mask stays 0
	}
	b[16] = key[0]
	b[17] = command
	if val != "" {
		copy(b[18:22], val[8:12]) // idle, hard
	}
	copy(b[22:24], key[1:3])
	binary.BigEndian.PutUint32(b[24:], openflow.NoBuffer)
	binary.BigEndian.PutUint32(b[28:], openflow.PortAny)
	binary.BigEndian.PutUint32(b[32:], openflow.GroupAny)
	if val != "" {
		copy(b[36:38], val[12:14]) // flags; importance is padding in 1.3
	}
	b = append(b, key[keyFixed:]...)
	if val != "" && command != openflow.FlowDeleteStrict {
		b = append(b, val[valFixed:]...)
	}
	return b
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
	var h [openflow.HeaderLen]byte
	body := flowModBody(openflow.FlowAdd, key, val)
	b := append(h[:0:0], h[:]...)
	b[0], b[1] = version, byte(openflow.TypeFlowMod)
	binary.BigEndian.PutUint16(b[2:], uint16(openflow.HeaderLen+len(body)))
	b = append(b, body...)
	fm := &openflow.FlowMod{}
	if err := fm.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return fm, nil
}
