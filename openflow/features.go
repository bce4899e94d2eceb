package openflow

// FeaturesReply is OFPT_FEATURES_REPLY (OpenFlow 1.3.5 §7.3.1, struct
// ofp_switch_features):
//
//	header | datapath_id u64 | n_buffers u32 | n_tables u8 |
//	auxiliary_id u8 | pad 2 | capabilities u32 | reserved u32 | ports
//
// OpenFlow 1.0-1.2 call reserved "actions" (1.0) and follow it with the
// ports (struct ofp_phy_port / ofp_port), kept raw in Ports; 1.3+ has none.
type FeaturesReply struct {
	Header
	DatapathID   uint64
	NBuffers     uint32
	NTables      uint8
	AuxiliaryID  uint8
	Capabilities uint32
	Reserved     uint32
	Ports        []byte
}

const featuresReplyLen = 32

func (m *FeaturesReply) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, TypeFeaturesReply)
	b = be.AppendUint64(b, m.DatapathID)
	b = be.AppendUint32(b, m.NBuffers)
	b = append(b, m.NTables, m.AuxiliaryID, 0, 0)
	b = be.AppendUint32(b, m.Capabilities)
	b = be.AppendUint32(b, m.Reserved)
	b = append(b, m.Ports...)
	return finish(b, start)
}

func (m *FeaturesReply) UnmarshalBinary(b []byte) error {
	const name = "features_reply"
	if err := checkHeader(&m.Header, b, TypeFeaturesReply, name); err != nil {
		return err
	}
	if len(b) < featuresReplyLen {
		return errTruncated(name, b, HeaderLen, featuresReplyLen-HeaderLen)
	}
	m.DatapathID = be.Uint64(b[8:])
	m.NBuffers = be.Uint32(b[16:])
	m.NTables, m.AuxiliaryID = b[20], b[21]
	m.Capabilities = be.Uint32(b[24:])
	m.Reserved = be.Uint32(b[28:])
	m.Ports = nil
	if len(b) > featuresReplyLen {
		m.Ports = append([]byte(nil), b[featuresReplyLen:]...)
	}
	return nil
}
