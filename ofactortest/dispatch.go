package ofactortest

import (
	"encoding/binary"
	"fmt"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// Messages are dispatched as OVS's ofptype_decode does: the header gives
// a message kind (type, multipart type, experimenter and subtype, per
// version), the kind gives the length rule and the handler. What no kind
// names is OFPBRC_BAD_TYPE, _BAD_STAT, _BAD_VENDOR or _BAD_SUBTYPE; a
// length the kind does not allow is OFPBRC_BAD_LEN. New versions and new
// messages (the flow monitor, roles) are new rows of the table.

// Names of the messages the switch counts (Switch.Received), as
// `ovs-ofctl ofp-print` names them.
const (
	MsgHello              = "OFPT_HELLO"
	MsgEchoRequest        = "OFPT_ECHO_REQUEST"
	MsgFeaturesRequest    = "OFPT_FEATURES_REQUEST"
	MsgFlowMod            = "OFPT_FLOW_MOD"
	MsgGroupMod           = "OFPT_GROUP_MOD"
	MsgMeterMod           = "OFPT_METER_MOD"
	MsgBarrierRequest     = "OFPT_BARRIER_REQUEST"
	MsgFlowStatsRequest   = "OFPST_FLOW request"
	MsgGroupDescRequest   = "OFPST_GROUP_DESC request"
	MsgMeterConfigRequest = "OFPST_METER_CONFIG request"
	MsgPortDescRequest    = "OFPST_PORT_DESC request"
	MsgTLVTableMod        = "NXT_TLV_TABLE_MOD"
	MsgTLVTableRequest    = "NXT_TLV_TABLE_REQUEST"
	MsgBundleControl      = "ONFT_BUNDLE_CONTROL"
	MsgBundleAdd          = "ONFT_BUNDLE_ADD_MESSAGE"
)

// msgKey identifies a message kind: type, and for multipart messages the
// multipart type, for experimenter ones the experimenter and subtype.
type msgKey struct {
	typ    openflow.Type
	stat   uint16
	vendor uint32
	sub    uint32
}

// handler handles one request; it returns the name of the OVS error to
// answer with, or "".
type handler func(c *conn, r *request) string

// kind is one message OVS knows in a version (a row of ofp-msgs.h).
type kind struct {
	name     string
	min      int // bytes, header included
	multiple int // what follows min must be a multiple of it; 0: nothing may
	handle   handler
	// unmodelled: OVS handles it; this switch answers OFPBRC_BAD_TYPE
	// (OFPBRC_BAD_STAT for a multipart request) and counts it in
	// Counts under its name like any other.
	unmodelled bool
	reply      bool // a reply or asynchronous message: a controller must not send it
}

// kinds holds the messages of each version. It is filled by init: the
// bundle handler classifies inner messages through it.
var kinds map[uint8]map[msgKey]*kind

func init() {
	kinds = map[uint8]map[msgKey]*kind{openflow.Version13: kinds13()}
}

// request is one message being handled and what it makes the switch send.
type request struct {
	raw     []byte
	xid     uint32
	replies [][]byte
}

// reply queues a message; encoding failures are the switch's bugs.
func (r *request) reply(m openflow.Message) {
	b, err := m.AppendBinary(nil)
	if err != nil {
		panic(fmt.Sprintf("ofactortest: encoding %T: %v", m, err))
	}
	r.replies = append(r.replies, b)
}

// replyRaw queues encoded bytes.
func (r *request) replyRaw(b []byte) { r.replies = append(r.replies, b) }

// classify finds the kind of a whole message in its version's table.
func classify(b []byte) (*kind, string) {
	be := binary.BigEndian
	if len(b) < openflow.HeaderLen {
		return nil, "OFPBRC_BAD_LEN"
	}
	k := msgKey{typ: openflow.Type(b[1])}
	var vendorErr string
	switch k.typ {
	case openflow.TypeExperimenter:
		if len(b) < 16 {
			return nil, "OFPBRC_BAD_LEN"
		}
		k.vendor, k.sub = be.Uint32(b[8:]), be.Uint32(b[12:])
		vendorErr = "OFPBRC_BAD_SUBTYPE"
	case openflow.TypeMultipartRequest, openflow.TypeMultipartReply:
		if len(b) < 16 {
			return nil, "OFPBRC_BAD_LEN"
		}
		k.stat = be.Uint16(b[8:])
		vendorErr = "OFPBRC_BAD_STAT"
		if k.stat == openflow.MultipartExperimenter {
			if len(b) < 24 {
				return nil, "OFPBRC_BAD_LEN"
			}
			k.vendor, k.sub = be.Uint32(b[16:]), be.Uint32(b[20:])
			vendorErr = "OFPBRC_BAD_SUBTYPE"
		}
	}
	if k.vendor != 0 && k.vendor != openflow.ExperimenterNicira && k.vendor != openflow.ExperimenterONF {
		return nil, "OFPBRC_BAD_VENDOR"
	}
	kd := kinds[b[0]][k]
	if kd == nil {
		if vendorErr != "" {
			return nil, vendorErr
		}
		return nil, "OFPBRC_BAD_TYPE"
	}
	if len(b) < kd.min || kd.multiple == 0 && len(b) != kd.min ||
		kd.multiple > 0 && (len(b)-kd.min)%kd.multiple != 0 {
		return nil, "OFPBRC_BAD_LEN"
	}
	return kd, ""
}

// errorMessage is the OFPT_ERROR OVS sends for request (ofperr_encode_reply):
// the request's version and xid, the error in that version's encoding
// (OpenFlow 1.0's for a version OVS does not know), and the request as
// data, cut to what fits in 65535 bytes.
func errorMessage(request []byte, name string) []byte {
	v := request[0]
	if v < openflow.Version10 || v > openflow.Version15 {
		v = openflow.Version10
	}
	e := ofperr.NamedFor(v, name)
	if e == nil || e.Type == 0 && e.Code == 0 && e.Experimenter == 0 {
		// No code in this version (OFPHFC_INCOMPATIBLE, the one error
		// that is 0/0, is never sent through here).
		e = ofperr.NamedFor(v, "NXBRC_UNENCODABLE_ERROR")
	}
	h := openflow.Header{Version: v, XID: binary.BigEndian.Uint32(request[4:])}
	room := openflow.MaxMessageLen - 12
	if e.Type == openflow.ErrTypeExperimenter {
		room -= 4
	}
	data := request
	if len(data) > room {
		data = data[:room]
	}
	b, err := openflow.NewError(h, e, data).AppendBinary(nil)
	if err != nil {
		panic(fmt.Sprintf("ofactortest: encoding error %s: %v", name, err))
	}
	return b
}

// MessageName names a whole OpenFlow message as the switch counts it
// (Counts): "OFPT_FLOW_MOD", "OFPST_FLOW request", "ONFT_BUNDLE_CONTROL",
// or "OFPT_UNKNOWN(version=...,type=...)" for what it does not know.
func MessageName(b []byte) string { return nameOf(b) }

// nameOf is the name a message is counted under: its kind's, or a
// description of what it is.
func nameOf(b []byte) string {
	if k, e := classify(b); e == "" {
		return k.name
	}
	if len(b) >= 2 {
		return fmt.Sprintf("OFPT_UNKNOWN(version=%#x,type=%d)", b[0], b[1])
	}
	return "OFPT_UNKNOWN"
}

func kinds13() map[msgKey]*kind {
	t := func(typ openflow.Type) msgKey { return msgKey{typ: typ} }
	st := func(stat uint16) msgKey { return msgKey{typ: openflow.TypeMultipartRequest, stat: stat} }
	nx := func(sub uint32) msgKey {
		return msgKey{typ: openflow.TypeExperimenter, vendor: openflow.ExperimenterNicira, sub: sub}
	}
	onf := func(sub uint32) msgKey {
		return msgKey{typ: openflow.TypeExperimenter, vendor: openflow.ExperimenterONF, sub: sub}
	}
	m := map[msgKey]*kind{
		t(openflow.TypeHello):                 {name: MsgHello, min: 8, multiple: 1, reply: true},
		t(openflow.TypeError):                 {name: "OFPT_ERROR", min: 12, multiple: 1, reply: true},
		t(openflow.TypeEchoRequest):           {name: MsgEchoRequest, min: 8, multiple: 1, handle: (*conn).handleEcho},
		t(openflow.TypeEchoReply):             {name: "OFPT_ECHO_REPLY", min: 8, multiple: 1, handle: ignore},
		t(openflow.TypeFeaturesRequest):       {name: MsgFeaturesRequest, min: 8, handle: (*conn).handleFeatures},
		t(openflow.TypeFeaturesReply):         {name: "OFPT_FEATURES_REPLY", min: 32, reply: true},
		t(openflow.TypeGetConfigRequest):      {name: "OFPT_GET_CONFIG_REQUEST", min: 8, handle: (*conn).handleGetConfig},
		t(openflow.TypeGetConfigReply):        {name: "OFPT_GET_CONFIG_REPLY", min: 12, reply: true},
		t(openflow.TypeSetConfig):             {name: "OFPT_SET_CONFIG", min: 12, handle: (*conn).handleSetConfig},
		t(openflow.TypePacketIn):              {name: "OFPT_PACKET_IN", min: 34, multiple: 1, reply: true},
		t(openflow.TypeFlowRemoved):           {name: "OFPT_FLOW_REMOVED", min: 56, multiple: 8, reply: true},
		t(openflow.TypePortStatus):            {name: "OFPT_PORT_STATUS", min: 80, reply: true},
		t(openflow.TypePacketOut):             {name: "OFPT_PACKET_OUT", min: 24, multiple: 1, unmodelled: true},
		t(openflow.TypeFlowMod):               {name: MsgFlowMod, min: flowLen, multiple: 8, handle: (*conn).handleFlowMod},
		t(openflow.TypeGroupMod):              {name: MsgGroupMod, min: 16, multiple: 8, handle: (*conn).handleGroupMod},
		t(openflow.TypePortMod):               {name: "OFPT_PORT_MOD", min: 40, unmodelled: true},
		t(openflow.TypeTableMod):              {name: "OFPT_TABLE_MOD", min: 16, unmodelled: true},
		t(openflow.TypeBarrierRequest):        {name: MsgBarrierRequest, min: 8, handle: (*conn).handleBarrier},
		t(openflow.TypeBarrierReply):          {name: "OFPT_BARRIER_REPLY", min: 8, reply: true},
		t(openflow.TypeQueueGetConfigRequest): {name: "OFPT_QUEUE_GET_CONFIG_REQUEST", min: 16, unmodelled: true},
		t(openflow.TypeQueueGetConfigReply):   {name: "OFPT_QUEUE_GET_CONFIG_REPLY", min: 16, multiple: 8, reply: true},
		t(openflow.TypeRoleRequest):           {name: "OFPT_ROLE_REQUEST", min: 24, unmodelled: true},
		t(openflow.TypeRoleReply):             {name: "OFPT_ROLE_REPLY", min: 24, reply: true},
		t(openflow.TypeGetAsyncRequest):       {name: "OFPT_GET_ASYNC_REQUEST", min: 8, unmodelled: true},
		t(openflow.TypeGetAsyncReply):         {name: "OFPT_GET_ASYNC_REPLY", min: 32, reply: true},
		t(openflow.TypeSetAsync):              {name: "OFPT_SET_ASYNC", min: 32, unmodelled: true},
		t(openflow.TypeMeterMod):              {name: MsgMeterMod, min: 16, multiple: 8, handle: (*conn).handleMeterMod},

		st(openflow.MultipartDesc):          {name: "OFPST_DESC request", min: 16, handle: (*conn).handleDesc},
		st(openflow.MultipartFlow):          {name: MsgFlowStatsRequest, min: 48, multiple: 8, handle: (*conn).handleFlowStats},
		st(openflow.MultipartAggregate):     {name: "OFPST_AGGREGATE request", min: 48, multiple: 8, handle: (*conn).handleAggregate},
		st(openflow.MultipartTable):         {name: "OFPST_TABLE request", min: 16, unmodelled: true},
		st(openflow.MultipartPortStats):     {name: "OFPST_PORT request", min: 24, unmodelled: true},
		st(openflow.MultipartQueue):         {name: "OFPST_QUEUE request", min: 24, unmodelled: true},
		st(openflow.MultipartGroup):         {name: "OFPST_GROUP request", min: 24, unmodelled: true},
		st(openflow.MultipartGroupDesc):     {name: MsgGroupDescRequest, min: 16, handle: (*conn).handleGroupDesc},
		st(openflow.MultipartGroupFeatures): {name: "OFPST_GROUP_FEATURES request", min: 16, unmodelled: true},
		st(openflow.MultipartMeter):         {name: "OFPST_METER request", min: 24, unmodelled: true},
		st(openflow.MultipartMeterConfig):   {name: MsgMeterConfigRequest, min: 24, handle: (*conn).handleMeterConfig},
		st(openflow.MultipartMeterFeatures): {name: "OFPST_METER_FEATURES request", min: 16, handle: (*conn).handleMeterFeatures},
		st(openflow.MultipartTableFeatures): {name: "OFPST_TABLE_FEATURES request", min: 16, multiple: 8, unmodelled: true},
		st(openflow.MultipartPortDesc):      {name: MsgPortDescRequest, min: 16, handle: (*conn).handlePortDesc},
		{typ: openflow.TypeMultipartRequest, stat: openflow.MultipartExperimenter, vendor: openflow.ExperimenterONF, sub: 1870}: {
			name: "ONFST_FLOW_MONITOR request", min: 24, multiple: 8, unmodelled: true},

		nx(openflow.NXTTLVTableMod):        {name: MsgTLVTableMod, min: 24, multiple: 8, handle: (*conn).handleTLVMod},
		nx(openflow.NXTTLVTableRequest):    {name: MsgTLVTableRequest, min: 16, handle: (*conn).handleTLVRequest},
		nx(openflow.NXTTLVTableReply):      {name: "NXT_TLV_TABLE_REPLY", min: 32, multiple: 8, reply: true},
		nx(12):                             {name: "NXT_SET_FLOW_FORMAT", min: 20, unmodelled: true},
		nx(15):                             {name: "NXT_FLOW_MOD_TABLE_ID", min: 24, unmodelled: true},
		nx(16):                             {name: "NXT_SET_PACKET_IN_FORMAT", min: 20, unmodelled: true},
		nx(18):                             {name: "NXT_FLOW_AGE", min: 16, handle: ignore},
		nx(20):                             {name: "NXT_SET_CONTROLLER_ID", min: 24, unmodelled: true},
		onf(openflow.ONFTBundleControl):    {name: MsgBundleControl, min: bundleCtrlLen, multiple: 8, handle: (*conn).handleBundleControl},
		onf(openflow.ONFTBundleAddMessage): {name: MsgBundleAdd, min: bundleCtrlLen, multiple: 1, handle: (*conn).handleBundleAdd},
		onf(1870):                          {name: "ONFT_FLOW_MONITOR_CANCEL", min: 20, unmodelled: true},
	}
	// Replies to multipart requests: known, never to be sent by a controller.
	for stat, name := range map[uint16]string{
		openflow.MultipartDesc: "OFPST_DESC reply", openflow.MultipartFlow: "OFPST_FLOW reply",
		openflow.MultipartAggregate: "OFPST_AGGREGATE reply", openflow.MultipartTable: "OFPST_TABLE reply",
		openflow.MultipartPortStats: "OFPST_PORT reply", openflow.MultipartQueue: "OFPST_QUEUE reply",
		openflow.MultipartGroup: "OFPST_GROUP reply", openflow.MultipartGroupDesc: "OFPST_GROUP_DESC reply",
		openflow.MultipartGroupFeatures: "OFPST_GROUP_FEATURES reply", openflow.MultipartMeter: "OFPST_METER reply",
		openflow.MultipartMeterConfig: "OFPST_METER_CONFIG reply", openflow.MultipartMeterFeatures: "OFPST_METER_FEATURES reply",
		openflow.MultipartTableFeatures: "OFPST_TABLE_FEATURES reply", openflow.MultipartPortDesc: "OFPST_PORT_DESC reply",
	} {
		m[msgKey{typ: openflow.TypeMultipartReply, stat: stat}] = &kind{name: name, min: 16, multiple: 1, reply: true}
	}
	return m
}

// ignore answers nothing (echo replies, NXT_FLOW_AGE).
func ignore(*conn, *request) string { return "" }

// dispatch handles one message of the connection's version.
func (c *conn) dispatch(r *request) {
	k, e := classify(r.raw)
	if e == "" {
		switch {
		case k.handle != nil:
			e = k.handle(c, r)
		case k.unmodelled:
			c.sw.unmodelled[k.name]++
			e = "OFPBRC_BAD_TYPE"
			if r.raw[1] == byte(openflow.TypeMultipartRequest) {
				e = "OFPBRC_BAD_STAT"
			}
		default: // a reply, or an asynchronous message
			e = "OFPBRC_BAD_TYPE"
		}
	}
	if e != "" {
		r.replyRaw(errorMessage(r.raw, e))
	}
}
