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
// returns it) into its typed form: *Hello, *Error, *EchoRequest, ...,
// *FlowMod, *FlowStatsReply, *BundleAdd, *TLVTableReply. Messages of types
// it does not decode are *Unknown, experimenter messages it does not
// decode *Experimenter, multipart messages of other types
// *MultipartRequest / *MultipartReply.
//
// OpenFlow 1.0-1.2 number their types differently from 1.3: in those
// versions only the messages whose type is the same in every version
// (hello, error, echo, experimenter, features, config, port status) are
// typed; everything else is *Unknown.
func Decode(b []byte) (Message, error) { return decode(b, false) }

// DecodeShallow is Decode that leaves a flow stats reply's matches and
// instructions undecoded (FlowStatsReply.Shallow).
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
	if fs, ok := m.(*FlowStatsReply); ok {
		fs.Shallow = shallow
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
		if v <= Version14 {
			return &FlowRemoved{}
		}
	case TypeFlowMod:
		return &FlowMod{}
	case TypeGroupMod:
		if v <= Version14 {
			return &GroupMod{}
		}
	case TypeMeterMod:
		return &MeterMod{}
	case TypeBarrierRequest:
		return &BarrierRequest{}
	case TypeBarrierReply:
		return &BarrierReply{}
	case TypeMultipartRequest:
		return newMultipartRequest(v, b)
	case TypeMultipartReply:
		return newMultipartReply(v, b)
	case TypeBundleControl:
		if v >= Version14 {
			return &BundleControl{}
		}
	case TypeBundleAddMessage:
		if v >= Version14 {
			return &BundleAdd{}
		}
	}
	return &Unknown{}
}

func newExperimenter(v uint8, b []byte) Message {
	if len(b) < experimenterHeaderLen {
		return &Unknown{}
	}
	exp, sub := be.Uint32(b[8:]), be.Uint32(b[12:])
	switch {
	case exp == ExperimenterNicira && sub == NXTTLVTableMod:
		return &TLVTableMod{}
	case exp == ExperimenterNicira && sub == NXTTLVTableRequest:
		return &TLVTableRequest{}
	case exp == ExperimenterNicira && sub == NXTTLVTableReply:
		return &TLVTableReply{}
	case exp == ExperimenterONF && sub == ONFTBundleControl && v == Version13:
		return &BundleControl{}
	case exp == ExperimenterONF && sub == ONFTBundleAddMessage && v == Version13:
		return &BundleAdd{}
	}
	return &Experimenter{}
}

func multipartType(b []byte) (uint16, bool) {
	if len(b) < multipartLen {
		return 0, false
	}
	return be.Uint16(b[8:]), true
}

func newMultipartRequest(v uint8, b []byte) Message {
	mp, ok := multipartType(b)
	switch {
	case !ok:
	case mp == MultipartFlow:
		return &FlowStatsRequest{}
	case mp == MultipartGroupDesc && v <= Version14:
		return &GroupDescRequest{}
	case mp == MultipartMeterConfig:
		return &MeterConfigRequest{}
	}
	return &MultipartRequest{}
}

func newMultipartReply(v uint8, b []byte) Message {
	mp, ok := multipartType(b)
	switch {
	case !ok:
	case mp == MultipartFlow && v <= Version14:
		return &FlowStatsReply{}
	case mp == MultipartGroupDesc && v <= Version14:
		return &GroupDescReply{}
	case mp == MultipartMeterConfig:
		return &MeterConfigReply{}
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
