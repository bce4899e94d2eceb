package openflow

import "fmt"

const (
	meterModLen  = 16 // header + struct ofp_meter_mod before the bands
	meterBandLen = 16 // every band OpenFlow 1.3 defines
)

// AppendBinary writes the meter_mod (OpenFlow 1.3.5 §7.3.4.4):
//
//	header | command u16 | flags u16 | meter_id u32 | ofp_meter_band...
func (m *MeterMod) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, TypeMeterMod)
	b = be.AppendUint16(b, m.Command)
	b = be.AppendUint16(b, m.Flags)
	b = be.AppendUint32(b, m.MeterID)
	var err error
	if b, err = appendBands(b, m.Bands); err != nil {
		return b[:start], fmt.Errorf("meter_mod: %w", err)
	}
	return finish(b, start)
}

// UnmarshalBinary decodes one whole meter_mod.
func (m *MeterMod) UnmarshalBinary(b []byte) error {
	const name = "meter_mod"
	if err := checkHeader(&m.Header, b, TypeMeterMod, name); err != nil {
		return err
	}
	if len(b) < meterModLen {
		return errTruncated(name, b, HeaderLen, meterModLen-HeaderLen)
	}
	m.Command = be.Uint16(b[8:])
	m.Flags = be.Uint16(b[10:])
	m.MeterID = be.Uint32(b[12:])
	var err error
	if m.Bands, err = parseBands(b[meterModLen:]); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// appendBands writes struct ofp_meter_band_drop / _dscp_remark /
// _experimenter:
//
//	type u16 | len u16 | rate u32 | burst_size u32 | 4 bytes by type | Data
//
// where the 4 bytes are pad (drop), prec_level u8 + pad 3 (dscp_remark) or
// experimenter u32; an unknown type has only Data after burst_size.
func appendBands(b []byte, bands []MeterBand) ([]byte, error) {
	for i, band := range bands {
		start := len(b)
		b = be.AppendUint16(b, band.Type)
		b = be.AppendUint16(b, 0)
		b = be.AppendUint32(b, band.Rate)
		b = be.AppendUint32(b, band.BurstSize)
		switch band.Type {
		case MeterBandDrop:
			b = append(b, 0, 0, 0, 0)
		case MeterBandDSCPRemark:
			b = append(b, band.PrecLevel, 0, 0, 0)
		case MeterBandExperimenter:
			b = be.AppendUint32(b, band.Experimenter)
		}
		b = append(b, band.Data...)
		n := len(b) - start
		if n > 0xffff {
			return b[:start], fmt.Errorf("band[%d]: %w", i, ErrTooLong)
		}
		be.PutUint16(b[start+2:], uint16(n))
	}
	return b, nil
}

// parseBands decodes the bands that fill b.
func parseBands(b []byte) ([]MeterBand, error) {
	var bands []MeterBand
	for off, i := 0, 0; off < len(b); i++ {
		if len(b)-off < 12 {
			return nil, fmt.Errorf("band[%d]: %w", i, errTruncated("ofp_meter_band", b, off, 12))
		}
		band := MeterBand{
			Type:      be.Uint16(b[off:]),
			Rate:      be.Uint32(b[off+4:]),
			BurstSize: be.Uint32(b[off+8:]),
		}
		n := int(be.Uint16(b[off+2:]))
		min := meterBandLen
		switch band.Type {
		case MeterBandDrop, MeterBandDSCPRemark, MeterBandExperimenter:
		default:
			min = 12
		}
		if n < min || n > len(b)-off {
			return nil, fmt.Errorf("band[%d]: length %d, %d bytes left", i, n, len(b)-off)
		}
		switch band.Type {
		case MeterBandDSCPRemark:
			band.PrecLevel = b[off+12]
		case MeterBandExperimenter:
			band.Experimenter = be.Uint32(b[off+12:])
		}
		if n > min {
			band.Data = append([]byte(nil), b[off+min:off+n]...)
		}
		bands = append(bands, band)
		off += n
	}
	return bands, nil
}

// MeterConfigRequest is an OFPMP_METER_CONFIG request (OpenFlow 1.3.5
// §7.3.5.13, struct ofp_meter_multipart_request): meter_id u32 | pad 4. MeterAll asks for
// every meter.
type MeterConfigRequest struct {
	Header
	Flags   uint16
	MeterID uint32
}

func (m *MeterConfigRequest) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendMultipartHeader(b, &m.Header, TypeMultipartRequest, MultipartMeterConfig, m.Flags)
	b = be.AppendUint32(b, m.MeterID)
	return finish(append(b, 0, 0, 0, 0), start)
}

func (m *MeterConfigRequest) UnmarshalBinary(b []byte) error {
	const name = "meter_config_request"
	mp, flags, err := checkMultipart(&m.Header, b, TypeMultipartRequest, name)
	if err != nil {
		return err
	}
	if mp != MultipartMeterConfig || len(b) != multipartLen+8 {
		return fmt.Errorf("%s: multipart type %d, %d bytes", name, mp, len(b))
	}
	m.Flags = flags
	m.MeterID = be.Uint32(b[16:])
	return nil
}

// MeterConfigReply is an OFPMP_METER_CONFIG reply (OpenFlow 1.3.5
// §7.3.5.13): one part, or, from a
// Reassembler, all parts' meters. Each struct ofp_meter_config is
//
//	length u16 | flags u16 | meter_id u32 | ofp_meter_band...
type MeterConfigReply struct {
	Header
	Flags  uint16
	Meters []MeterConfig
}

func (m *MeterConfigReply) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendMultipartHeader(b, &m.Header, TypeMultipartReply, MultipartMeterConfig, m.Flags)
	for i, mc := range m.Meters {
		ms := len(b)
		b = append(b, 0, 0)
		b = be.AppendUint16(b, mc.Flags)
		b = be.AppendUint32(b, mc.MeterID)
		var err error
		if b, err = appendBands(b, mc.Bands); err != nil {
			return b[:start], fmt.Errorf("meter_config_reply: meter[%d]: %w", i, err)
		}
		if len(b)-ms > 0xffff {
			return b[:start], fmt.Errorf("meter_config_reply: meter[%d]: %w", i, ErrTooLong)
		}
		be.PutUint16(b[ms:], uint16(len(b)-ms))
	}
	return finish(b, start)
}

func (m *MeterConfigReply) UnmarshalBinary(b []byte) error {
	const name = "meter_config_reply"
	mp, flags, err := checkMultipart(&m.Header, b, TypeMultipartReply, name)
	if err != nil {
		return err
	}
	if mp != MultipartMeterConfig {
		return fmt.Errorf("%s: multipart type %d", name, mp)
	}
	m.Flags, m.Meters = flags, nil
	for off, i := multipartLen, 0; off < len(b); i++ {
		if len(b)-off < 8 {
			return fmt.Errorf("%s: meter[%d]: %w", name, i, errTruncated("ofp_meter_config", b, off, 8))
		}
		n := int(be.Uint16(b[off:]))
		if n < 8 || n > len(b)-off {
			return fmt.Errorf("%s: meter[%d]: length %d, %d bytes left", name, i, n, len(b)-off)
		}
		mc := MeterConfig{Flags: be.Uint16(b[off+2:]), MeterID: be.Uint32(b[off+4:])}
		if mc.Bands, err = parseBands(b[off+8 : off+n]); err != nil {
			return fmt.Errorf("%s: meter[%d]: %w", name, i, err)
		}
		m.Meters = append(m.Meters, mc)
		off += n
	}
	return nil
}
