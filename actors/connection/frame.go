package connection

import (
	"encoding/binary"
	"fmt"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// Wire constants this package reads straight from frames, so that routing
// does not depend on the codec decoding every body.
const (
	ofpmpfReplyMore          = 1  // OFPMPF_REPLY_MORE (§7.3.5)
	ofptRoleStatus           = 30 // OFPT_ROLE_STATUS (OpenFlow 1.4+)
	ofptTableStatus          = 31 // OFPT_TABLE_STATUS (OpenFlow 1.4+)
	ofptRequestForward       = 32 // OFPT_REQUESTFORWARD (OpenFlow 1.4+)
	onfBundleAddInnerOffset  = 24 // ofp_header + experimenter + exp_type + bundle_id, pad, flags
	ofp14BundleAddInnerOffst = 16 // ofp_header + bundle_id, pad, flags
)

// experimenter reads the experimenter id and subtype of an
// OFPT_EXPERIMENTER frame.
func experimenter(b []byte) (exp, subtype uint32, ok bool) {
	if len(b) < 16 || openflow.Type(b[1]) != openflow.TypeExperimenter {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:]), true
}

func xidOf(b []byte) uint32 { return binary.BigEndian.Uint32(b[4:]) }

// setXID writes xid into an encoded message, and into the inner message of
// a bundle ADD_MESSAGE (which must share it: OpenFlow 1.4.1 §7.3.9.6), so
// that the caller's message values are never mutated.
func setXID(b []byte, xid uint32) {
	binary.BigEndian.PutUint32(b[4:], xid)
	inner := 0
	switch {
	case openflow.Type(b[1]) == openflow.TypeBundleAddMessage && b[0] >= openflow.Version14:
		inner = ofp14BundleAddInnerOffst
	case openflow.Type(b[1]) == openflow.TypeExperimenter:
		if exp, sub, ok := experimenter(b); ok && exp == openflow.ExperimenterONF && sub == openflow.ONFTBundleAddMessage {
			inner = onfBundleAddInnerOffset
		}
	}
	if inner > 0 && len(b) >= inner+openflow.HeaderLen {
		binary.BigEndian.PutUint32(b[inner+4:], xid)
	}
}

// isFinalReply says whether a reply completes its own transaction: every
// reply except an error (a later barrier completes those) and a multipart
// part with OFPMPF_REPLY_MORE. Barrier replies are handled apart.
func isFinalReply(b []byte) bool {
	switch openflow.Type(b[1]) {
	case openflow.TypeError:
		return false
	case openflow.TypeMultipartReply:
		return !multipartMore(b)
	}
	return true
}

func multipartMore(b []byte) bool {
	return len(b) >= 12 && binary.BigEndian.Uint16(b[10:])&ofpmpfReplyMore != 0
}

// isAsync says whether a message type is one the switch sends on its own
// (OpenFlow 1.3.5 §7.4; role/table status and requestforward in 1.4+).
func isAsync(t openflow.Type) bool {
	switch t {
	case openflow.TypePacketIn, openflow.TypeFlowRemoved, openflow.TypePortStatus,
		ofptRoleStatus, ofptTableStatus, ofptRequestForward:
		return true
	}
	return false
}

// errorFields reads ofp_error_msg's type and code, and for an experimenter
// error (type 0xffff) its exp_type and experimenter id.
func errorFields(b []byte) (typ, code uint16, exp uint32, ok bool) {
	if len(b) < 12 {
		return 0, 0, 0, false
	}
	typ, code = binary.BigEndian.Uint16(b[8:]), binary.BigEndian.Uint16(b[10:])
	if typ == 0xffff {
		if len(b) < 16 {
			return 0, 0, 0, false
		}
		exp = binary.BigEndian.Uint32(b[12:])
	}
	return typ, code, exp, true
}

// helloFailed encodes OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE in version v
// with a text explanation as its data, as OVS does (§7.4.4).
func helloFailed(v uint8, xid uint32, text string) []byte {
	e := ofperr.NamedFor(v, "OFPHFC_INCOMPATIBLE")
	m := openflow.NewError(openflow.Header{Version: v, XID: xid}, e, []byte(text))
	b, _ := m.AppendBinary(nil) // a short text never exceeds 65535 bytes
	return b
}

// echoReplyFor answers an echo request frame in place of decoding it: same
// version, xid and data, type OFPT_ECHO_REPLY.
func echoReplyFor(req []byte) []byte {
	b := append([]byte(nil), req...)
	b[1] = byte(openflow.TypeEchoReply)
	return b
}

var typeNames = map[openflow.Type]string{
	openflow.TypeHello: "OFPT_HELLO", openflow.TypeError: "OFPT_ERROR",
	openflow.TypeEchoRequest: "OFPT_ECHO_REQUEST", openflow.TypeEchoReply: "OFPT_ECHO_REPLY",
	openflow.TypeExperimenter: "OFPT_EXPERIMENTER", openflow.TypeFeaturesRequest: "OFPT_FEATURES_REQUEST",
	openflow.TypeFeaturesReply: "OFPT_FEATURES_REPLY", openflow.TypePacketIn: "OFPT_PACKET_IN",
	openflow.TypeFlowRemoved: "OFPT_FLOW_REMOVED", openflow.TypePortStatus: "OFPT_PORT_STATUS",
	openflow.TypePacketOut: "OFPT_PACKET_OUT", openflow.TypeFlowMod: "OFPT_FLOW_MOD",
	openflow.TypeGroupMod: "OFPT_GROUP_MOD", openflow.TypeMultipartRequest: "OFPT_MULTIPART_REQUEST",
	openflow.TypeMultipartReply: "OFPT_MULTIPART_REPLY", openflow.TypeBarrierRequest: "OFPT_BARRIER_REQUEST",
	openflow.TypeBarrierReply: "OFPT_BARRIER_REPLY", openflow.TypeRoleReply: "OFPT_ROLE_REPLY",
	openflow.TypeMeterMod: "OFPT_METER_MOD", openflow.TypeBundleControl: "OFPT_BUNDLE_CONTROL",
	openflow.TypeBundleAddMessage: "OFPT_BUNDLE_ADD_MESSAGE", ofptRoleStatus: "OFPT_ROLE_STATUS",
}

// typeName names an ofp_type the way OVS prints it, or by number.
func typeName(t openflow.Type) string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("OFPT_%d", t)
}
