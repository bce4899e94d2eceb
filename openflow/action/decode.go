package action

// Decoding framework, for the files of each action family.
//
// DecodeList splits an action list into actions by their length fields and
// hands each, exactly, to the decoder registered for it:
//
//   - standard actions (type != 0xffff) by OFPAT type:       registerOF(type, f)
//   - Nicira actions (experimenter 0x00002320) by subtype:    registerNX(subtype, f)
//   - ONF actions (experimenter 0x4f4e4600) by exp_type:      registerONF(expType, f)
//
// A decodeFunc gets the whole action (header included; len(b) is the length
// field, a multiple of 8, at least 8 for standard and 16 for experimenter
// actions). It returns (nil, nil) for an action it does not know in
// ctx.Version, which DecodeList then keeps as *Raw, as it does for any
// action with no decoder. It returns an error for a known action that is
// malformed, preferably wrapping an ofperr error (use badLen, badArg or
// ofpErr); DecodeList adds "action[i]: " in front.
//
// Helpers for decoders and encoders of Nicira actions:
//
//	b, start := appendNXHeader(b, subtype) // type 0xffff, len 0, vendor, subtype
//	... append the body ...
//	b, err := finishAction(b, start)        // zero-pad to 8, write len
//	body := nxBody(b)                        // b[10:]: what follows the subtype
//
// appendONFHeader and onfBody do the same for ONF actions (exp_type u16 and
// 2 bytes of padding). appendOFHeader starts a standard action.
//
// Subfields (NXM_NX_REG0[0..15]) are the Subfield type: subfieldOf(header,
// ofs_nbits) decodes one, (Subfield).appendText writes it with the NXM name,
// parseSubfield / parseSubfieldCtx read it, (Subfield).check and checkDst
// are mf_check_src / mf_check_dst, lookupField(header) finds a field as OVS
// does (length checked), nxmHeader(h) gives the NXM header OVS writes for a
// field, ofsNbits / splitOfsNbits pack nxm_encode_ofs_nbits.
//
// Values: appendValue(b, info, value, mask) and parseValue(ctx, info, s)
// (alias parseValueCtx) write and read a field's value as ovs-ofctl does.
// Ports: appendPort (16-bit, names LOCAL, IN_PORT, ...), appendPort32,
// port16 / port32 between OpenFlow 1.0 and 1.1+ numbering, validOutPort.
//
// Validation: Validate(ctx, l) checks *Raw actions by their header and
// calls validate(ctx) on every action implementing validator. Decoders
// reject what OVS rejects at decode time when the action could not be
// written back as it came (nonzero padding, bad lengths); the rest (unknown
// fields, out-of-range subfields, ports) is left to validate, so that
// DecodeList stays lenient.

import (
	"errors"
	"fmt"

	"github.com/ofactor/ofactor/openflow/ofperr"
)

// Experimenter IDs of the extension actions.
const (
	nxVendor  = 0x00002320 // Nicira
	onfVendor = 0x4f4e4600 // Open Networking Foundation
)

// ofpErr returns the OVS error called name, even if the ofperr table does
// not know it yet (then with no encoding), so that errors.As always finds
// an *ofperr.Error with the right Name.
func ofpErr(name string) *ofperr.Error {
	if e := ofperr.Named(name); e != nil {
		return e
	}
	return &ofperr.Error{Name: name}
}

// badLen and badArg are the errors decoders return most.
func badLen(what string) error {
	return fmt.Errorf("%s: %w", what, ofpErr("OFPBAC_BAD_LEN"))
}

func badArg(format string, a ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), ofpErr("OFPBAC_BAD_ARGUMENT"))
}

// DecodeList decodes an action list. It is lenient: actions it does not
// know are kept as *Raw (Validate rejects them as OVS would); only a length
// that does not fit or a malformed known action is an error.
func DecodeList(ctx Context, b []byte) (List, error) {
	var l List
	for i := 0; len(b) > 0; i++ {
		if len(b) < 8 {
			return nil, fmt.Errorf("action[%d]: truncated header: %w", i, ofpErr("OFPBAC_BAD_LEN"))
		}
		n := int(be.Uint16(b[2:]))
		if n < 8 || n%8 != 0 || n > len(b) {
			code := "OFPBAC_BAD_LEN"
			if t := be.Uint16(b); t != 0xffff && ofDecoders[t] == nil {
				code = "OFPBAC_BAD_TYPE" // OVS looks the type up first
			}
			return nil, fmt.Errorf("action[%d]: length %d of %d: %w", i, n, len(b), ofpErr(code))
		}
		a, err := decodeOne(ctx, b[:n])
		if err != nil {
			return nil, fmt.Errorf("action[%d]: %w", i, err)
		}
		l = append(l, a)
		b = b[n:]
	}
	return l, nil
}

// decodeOne decodes one action of exactly len(b) bytes.
func decodeOne(ctx Context, b []byte) (Action, error) {
	var f decodeFunc
	switch t := be.Uint16(b); {
	case t != 0xffff:
		f = ofDecoders[t]
	case len(b) < 16:
		// Every experimenter action OVS knows is at least 16 bytes.
	case be.Uint32(b[4:]) == nxVendor:
		f = nxDecoders[be.Uint16(b[8:])]
	case be.Uint32(b[4:]) == onfVendor:
		f = onfDecoders[be.Uint16(b[8:])]
	}
	if f != nil {
		a, err := f(ctx, b)
		if err != nil || a != nil {
			return a, err
		}
	}
	return &Raw{Data: append([]byte(nil), b...)}, nil
}

// appendOFHeader starts a standard action of type t; finishAction ends it.
func appendOFHeader(b []byte, t uint16) ([]byte, int) {
	return append(b, byte(t>>8), byte(t), 0, 0), len(b)
}

// appendNXHeader starts a Nicira action (struct nx_action_header without
// its padding); finishAction ends it.
func appendNXHeader(b []byte, subtype uint16) ([]byte, int) {
	start := len(b)
	b = append(b, 0xff, 0xff, 0, 0)
	b = be.AppendUint32(b, nxVendor)
	return be.AppendUint16(b, subtype), start
}

// appendONFHeader starts an ONF action (struct onf_action_header? OVS's
// ofp_ed_prop-less experimenter header: exp_type u16 then 2 bytes pad).
func appendONFHeader(b []byte, expType uint16) ([]byte, int) {
	start := len(b)
	b = append(b, 0xff, 0xff, 0, 0)
	b = be.AppendUint32(b, onfVendor)
	return append(be.AppendUint16(b, expType), 0, 0), start
}

// finishAction zero-pads the action begun at start to a multiple of 8 and
// writes its length.
func finishAction(b []byte, start int) ([]byte, error) {
	for (len(b)-start)%8 != 0 {
		b = append(b, 0)
	}
	n := len(b) - start
	if n > 0xfff8 {
		return nil, errors.New("action longer than 65528 bytes")
	}
	be.PutUint16(b[start+2:], uint16(n))
	return b, nil
}

// nxBody is what follows the subtype of a Nicira action.
func nxBody(b []byte) []byte { return b[10:] }

// onfBody is what follows the exp_type and its padding of an ONF action.
func onfBody(b []byte) []byte { return b[12:] }

// allZero reports whether b is only zeros (OVS checks padding it calls
// "must be zero").
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// validator is implemented by actions that can be wrong in ways decoding
// lets pass (a port out of range, a subfield past its field's end).
// Validate calls it; act on ctx as OVS's ofpact_check does.
type validator interface {
	validate(ctx Context) error
}

// Validate checks a list strictly, as OVS does when it decodes: an
// unknown action is OFPBAC_BAD_TYPE, an unknown experimenter
// OFPBAC_BAD_VENDOR, an unknown Nicira or ONF subtype
// OFPBAC_BAD_VENDOR_TYPE, a set_field of an unknown field
// OFPBAC_BAD_SET_TYPE, an output to a port that cannot be output to
// OFPBAC_BAD_OUT_PORT. The error wraps an *ofperr.Error.
func Validate(ctx Context, l List) error { return validateNested(ctx, l, outerNone) }

// validateNested is Validate for a list nested in outer (nestingRule).
func validateNested(ctx Context, l List, outer string) error {
	for i, a := range l {
		var err error
		switch a := a.(type) {
		case *Raw:
			err = rawError(a.Data)
		case validator:
			err = a.validate(ctx)
		}
		if err != nil {
			return fmt.Errorf("action[%d]: %w", i, err)
		}
	}
	if outer == outerWriteActions {
		// OVS's decoder checks an action set for what it may hold, not
		// for nesting.
		for i, a := range l {
			if !inActionSet(a) {
				return fmt.Errorf("action[%d]: %s in an action set: %w", i, ofpactName(a), ofpErr("OFPBAC_BAD_TYPE"))
			}
		}
		return nil
	}
	if e := nestingRule(l, outer); e != nil {
		return e.err()
	}
	return nil
}

// rawError is why OVS rejects an action this package kept raw.
func rawError(b []byte) error {
	if len(b) < 4 {
		return ofpErr("OFPBAC_BAD_LEN")
	}
	switch t := be.Uint16(b); {
	case t == 25:
		return setFieldRawError(b[4:])
	case t != 0xffff:
		return ofpErr("OFPBAC_BAD_TYPE")
	case len(b) < 10:
		return ofpErr("OFPBAC_BAD_LEN")
	}
	switch be.Uint32(b[4:]) {
	case nxVendor:
		if be.Uint16(b[8:]) == nxWriteMetadata {
			// OVS decodes it, then finds an instruction among actions.
			return ofpErr("OFPBIC_UNSUP_INST")
		}
		if be.Uint16(b[8:]) == nxRegLoad2 {
			return setFieldRawError(b[10:])
		}
		return ofpErr("OFPBAC_BAD_VENDOR_TYPE")
	case onfVendor:
		return ofpErr("OFPBAC_BAD_VENDOR_TYPE")
	}
	return ofpErr("OFPBAC_BAD_VENDOR")
}
