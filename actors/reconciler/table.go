package reconciler

import (
	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/openflow"
)

// A flow is kept as two strings of canonical wire bytes (package flowkey),
// so that the desired and the installed table can share them and a flow
// costs two map entries' worth of bytes, not a tree of pointers.
const (
	keyFixed = flowkey.KeyFixed
	valFixed = flowkey.ValFixed
)

// FlowModKey returns the canonical key and value of a flow, its match
// normalized (flowkey.Of). A flow whose flow_mod would not fit a bundle is
// refused.
func FlowModKey(fm *openflow.FlowMod) (key, val string, err error) {
	f, err := flowkey.Of(fm)
	return f.Key(), f.Value(), err
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
