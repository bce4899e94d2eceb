package openflow

// Frame helpers: what a connection needs to read from (or patch in) an
// encoded message without decoding its body. Each takes one whole frame
// as ReadMessage returns it, checks every offset against len(b), and
// answers "no" (or does nothing) for bytes too short to hold what it looks
// for; none panics on any input.

// FrameXID returns the xid of the message b, or 0 if b is shorter than a
// header.
func FrameXID(b []byte) uint32 {
	if len(b) < HeaderLen {
		return 0
	}
	return be.Uint32(b[4:])
}

// SetFrameXID writes xid into the header of the message b, and into the
// header of the message a bundle ADD_MESSAGE carries, which must have the
// same xid (OpenFlow 1.4.1 §7.3.9.6; OVS refuses others with
// OFPBFC_MSG_BAD_XID), in both framings: the OpenFlow 1.3 ONF experimenter
// message and OpenFlow 1.4+'s OFPT_BUNDLE_ADD_MESSAGE. Patching the bytes
// lets a sender number messages it encoded once without touching the
// message values. A b shorter than a header is left alone.
func SetFrameXID(b []byte, xid uint32) {
	if len(b) < HeaderLen {
		return
	}
	be.PutUint32(b[4:], xid)
	if off, ok := bundleAddInner(b); ok && len(b) >= off+HeaderLen {
		be.PutUint32(b[off+4:], xid)
	}
}

// bundleAddInner returns the offset of the message a bundle ADD_MESSAGE
// frame carries, when b is one.
func bundleAddInner(b []byte) (int, bool) {
	switch {
	case len(b) < HeaderLen:
	case Type(b[1]) == TypeBundleAddMessage && b[0] >= Version14:
		return HeaderLen + 8, true
	case b[0] == Version13:
		if exp, sub, ok := FrameExperimenter(b); ok && exp == ExperimenterONF && sub == ONFTBundleAddMessage {
			return experimenterHeaderLen + 8, true
		}
	}
	return 0, false
}

// BundleInner returns the message a bundle ADD_MESSAGE frame carries (in
// either framing), when b is one whose message fits it.
func BundleInner(b []byte) ([]byte, bool) {
	off, ok := bundleAddInner(b)
	if !ok || len(b) < off+HeaderLen {
		return nil, false
	}
	n := int(be.Uint16(b[off+2:]))
	if n < HeaderLen || off+n > len(b) {
		return nil, false
	}
	return b[off : off+n], true
}

// FrameExperimenter returns the experimenter id and exp_type (subtype) of
// an OFPT_EXPERIMENTER frame.
func FrameExperimenter(b []byte) (exp, subtype uint32, ok bool) {
	if len(b) < experimenterHeaderLen || Type(b[1]) != TypeExperimenter {
		return 0, 0, false
	}
	return be.Uint32(b[8:]), be.Uint32(b[12:]), true
}

// FrameMultipartMore says whether b is a multipart request or reply part with
// OFPMPF_REQ_MORE / OFPMPF_REPLY_MORE set: more parts of it follow.
func FrameMultipartMore(b []byte) bool {
	if len(b) < 12 {
		return false
	}
	if t := Type(b[1]); t != TypeMultipartReply && t != TypeMultipartRequest {
		return false
	}
	return be.Uint16(b[10:])&MultipartMore != 0
}

// IsFinalReply says whether a reply completes its own transaction: every
// reply but an error (OVS may send more than one for a request, and a
// later barrier's reply completes those) and a multipart part with
// OFPMPF_REPLY_MORE. A barrier reply is final for itself; that it also
// completes every earlier request is the caller's business.
func IsFinalReply(b []byte) bool {
	if len(b) < HeaderLen {
		return false
	}
	switch Type(b[1]) {
	case TypeError:
		return false
	case TypeMultipartReply:
		return !FrameMultipartMore(b)
	}
	return true
}

// IsAsync says whether messages of type t are ones a switch of version
// sends on its own rather than in reply (OpenFlow 1.3.5 §7.4, 1.4.1 §7.4):
// packet-in, flow removed and port status; role status, table status and
// request forward in OpenFlow 1.4+, where those types exist. IsAsyncFrame
// also knows the OpenFlow 1.3 experimenter forms and flow monitor updates.
func IsAsync(t Type, version uint8) bool {
	switch t {
	case TypePacketIn, TypeFlowRemoved, TypePortStatus:
		return true
	case TypeRoleStatus, TypeTableStatus, TypeRequestForward:
		return version >= Version14
	}
	return false
}

// IsAsyncFrame says whether the switch sent b on its own: what IsAsync
// says for its type, and also OpenFlow 1.3's ONF role status, request
// forward and flow monitor paused/resumed messages, and the flow monitor
// updates OVS sends after the initial reply — multipart replies of the
// flow monitor type with xid 0 (connmgr.c ofmonitor_flush; the reply to a
// flow monitor request itself carries the request's xid, and a controller
// never uses xid 0 for a request it wants answered, so 0 tells them apart).
func IsAsyncFrame(b []byte) bool {
	if len(b) < HeaderLen {
		return false
	}
	v, t := b[0], Type(b[1])
	if IsAsync(t, v) {
		return true
	}
	switch t {
	case TypeExperimenter:
		exp, sub, ok := FrameExperimenter(b)
		if !ok || exp != ExperimenterONF || v != Version13 {
			return false
		}
		switch sub {
		case ONFTRoleStatus, ONFTRequestForward, ONFTFlowMonitorPaused, ONFTFlowMonitorResumed:
			return true
		}
	case TypeMultipartReply:
		return FrameXID(b) == 0 && isFlowMonitorReply(b)
	}
	return false
}

// isFlowMonitorReply says whether the multipart reply b is of the flow
// monitor type of its version.
func isFlowMonitorReply(b []byte) bool {
	if len(b) < multipartLen {
		return false
	}
	mp := be.Uint16(b[8:])
	switch {
	case b[0] >= Version14:
		return mp == MultipartFlowMonitor
	case b[0] == Version13 && mp == MultipartExperimenter && len(b) >= onfMultipartLen:
		return be.Uint32(b[16:]) == ExperimenterONF && be.Uint32(b[20:]) == ONFSTFlowMonitor
	}
	return false
}

// ErrorFields reads an OFPT_ERROR frame's type and code and, for an
// experimenter error (type 0xffff, OpenFlow 1.2+), its experimenter id; the
// code of an experimenter error is its exp_type. ofperr.Decode(b[0], typ,
// code, exp) names it.
func ErrorFields(b []byte) (typ, code uint16, exp uint32, ok bool) {
	if len(b) < 12 || Type(b[1]) != TypeError {
		return 0, 0, 0, false
	}
	typ, code = be.Uint16(b[8:]), be.Uint16(b[10:])
	if typ == ErrTypeExperimenter {
		if len(b) < 16 {
			return 0, 0, 0, false
		}
		exp = be.Uint32(b[12:])
	}
	return typ, code, exp, true
}

// BundleFrame tells bundle messages apart without decoding them, in both
// framings. For a bundle control message it returns its control type
// (BundleOpenRequest, ... BundleDiscardReply); for an ADD_MESSAGE add is
// true.
func BundleFrame(b []byte) (ctrlType uint16, add, ok bool) {
	if len(b) < HeaderLen {
		return 0, false, false
	}
	if _, isAdd := bundleAddInner(b); isAdd {
		return 0, true, true
	}
	ctrl := 0 // offset of the bundle control body
	switch {
	case Type(b[1]) == TypeBundleControl && b[0] >= Version14:
		ctrl = HeaderLen
	case b[0] == Version13:
		if exp, sub, isExp := FrameExperimenter(b); isExp && exp == ExperimenterONF && sub == ONFTBundleControl {
			ctrl = experimenterHeaderLen
		}
	}
	if ctrl == 0 || len(b) < ctrl+6 {
		return 0, false, false
	}
	return be.Uint16(b[ctrl+4:]), false, true
}
