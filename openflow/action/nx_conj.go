package action

import (
	"fmt"
	"strconv"
	"strings"
)

// Conjunction is NXAST_CONJUNCTION (struct nx_action_conjunction): this
// flow is clause Clause (0-based) of NClauses of conjunctive match ID.
type Conjunction struct {
	ID       uint32
	Clause   uint8 // 0-based on the wire; printed 1-based
	NClauses uint8
}

func decodeConjunction(ctx Context, b []byte) (Action, error) {
	if len(b) != 16 {
		return nil, nxaError(ctx, "conjunction", "OFPBAC_BAD_LEN")
	}
	a := &Conjunction{Clause: b[10], NClauses: b[11], ID: be.Uint32(b[12:])}
	if a.NClauses < 2 || a.NClauses > 64 || a.Clause >= a.NClauses {
		return nil, nxaError(ctx, "conjunction", "NXBAC_BAD_CONJUNCTION")
	}
	return a, nil
}

func (a *Conjunction) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, nxastConjunction)
	b = append(b, a.Clause, a.NClauses)
	b = be.AppendUint32(b, a.ID)
	return finishAction(b, start)
}

func (a *Conjunction) AppendText(b []byte) ([]byte, error) {
	return fmt.Appendf(b, "conjunction(%d,%d/%d)", a.ID, int(a.Clause)+1, a.NClauses), nil
}

func parseConjunction(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	const syntax = `"conjunction" syntax is "conjunction(id,i/n)"`
	id, rest, ok := strings.Cut(arg, ",")
	clause, n, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		return nil, nxaSyntax(arg, syntax)
	}
	idv, err1 := strconv.ParseUint(strings.TrimSpace(id), 0, 32)
	cv, err2 := strconv.ParseUint(strings.TrimSpace(clause), 10, 8)
	nv, err3 := strconv.ParseUint(strings.TrimSpace(n), 10, 8)
	switch {
	case err1 != nil || err2 != nil || err3 != nil:
		return nil, nxaSyntax(arg, syntax)
	case nv < 2:
		return nil, nxaSyntax(arg, "conjunction must have at least 2 clauses")
	case nv > 64:
		return nil, nxaSyntax(arg, "conjunction must have at most 64 clauses")
	case cv < 1:
		return nil, nxaSyntax(arg, "clause index must be positive")
	case cv > nv:
		return nil, nxaSyntax(arg, "clause index must be less than or equal to number of clauses")
	}
	return &Conjunction{ID: uint32(idv), Clause: uint8(cv - 1), NClauses: uint8(nv)}, nil
}

// Sample is NXAST_SAMPLE, NXAST_SAMPLE2 and NXAST_SAMPLE3 (struct
// nx_action_sample, struct nx_action_sample2): IPFIX sampling.
type Sample struct {
	Probability    uint16
	CollectorSetID uint32
	ObsDomainID    uint32
	ObsPointID     uint32
	SamplingPort   uint16 // 0xffff (OFPP_NONE): none
	Direction      uint8  // 0 default, 1 ingress, 2 egress
	Subtype        uint16 // the wire form it came in; 0 picks the smallest
}

func decodeSample(ctx Context, b []byte) (Action, error) {
	sub := be.Uint16(b[8:])
	want := 32
	if sub == nxastSample {
		want = 24
	}
	if len(b) != want {
		return nil, nxaError(ctx, "sample", "OFPBAC_BAD_LEN")
	}
	a := &Sample{
		Probability:    be.Uint16(b[10:]),
		CollectorSetID: be.Uint32(b[12:]),
		ObsDomainID:    be.Uint32(b[16:]),
		ObsPointID:     be.Uint32(b[20:]),
		SamplingPort:   0xffff,
		Subtype:        sub,
	}
	if sub != nxastSample {
		a.SamplingPort = be.Uint16(b[24:])
	}
	if sub == nxastSample3 {
		if !allZero(b[27:32]) {
			return nil, nxaError(ctx, "sample", "NXBRC_MUST_BE_ZERO")
		}
		a.Direction = b[26]
		if a.Direction > 2 {
			return nil, nxaError(ctx, "sample", "OFPBAC_BAD_ARGUMENT")
		}
	}
	if a.Probability == 0 {
		return nil, nxaError(ctx, "sample", "OFPBAC_BAD_ARGUMENT")
	}
	return a, nil
}

func (a *Sample) AppendBinary(b []byte) ([]byte, error) {
	sub := uint16(nxastSample)
	switch {
	case a.Subtype == nxastSample3 || a.Direction != 0:
		sub = nxastSample3
	case a.Subtype == nxastSample2 || a.SamplingPort != 0xffff:
		sub = nxastSample2
	}
	b, start := appendNXHeader(b, sub)
	b = be.AppendUint16(b, a.Probability)
	b = be.AppendUint32(b, a.CollectorSetID)
	b = be.AppendUint32(b, a.ObsDomainID)
	b = be.AppendUint32(b, a.ObsPointID)
	if sub != nxastSample {
		b = be.AppendUint16(b, a.SamplingPort)
		b = append(b, a.Direction)
	}
	return finishAction(b, start)
}

func (a *Sample) AppendText(b []byte) ([]byte, error) {
	b = fmt.Appendf(b, "sample(probability=%d,collector_set_id=%d,obs_domain_id=%d,obs_point_id=%d",
		a.Probability, a.CollectorSetID, a.ObsDomainID, a.ObsPointID)
	if a.SamplingPort != 0xffff {
		b = append(b, ",sampling_port="...)
		b = appendPort(b, a.SamplingPort)
	}
	switch a.Direction {
	case 1:
		b = append(b, ",ingress"...)
	case 2:
		b = append(b, ",egress"...)
	}
	return append(b, ')'), nil
}

func parseSample(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	a := &Sample{SamplingPort: 0xffff}
	kvs, err := nxaKeyValues(arg)
	if err != nil {
		return nil, err
	}
	for _, kv := range kvs {
		var err error
		switch kv.key {
		case "probability":
			var v uint64
			v, err = strconv.ParseUint(kv.value, 0, 16)
			a.Probability = uint16(v)
			if err == nil && v == 0 {
				err = fmt.Errorf("invalid probability value %q", kv.value)
			}
		case "collector_set_id":
			a.CollectorSetID, err = nxaUint32(kv.value)
		case "obs_domain_id":
			a.ObsDomainID, err = nxaUint32(kv.value)
		case "obs_point_id":
			a.ObsPointID, err = nxaUint32(kv.value)
		case "sampling_port":
			var ok bool
			if a.SamplingPort, ok = nxaParsePort(ctx, kv.value); !ok {
				err = fmt.Errorf("%s: unknown port", kv.value)
			}
		case "ingress":
			a.Direction = 1
		case "egress":
			a.Direction = 2
		default:
			err = fmt.Errorf("invalid key %q in \"sample\" argument", kv.key)
		}
		if err != nil {
			return nil, kv.shift(nxaSyntax(kv.value, err.Error()))
		}
	}
	if a.Probability == 0 {
		return nil, nxaSyntax(arg, `non-zero "probability" must be specified on sample`)
	}
	return a, nil
}
