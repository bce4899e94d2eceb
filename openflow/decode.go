package openflow

import (
	"errors"
	"fmt"
	"io"
)

// Experimenter is OFPT_EXPERIMENTER (OpenFlow 1.3.5 §7.5.4, struct
// ofp_experimenter_header) of an experimenter and type this package does
// not decode, its body raw:
//
//	header | experimenter u32 | exp_type u32 | data
type Experimenter struct {
	Header
	Experimenter uint32
	ExpType      uint32
	Data         []byte
}

func (m *Experimenter) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendExperimenterHeader(b, &m.Header, m.Experimenter, m.ExpType)
	b = append(b, m.Data...)
	return finish(b, start)
}

func (m *Experimenter) UnmarshalBinary(b []byte) error {
	const name = "experimenter"
	if err := checkHeader(&m.Header, b, TypeExperimenter, name); err != nil {
		return err
	}
	if len(b) < experimenterHeaderLen {
		return errTruncated(name, b, HeaderLen, experimenterHeaderLen-HeaderLen)
	}
	m.Experimenter = be.Uint32(b[8:])
	m.ExpType = be.Uint32(b[12:])
	m.Data = append([]byte(nil), b[experimenterHeaderLen:]...)
	return nil
}

// Decode decodes one whole message (exactly one frame, as ReadMessage
// returns it) into its typed form, in any of OpenFlow 1.3, 1.4 and 1.5:
// *Hello, *Error, *EchoRequest, ..., *FlowMod, *GroupMod, *MeterMod,
// *FlowStatsReply, *PortDescReply, *RoleRequest, *RoleStatus,
// *FlowMonitorRequest, *FlowMonitorReply, *BundleControl, *BundleAdd,
// *TLVTableReply (docs/codec.md lists them all). The same Go type decodes
// a message in every version's form and framing (a RoleStatus is an ONF
// experimenter message in 1.3 and OFPT_ROLE_STATUS in 1.4+). Messages of
// types it does not decode are *Unknown, experimenter messages it does not
// decode *Experimenter, multipart messages of other types
// *MultipartRequest / *MultipartReply.
//
// OpenFlow 1.0-1.2 number their types differently from 1.3: in those
// versions only the messages whose type is the same in every version
// (hello, error, echo, experimenter, features, config, port status) are
// typed; everything else is *Unknown.
func Decode(b []byte) (Message, error) { return decode(b, false) }

// DecodeShallow is Decode that leaves the matches and instructions of a
// flow stats reply's entries and of a flow monitor reply's updates
// undecoded (FlowStatsReply.Shallow, FlowMonitorReply.Shallow).
func DecodeShallow(b []byte) (Message, error) { return decode(b, true) }

func decode(b []byte, shallow bool) (Message, error) {
	var h Header
	if err := h.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	if int(h.Length) != len(b) {
		return nil, fmt.Errorf("message type %d: length field %d, frame is %d bytes", h.Type, h.Length, len(b))
	}
	if h.Version == 0 {
		// Encoders write version 0 as 1.3; no peer sends it.
		return nil, fmt.Errorf("message type %d: version 0", h.Type)
	}
	m := newMessage(h, b)
	switch m := m.(type) {
	case *FlowStatsReply:
		m.Shallow = shallow
	case *FlowMonitorReply:
		m.Shallow = shallow
	}
	if err := m.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return m, nil
}

// newMessage returns the zero message that decodes a frame with header h.
func newMessage(h Header, b []byte) Message {
	v := h.Version
	switch h.Type {
	case TypeHello:
		return &Hello{}
	case TypeError:
		return &Error{}
	case TypeEchoRequest:
		return &EchoRequest{}
	case TypeEchoReply:
		return &EchoReply{}
	case TypeExperimenter:
		return newExperimenter(v, b)
	case TypeFeaturesRequest:
		return &FeaturesRequest{}
	case TypeFeaturesReply:
		return &FeaturesReply{}
	case TypeGetConfigRequest:
		return &GetConfigRequest{}
	case TypeGetConfigReply:
		return &GetConfigReply{}
	case TypeSetConfig:
		return &SetConfig{}
	case TypeSetAsync:
		return &SetAsync{}
	case TypePortStatus:
		return &PortStatus{}
	}
	if v < Version13 {
		return &Unknown{}
	}
	switch h.Type {
	case TypePacketIn:
		return &PacketIn{}
	case TypeFlowRemoved:
		return &FlowRemoved{}
	case TypeFlowMod:
		return &FlowMod{}
	case TypeGroupMod:
		return &GroupMod{}
	case TypeMeterMod:
		return &MeterMod{}
	case TypeBarrierRequest:
		return &BarrierRequest{}
	case TypeBarrierReply:
		return &BarrierReply{}
	case TypeRoleRequest:
		return &RoleRequest{}
	case TypeRoleReply:
		return &RoleReply{}
	case TypeMultipartRequest:
		return newMultipartRequest(v, b)
	case TypeMultipartReply:
		return newMultipartReply(v, b)
	}
	if v < Version14 {
		return &Unknown{}
	}
	switch h.Type {
	case TypeRoleStatus:
		return &RoleStatus{}
	case TypeBundleControl:
		return &BundleControl{}
	case TypeBundleAddMessage:
		return &BundleAdd{}
	}
	return &Unknown{}
}

func newExperimenter(v uint8, b []byte) Message {
	exp, sub, ok := FrameExperimenter(b)
	switch {
	case !ok:
		return &Unknown{}
	case exp == ExperimenterNicira && sub == NXTTLVTableMod:
		return &TLVTableMod{}
	case exp == ExperimenterNicira && sub == NXTTLVTableRequest:
		return &TLVTableRequest{}
	case exp == ExperimenterNicira && sub == NXTTLVTableReply:
		return &TLVTableReply{}
	case exp != ExperimenterONF || v != Version13:
	case sub == ONFTBundleControl:
		return &BundleControl{}
	case sub == ONFTBundleAddMessage:
		return &BundleAdd{}
	case sub == ONFTRoleStatus:
		return &RoleStatus{}
	case sub == ONFTFlowMonitorCancel:
		return &FlowMonitorCancel{}
	case sub == ONFTFlowMonitorPaused:
		return &FlowMonitorPaused{}
	case sub == ONFTFlowMonitorResumed:
		return &FlowMonitorResumed{}
	}
	return &Experimenter{}
}

// multipartKind returns a multipart frame's type, with the ONF flow
// monitor of OpenFlow 1.3 (an experimenter multipart) reported as
// MultipartFlowMonitor.
func multipartKind(v uint8, b []byte) (uint16, bool) {
	if len(b) < multipartLen {
		return 0, false
	}
	mp := be.Uint16(b[8:])
	switch {
	case mp == MultipartExperimenter:
		if v == Version13 && len(b) >= onfMultipartLen &&
			be.Uint32(b[16:]) == ExperimenterONF && be.Uint32(b[20:]) == ONFSTFlowMonitor {
			return MultipartFlowMonitor, true
		}
		return mp, true
	case mp == MultipartFlowMonitor && v < Version14:
		return 0, false // not a flow monitor in 1.3
	}
	return mp, true
}

func newMultipartRequest(v uint8, b []byte) Message {
	mp, ok := multipartKind(v, b)
	switch {
	case !ok:
	case mp == MultipartFlow:
		return &FlowStatsRequest{}
	case mp == MultipartGroupDesc:
		return &GroupDescRequest{}
	case mp == MultipartMeterConfig:
		return &MeterConfigRequest{}
	case mp == MultipartPortDesc:
		return &PortDescRequest{}
	case mp == MultipartFlowMonitor:
		return &FlowMonitorRequest{}
	}
	return &MultipartRequest{}
}

func newMultipartReply(v uint8, b []byte) Message {
	mp, ok := multipartKind(v, b)
	switch {
	case !ok:
	case mp == MultipartFlow:
		return &FlowStatsReply{}
	case mp == MultipartGroupDesc:
		return &GroupDescReply{}
	case mp == MultipartMeterConfig:
		return &MeterConfigReply{}
	case mp == MultipartPortDesc:
		return &PortDescReply{}
	case mp == MultipartFlowMonitor:
		return &FlowMonitorReply{}
	}
	return &MultipartReply{}
}

// ErrBadFrame is wrapped by ReadMessage's errors about a frame's header.
var ErrBadFrame = errors.New("bad OpenFlow frame")

// ReadMessage reads one frame from r: the header, then the rest of the
// length it gives. It returns the frame in buf when buf has the capacity,
// else in a new slice; either way the bytes are only valid until the next
// call with the same buf. A frame whose length is under 8, or whose version
// is 0 or (but for HELLO, which may advertise any version) above 1.5, is an
// error wrapping ErrBadFrame: the stream cannot be trusted after it. A
// stream that ends between frames gives io.EOF; one that ends inside a
// frame io.ErrUnexpectedEOF.
func ReadMessage(r io.Reader, buf []byte) ([]byte, error) {
	if cap(buf) < HeaderLen {
		buf = make([]byte, 0, 1024)
	}
	buf = buf[:HeaderLen]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	v, t, n := buf[0], Type(buf[1]), int(be.Uint16(buf[2:]))
	if n < HeaderLen {
		return nil, fmt.Errorf("%w: length %d shorter than the header", ErrBadFrame, n)
	}
	if v == 0 || (v > Version15 && t != TypeHello) {
		return nil, fmt.Errorf("%w: version %#x", ErrBadFrame, v)
	}
	if cap(buf) < n {
		nb := make([]byte, n)
		copy(nb, buf)
		buf = nb
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf[HeaderLen:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}
