package openflow

import "fmt"

// Switch configuration flags (enum ofp_config_flags) and the miss_send_len
// that asks for whole packets.
const (
	ConfigFragNormal   uint16 = 0
	ConfigFragDrop     uint16 = 1
	ConfigFragReasm    uint16 = 2
	ControllerNoBuffer uint16 = 0xffff // OFPCML_NO_BUFFER
)

// GetConfigRequest is OFPT_GET_CONFIG_REQUEST (OpenFlow 1.3.5 §7.3.2): a
// header alone.
type GetConfigRequest struct{ payloadMsg }

func (m *GetConfigRequest) AppendBinary(b []byte) ([]byte, error) {
	return m.append(b, TypeGetConfigRequest)
}
func (m *GetConfigRequest) UnmarshalBinary(b []byte) error {
	return m.unmarshal(b, TypeGetConfigRequest, "get_config_request")
}

// SwitchConfig is struct ofp_switch_config's body: flags u16 |
// miss_send_len u16.
type SwitchConfig struct {
	Flags       uint16
	MissSendLen uint16
}

const switchConfigLen = 12

func (c *SwitchConfig) append(b []byte, h *Header, t Type) ([]byte, error) {
	b, start := appendHeader(b, h, t)
	b = be.AppendUint16(b, c.Flags)
	b = be.AppendUint16(b, c.MissSendLen)
	return finish(b, start)
}

func (c *SwitchConfig) unmarshal(h *Header, b []byte, t Type, name string) error {
	if err := checkHeader(h, b, t, name); err != nil {
		return err
	}
	if len(b) != switchConfigLen {
		return fmt.Errorf("%s: %d bytes, want %d", name, len(b), switchConfigLen)
	}
	c.Flags = be.Uint16(b[8:])
	c.MissSendLen = be.Uint16(b[10:])
	return nil
}

// GetConfigReply is OFPT_GET_CONFIG_REPLY (§7.3.2, struct ofp_switch_config).
type GetConfigReply struct {
	Header
	SwitchConfig
}

func (m *GetConfigReply) AppendBinary(b []byte) ([]byte, error) {
	return m.append(b, &m.Header, TypeGetConfigReply)
}
func (m *GetConfigReply) UnmarshalBinary(b []byte) error {
	return m.unmarshal(&m.Header, b, TypeGetConfigReply, "get_config_reply")
}

// SetConfig is OFPT_SET_CONFIG (§7.3.2, struct ofp_switch_config).
type SetConfig struct {
	Header
	SwitchConfig
}

func (m *SetConfig) AppendBinary(b []byte) ([]byte, error) {
	return m.append(b, &m.Header, TypeSetConfig)
}
func (m *SetConfig) UnmarshalBinary(b []byte) error {
	return m.unmarshal(&m.Header, b, TypeSetConfig, "set_config")
}
