package openflow

import (
	"fmt"

	"github.com/ofactor/ofactor/openflow/ofperr"
)

// Error type values with a framing of their own.
const (
	ErrTypeExperimenter uint16 = 0xffff // OFPET_EXPERIMENTER (OpenFlow 1.2+)
	ErrTypeNXVendor     uint16 = 0xb0c2 // NXET_VENDOR (OVS, OpenFlow 1.0/1.1)
)

// Error is OFPT_ERROR (OpenFlow 1.3.5 §7.4.4): struct ofp_error_msg
//
//	header | type u16 | code u16 | data
//
// or, when ErrType is 0xffff, struct ofp_error_experimenter_msg
//
//	header | type u16 = 0xffff | exp_type u16 | experimenter u32 | data
//
// with exp_type kept in Code. Data is the offending request as the switch
// sent it back (OVS sends it whole, others at least 64 bytes of it).
type Error struct {
	Header
	ErrType      uint16
	Code         uint16
	Experimenter uint32 // only when ErrType is ErrTypeExperimenter
	Data         []byte
}

// NewError answers req with the error e (as looked up for req's version
// with ofperr.NamedFor) and the offending request's bytes.
func NewError(req Header, e *ofperr.Error, request []byte) *Error {
	return &Error{
		Header:       Header{Version: req.Version, XID: req.XID},
		ErrType:      e.Type,
		Code:         e.Code,
		Experimenter: e.Experimenter,
		Data:         request,
	}
}

func (m *Error) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, TypeError)
	b = be.AppendUint16(b, m.ErrType)
	b = be.AppendUint16(b, m.Code)
	if m.ErrType == ErrTypeExperimenter {
		b = be.AppendUint32(b, m.Experimenter)
	}
	b = append(b, m.Data...)
	return finish(b, start)
}

func (m *Error) UnmarshalBinary(b []byte) error {
	const name = "error"
	if err := checkHeader(&m.Header, b, TypeError, name); err != nil {
		return err
	}
	if len(b) < 12 {
		return errTruncated(name, b, HeaderLen, 4)
	}
	m.ErrType = be.Uint16(b[8:])
	m.Code = be.Uint16(b[10:])
	off := 12
	m.Experimenter = 0
	if m.ErrType == ErrTypeExperimenter {
		if len(b) < 16 {
			return errTruncated(name+": experimenter", b, 12, 4)
		}
		m.Experimenter = be.Uint32(b[12:])
		off = 16
	}
	m.Data = append([]byte(nil), b[off:]...)
	return nil
}

// Err names the error the way OVS does. OVS's OpenFlow 1.0/1.1 form of an
// extension error (NXET_VENDOR with a struct nx_vendor_error leading the
// data) is unwrapped.
func (m *Error) Err() *ofperr.Error {
	if m.ErrType == ErrTypeNXVendor && m.Code == 0 && len(m.Data) >= 8 {
		return ofperr.Decode(m.Version, be.Uint16(m.Data[4:]), be.Uint16(m.Data[6:]), be.Uint32(m.Data))
	}
	return ofperr.Decode(m.Version, m.ErrType, m.Code, m.Experimenter)
}

// Request returns the header of the offending request in Data, for
// matching the error to what caused it (the error's own xid is normally the
// request's too). Only the first 8 bytes of Data need be there.
func (m *Error) Request() (Header, error) {
	d := m.Data
	if m.ErrType == ErrTypeNXVendor && m.Code == 0 && len(d) >= 8 {
		d = d[8:]
	}
	var h Header
	if err := h.UnmarshalBinary(d); err != nil {
		return h, fmt.Errorf("error: request: %w", err)
	}
	return h, nil
}

// RequestMessage decodes the offending request in Data, when the switch
// sent it back whole.
func (m *Error) RequestMessage() (Message, error) {
	h, err := m.Request()
	if err != nil {
		return nil, err
	}
	d := m.Data
	if m.ErrType == ErrTypeNXVendor && m.Code == 0 {
		d = d[8:]
	}
	if int(h.Length) > len(d) {
		return nil, fmt.Errorf("error: request: truncated: length %d, %d bytes kept", h.Length, len(d))
	}
	return Decode(d[:h.Length])
}
