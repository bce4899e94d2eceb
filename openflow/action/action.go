// Package action is OpenFlow actions and instructions (OpenFlow 1.3.5 §7.2.4
// and §7.2.5) and the Nicira and ONF extension actions Open vSwitch uses
// (lib/ofp-actions.c), both on the wire and in ovs-ofctl's text syntax, one
// file per family, as OVS keeps encode, decode, parse and format of an action
// together. An action the package does not know is kept as Raw bytes and
// written back unchanged.
package action

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// Action is one action. AppendBinary writes it, header and padding
// included; AppendText writes it as ovs-ofctl prints it.
type Action interface {
	AppendBinary(b []byte) ([]byte, error)
	AppendText(b []byte) ([]byte, error)
}

// List is an action list, as in an apply/write-actions instruction or a
// group bucket.
type List []Action

// Raw is an action this package does not decode, kept byte for byte.
type Raw struct {
	Data []byte // the whole action: type, length, body
}

func (a *Raw) AppendBinary(b []byte) ([]byte, error) { return append(b, a.Data...), nil }

// AppendText writes a Raw action in a form that cannot be mistaken for a
// known one.
func (a *Raw) AppendText(b []byte) ([]byte, error) {
	return fmt.Appendf(b, "raw(%s)", hex.EncodeToString(a.Data)), nil
}

// Context is what decoding and parsing depend on.
type Context struct {
	Version uint8        // protocol version of the actions (0x02 = 1.1 ... 0x06 = 1.5)
	OXM     *oxm.Context // tun_metadata lengths and "geneve"; nil: none mapped
	Table   uint8        // the flow's table, for checking goto_table
	// FlowHasVLAN says that the flow's match requires an 802.1Q header
	// (its vlan_tci value has the CFI bit: dl_vlan=N, vlan_tci=0x1000/0x1000):
	// then mod_vlan_vid and mod_vlan_pcp need no push_vlan (see
	// pushIfNeeded). Parsing only.
	FlowHasVLAN bool
	// Flow is what the flow's match says of the packet: with Check,
	// ParseInstructions checks the actions against it as ovs-ofctl does
	// (ofpacts_check) and refuses what OVS refuses; without, nothing is
	// checked (a group's buckets, which ovs-ofctl does not check either).
	// Parsing only.
	Flow  oxm.Facts
	Check bool
	// nest is the action whose list is being parsed (outerClone, ...),
	// outerNone at the top. Parsing only.
	nest string
}

// decodeFunc decodes one action; b is exactly the action (its length field
// already checked against the input).
type decodeFunc func(ctx Context, b []byte) (Action, error)

// parseFunc parses the text after a keyword: arg is what follows "kw:" or
// sits inside "kw(...)" (hasArg false for a bare keyword).
type parseFunc func(ctx Context, kw, arg string, hasArg bool) (Action, error)

var (
	ofDecoders  = map[uint16]decodeFunc{} // by OFPAT type
	nxDecoders  = map[uint16]decodeFunc{} // by Nicira subtype
	onfDecoders = map[uint16]decodeFunc{} // by ONF exp_type
	parsers     = map[string]parseFunc{}  // by ovs-ofctl keyword
)

// registerOF, registerNX, registerONF and registerParser are called from
// the init functions of each family's file.
func registerOF(t uint16, f decodeFunc)     { ofDecoders[t] = f }
func registerNX(sub uint16, f decodeFunc)   { nxDecoders[sub] = f }
func registerONF(sub uint16, f decodeFunc)  { onfDecoders[sub] = f }
func registerParser(kw string, f parseFunc) { parsers[kw] = f }

// be is the byte order of everything on the wire.
var be = binary.BigEndian

// Instruction is one flow instruction. AppendText writes it as it appears in
// a flow's actions= text.
type Instruction interface {
	AppendBinary(b []byte) ([]byte, error)
	AppendText(b []byte) ([]byte, error)
}

// Instructions is a flow's instruction set, in the order OVS writes them.
type Instructions []Instruction

// SyntaxError is a text that does not parse: Offset is the byte offset in
// the text handed to the parser, Token what stands there.
type SyntaxError struct {
	Offset int
	Token  string
	Msg    string // what was expected
}

func (e *SyntaxError) Error() string {
	if e.Token == "" {
		return fmt.Sprintf("column %d: %s", e.Offset+1, e.Msg)
	}
	return fmt.Sprintf("column %d: %q: %s", e.Offset+1, e.Token, e.Msg)
}
