package action

import (
	"fmt"
	"strconv"
	"strings"
)

// Controller sends the packet to the controller with more than a max_len:
// NXAST_CONTROLLER (20, struct nx_action_controller: max_len u16 |
// controller_id u16 | reason u8 | pad) or, with userdata, pause or a meter,
// or when V2, NXAST_CONTROLLER2 (37, struct nx_action_controller2: zero 6 |
// properties NXAC2PT_MAX_LEN 0, CONTROLLER_ID 1, REASON 2, USERDATA 3,
// PAUSE 4, METER_ID 5, each padded to 8).
type Controller struct {
	MaxLen   uint16 // 0xffff: the whole packet
	ID       uint16
	Reason   uint8 // OFPR_*: 1 is action
	Userdata []byte
	Pause    bool
	MeterID  uint32 // 0: none
	V2       bool
}

var reasonNames = []string{"no_match", "action", "invalid_ttl", "action_set", "group", "packet_out", "explicit_miss", "implicit_miss"}

func (a *Controller) v2() bool { return a.V2 || len(a.Userdata) > 0 || a.Pause || a.MeterID != 0 }

func (a *Controller) AppendBinary(b []byte) ([]byte, error) {
	if !a.v2() {
		b, start := appendNXHeader(b, nxController)
		b = be.AppendUint16(be.AppendUint16(b, a.MaxLen), a.ID)
		return finishAction(append(b, a.Reason), start)
	}
	b, start := appendNXHeader(b, nxController2)
	b = append(b, 0, 0, 0, 0, 0, 0)
	prop := func(t uint16, v []byte) {
		p := len(b)
		b = be.AppendUint16(b, t)
		b = be.AppendUint16(b, uint16(4+len(v)))
		b = append(b, v...)
		for (len(b)-p)%8 != 0 {
			b = append(b, 0)
		}
	}
	if a.MaxLen != 0xffff {
		prop(0, []byte{byte(a.MaxLen >> 8), byte(a.MaxLen), 0, 0}) // ofpprop_put_be16 pads to 4
	}
	if a.ID != 0 {
		prop(1, []byte{byte(a.ID >> 8), byte(a.ID), 0, 0})
	}
	if a.Reason != 1 {
		prop(2, []byte{a.Reason})
	}
	if len(a.Userdata) > 0 {
		prop(3, a.Userdata)
	}
	if a.Pause {
		prop(4, nil)
	}
	if a.MeterID != 0 {
		prop(5, be.AppendUint32(nil, a.MeterID))
	}
	return finishAction(b, start)
}

// AppendText is format_CONTROLLER.
func (a *Controller) AppendText(b []byte) ([]byte, error) {
	if a.Reason == 1 && a.ID == 0 && len(a.Userdata) == 0 && !a.Pause && a.MeterID == 0 {
		return fmt.Appendf(b, "CONTROLLER:%d", a.MaxLen), nil
	}
	b = append(b, "controller("...)
	if a.Reason != 1 {
		if int(a.Reason) < len(reasonNames) {
			b = fmt.Appendf(b, "reason=%s,", reasonNames[a.Reason])
		} else {
			b = fmt.Appendf(b, "reason=%d,", a.Reason)
		}
	}
	if a.MaxLen != 0xffff {
		b = fmt.Appendf(b, "max_len=%d,", a.MaxLen)
	}
	if a.ID != 0 {
		b = fmt.Appendf(b, "id=%d,", a.ID)
	}
	if len(a.Userdata) > 0 {
		b = append(appendHexDots(append(b, "userdata="...), a.Userdata), ',')
	}
	if a.Pause {
		b = append(b, "pause,"...)
	}
	if a.MeterID != 0 {
		b = fmt.Appendf(b, "meter_id=%d,", a.MeterID)
	}
	return append(b[:len(b)-1], ')'), nil
}

func decodeController(ctx Context, b []byte) (Action, error) {
	if len(b) != 16 {
		return nil, badLen("controller")
	}
	return &Controller{MaxLen: be.Uint16(b[10:]), ID: be.Uint16(b[12:]), Reason: b[14]}, nil
}

func decodeController2(ctx Context, b []byte) (Action, error) {
	a := &Controller{MaxLen: 0xffff, Reason: 1, V2: true}
	if !allZero(b[10:16]) {
		return nil, fmt.Errorf("controller2: %w", ofpErr("NXBRC_MUST_BE_ZERO"))
	}
	propLen := func(what string) error {
		return fmt.Errorf("controller2: %s: %w", what, ofpErr("OFPBPC_BAD_LEN"))
	}
	for p := b[16:]; len(p) > 0; {
		if len(p) < 4 {
			return nil, propLen("truncated property")
		}
		t, n := be.Uint16(p), int(be.Uint16(p[2:]))
		padded := (n + 7) &^ 7
		if n < 4 || padded > len(p) {
			return nil, propLen(fmt.Sprintf("property length %d", n))
		}
		v := p[4:n]
		// ofpprop_parse_u16/u32 take any payload that is long enough;
		// ofpprop_parse_u8 exactly one byte.
		if w, ok := map[uint16]int{0: 2, 1: 2, 5: 4}[t]; ok && len(v) < w || t == 2 && len(v) != 1 {
			return nil, propLen(fmt.Sprintf("property %d of %d bytes", t, len(v)))
		}
		switch t {
		case 0:
			a.MaxLen = be.Uint16(v)
		case 1:
			a.ID = be.Uint16(v)
		case 2:
			a.Reason = v[0]
		case 3:
			a.Userdata = append([]byte{}, v...)
		case 4:
			a.Pause = true
		case 5:
			a.MeterID = be.Uint32(v)
		default:
			return nil, fmt.Errorf("controller2: property %d: %w", t, ofpErr("OFPBPC_BAD_TYPE"))
		}
		p = p[padded:]
	}
	return a, nil
}

// parseController is parse_CONTROLLER: with nothing beyond max_len it is
// an OFPAT_OUTPUT to CONTROLLER, as OVS writes it.
func parseController(ctx Context, kw, s string, hasArg bool) (Action, error) {
	a := &Controller{MaxLen: 0xffff, Reason: 1}
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := parseNum(s, 16)
		if err != nil {
			return nil, err
		}
		a.MaxLen = uint16(n)
	} else if s != "" {
		for _, p := range splitArgs(s) {
			if err := a.parseArg(p.s); err != nil {
				return nil, &SyntaxError{Offset: p.off, Token: p.s, Msg: err.Error()}
			}
		}
	}
	if a.Reason == 1 && a.ID == 0 && !a.v2() {
		return &Output{Port: port32(portController), MaxLen: a.MaxLen}, nil
	}
	return a, nil
}

func (a *Controller) parseArg(s string) error {
	k, v, _ := splitKV(s)
	var err error
	var n uint64
	switch k {
	case "reason":
		i := 0
		for i < len(reasonNames) && reasonNames[i] != v {
			i++
		}
		if i == len(reasonNames) {
			return fmt.Errorf("unknown reason")
		}
		a.Reason = uint8(i)
	case "max_len":
		n, err = parseNum(v, 16)
		a.MaxLen = uint16(n)
	case "id":
		n, err = parseNum(v, 16)
		a.ID = uint16(n)
	case "userdata":
		a.Userdata, err = parseHexDots(v)
	case "pause":
		a.Pause = true
	case "meter_id":
		n, err = strconv.ParseUint(v, 10, 32)
		a.MeterID = uint32(n)
	default:
		return fmt.Errorf("unknown controller argument")
	}
	return err
}

func init() {
	registerNX(nxController, decodeController)
	registerNX(nxController2, decodeController2)
	registerParser("controller", parseController)
}
