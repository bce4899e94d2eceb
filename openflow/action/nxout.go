package action

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// OutputReg is NXAST_OUTPUT_REG (15, struct nx_action_output_reg:
// ofs_nbits u16 | src u32 | max_len u16 | zero 6): output to the port in a
// subfield (output:NXM_NX_REG1[5..10]). Reg2 marks NXAST_OUTPUT_REG2 (32,
// struct nx_action_output_reg2: ofs_nbits u16 | max_len u16 | src header |
// zero), which prints the same; OVS keeps the form it decoded, and so does
// this type, so that the bytes round-trip.
type OutputReg struct {
	Src    Subfield
	MaxLen uint16
	Reg2   bool
}

func (a *OutputReg) AppendBinary(b []byte) ([]byte, error) {
	if a.Reg2 {
		b, start := appendNXHeader(b, nxOutputReg2)
		b = be.AppendUint16(b, ofsNbits(a.Src.Ofs, a.Src.Bits))
		b = be.AppendUint16(b, a.MaxLen)
		b = a.Src.appendHeader(b)
		for len(b)-start < 24 {
			b = append(b, 0)
		}
		return finishAction(b, start)
	}
	b, start := appendNXHeader(b, nxOutputReg)
	b = be.AppendUint16(b, ofsNbits(a.Src.Ofs, a.Src.Bits))
	b = be.AppendUint32(b, uint32(a.Src.Header))
	b = be.AppendUint16(b, a.MaxLen)
	return finishAction(append(b, 0, 0, 0, 0, 0, 0), start)
}

func (a *OutputReg) AppendText(b []byte) ([]byte, error) {
	return a.Src.appendText(append(b, "output:"...)), nil
}

func decodeOutputReg(ctx Context, b []byte) (Action, error) {
	if be.Uint16(b[8:]) == nxOutputReg2 {
		// nx_action_output_reg2: ofs_nbits u16 | max_len u16 | header
		// (4 or 8 bytes) | zeros.
		if len(b) < 24 {
			return nil, badLen("output_reg2")
		}
		h, exp, n, err := pullField(b[14:])
		if err != nil {
			return nil, fmt.Errorf("output_reg2: %w", err)
		}
		if !allZero(b[14+n:]) {
			return nil, fmt.Errorf("output_reg2: %w", ofpErr("NXBRC_MUST_BE_ZERO"))
		}
		sf := subfieldOf(uint32(h), be.Uint16(b[10:]))
		sf.Experimenter = exp
		return &OutputReg{Src: sf, MaxLen: be.Uint16(b[12:]), Reg2: true}, nil
	}
	if len(b) != 24 {
		return nil, badLen("output_reg")
	}
	if !allZero(b[18:]) {
		return nil, badArg("output_reg: nonzero reserved bytes")
	}
	return &OutputReg{Src: subfieldOf(be.Uint32(b[12:]), be.Uint16(b[10:])), MaxLen: be.Uint16(b[16:])}, nil
}

// OutputTrunc is NXAST_OUTPUT_TRUNC (39, struct nx_action_output_trunc:
// port u16 | max_len u32): output(port=P,max_len=N).
type OutputTrunc struct {
	Port   uint16
	MaxLen uint32
}

func (a *OutputTrunc) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, nxOutputTrunc)
	return finishAction(be.AppendUint32(be.AppendUint16(b, a.Port), a.MaxLen), start)
}

func (a *OutputTrunc) AppendText(b []byte) ([]byte, error) {
	b = appendPort(append(b, "output(port="...), a.Port)
	return fmt.Appendf(b, ",max_len=%d)", a.MaxLen), nil
}

func decodeOutputTrunc(ctx Context, b []byte) (Action, error) {
	if len(b) != 16 {
		return nil, badLen("output_trunc")
	}
	return &OutputTrunc{Port: be.Uint16(b[10:]), MaxLen: be.Uint32(b[12:])}, nil
}

// parseOutput is parse_OUTPUT: output(port=P,max_len=N) when the text
// says "port" and "max_len", else output:PORT (to the controller with
// max_len 65535, the whole packet), else output:SUBFIELD (max_len 65535).
func parseOutput(ctx Context, kw, s string, hasArg bool) (Action, error) {
	if strings.Contains(s, "port") && strings.Contains(s, "max_len") {
		a := &OutputTrunc{}
		for _, p := range splitArgs(s) {
			k, v, _ := splitKV(p.s)
			var err error
			switch k {
			case "port":
				a.Port, err = parsePort(ctx, v)
			case "max_len":
				var n uint64
				n, err = parseNum(v, 32)
				a.MaxLen = uint32(n)
			default:
				err = fmt.Errorf("unknown argument")
			}
			if err != nil {
				return nil, &SyntaxError{Offset: p.off, Token: p.s, Msg: err.Error()}
			}
		}
		return a, nil
	}
	p, perr := parsePort(ctx, s)
	if perr == nil {
		a := &Output{Port: port32(p)}
		if p == portController {
			a.MaxLen = 0xffff
		}
		return a, nil
	}
	sf, err := parseSubfieldCtx(ctx, s)
	if err != nil {
		var pe *oxm.PortNameError
		if errors.As(perr, &pe) {
			return nil, fmt.Errorf("%s: output to unknown port: %w", s, perr)
		}
		return nil, fmt.Errorf("%s: output to unknown port", s)
	}
	return &OutputReg{Src: sf, MaxLen: 0xffff, Reg2: sf.Header.Class() == 0xffff}, nil
}

// Stack is NXAST_STACK_PUSH (27) and NXAST_STACK_POP (28) (struct
// nx_action_stack: offset u16 | field u32 | n_bits u16 | zero 6):
// push:SUBFIELD, pop:SUBFIELD.
type Stack struct {
	Field Subfield
	Pop   bool
}

func (a *Stack) AppendBinary(b []byte) ([]byte, error) {
	sub := uint16(nxStackPush)
	if a.Pop {
		sub = nxStackPop
	}
	b, start := appendNXHeader(b, sub)
	b = be.AppendUint16(b, uint16(a.Field.Ofs))
	b = a.Field.appendHeader(b)
	b = be.AppendUint16(b, uint16(a.Field.Bits))
	for len(b)-start < 24 {
		b = append(b, 0)
	}
	return finishAction(b, start)
}

func (a *Stack) AppendText(b []byte) ([]byte, error) {
	if a.Pop {
		b = append(b, "pop:"...)
	} else {
		b = append(b, "push:"...)
	}
	return a.Field.appendText(b), nil
}

func decodeStack(ctx Context, b []byte) (Action, error) {
	if len(b) != 24 {
		return nil, badLen("stack")
	}
	h, exp, n, err := pullField(b[12:])
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	if 12+n+2 > len(b) {
		return nil, fmt.Errorf("stack: %w", ofpErr("OFPBMC_BAD_LEN"))
	}
	if !allZero(b[12+n+2:]) {
		return nil, fmt.Errorf("stack: %w", ofpErr("NXBRC_MUST_BE_ZERO"))
	}
	return &Stack{
		Field: Subfield{Header: h, Experimenter: exp, Ofs: int(be.Uint16(b[10:])), Bits: int(be.Uint16(b[12+n:]))},
		Pop:   be.Uint16(b[8:]) == nxStackPop,
	}, nil
}

func parseStack(ctx Context, kw, s string, hasArg bool) (Action, error) {
	sf, err := parseSubfieldCtx(ctx, s)
	if err != nil {
		return nil, err
	}
	return &Stack{Field: sf, Pop: kw == "pop"}, nil
}

// parseEnqueue is enqueue:PORT:QUEUE (or enqueue(PORT,QUEUE)), OpenFlow
// 1.0's OFPAT10_ENQUEUE, which OVS writes in 1.1 and later as
// set_queue:QUEUE, output:PORT (max_len 0xffff) and pop_queue, and then
// prints that way (encode_ENQUEUE).
func parseEnqueue(ctx Context, kw, s string, hasArg bool) (Action, error) {
	if ctx.Version == 1 {
		return nil, fmt.Errorf("enqueue is not supported in OpenFlow 1.0 by this codec")
	}
	port, queue, ok := strings.Cut(s, ":")
	if !ok {
		port, queue, ok = strings.Cut(s, ",")
	}
	if !ok {
		if i := strings.IndexByte(s, 'q'); i >= 0 {
			port, queue, ok = s[:i], s[i+1:], true
		}
	}
	if !ok {
		return nil, fmt.Errorf("enqueue needs PORT:QUEUE")
	}
	p, err := parsePort(ctx, port)
	if err != nil {
		return nil, err
	}
	q, err := parseNum(queue, 32)
	if err != nil {
		return nil, fmt.Errorf("enqueue: bad queue %q", queue)
	}
	setQueue, err := parseStd(21)(ctx, "set_queue", strconv.FormatUint(q, 10), true)
	if err != nil {
		return nil, err
	}
	popQueue, err := parsers["pop_queue"](ctx, "pop_queue", "", false)
	if err != nil {
		return nil, err
	}
	return actionSeq{setQueue, &Output{Port: port32(p), MaxLen: 0xffff}, popQueue}, nil
}

func init() {
	registerParser("enqueue", parseEnqueue)
	registerNX(nxOutputReg, decodeOutputReg)
	registerNX(nxOutputReg2, decodeOutputReg)
	registerNX(nxOutputTrunc, decodeOutputTrunc)
	registerParser("output", parseOutput)
	registerNX(nxStackPush, decodeStack)
	registerNX(nxStackPop, decodeStack)
	registerParser("push", parseStack)
	registerParser("pop", parseStack)
}

func (a *OutputReg) validate(ctx Context) error { return a.Src.check() }

// validate: OVS refuses to truncate below an Ethernet header (14 bytes).
func (a *OutputTrunc) validate(ctx Context) error {
	if a.MaxLen < 14 {
		return badArg("output_trunc: max_len %d", a.MaxLen)
	}
	return nil
}

func (a *Stack) validate(ctx Context) error {
	if a.Field.info() == nil {
		return fmt.Errorf("stack: unknown field 0x%08x: %w", uint32(a.Field.Header), ofpErr("OFPBMC_BAD_FIELD"))
	}
	if a.Pop {
		return a.Field.checkDst()
	}
	return a.Field.check()
}
