package connection

import (
	"fmt"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

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
	openflow.TypeBundleAddMessage: "OFPT_BUNDLE_ADD_MESSAGE", openflow.TypeRoleStatus: "OFPT_ROLE_STATUS",
}

// typeName names an ofp_type the way OVS prints it, or by number.
func typeName(t openflow.Type) string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("OFPT_%d", t)
}
