// Package ofperr names OpenFlow errors the way Open vSwitch does
// (lib/ofp-errors.h: OFPBAC_BAD_OUT_GROUP, NXTTMFC_ALREADY_MAPPED, ...), and
// maps each name to and from its encoding in each protocol version.
package ofperr

import "fmt"

// Error is one OpenFlow error, known by its OVS name. Type, Code and
// Experimenter are its encoding in the version it was decoded from or
// looked up for (Type 0xffff: an experimenter error whose exp_type is Code).
//
// In OpenFlow 1.0 and 1.1, which have no experimenter errors, OVS writes an
// extension error as type NXET_VENDOR (0xb0c2) code NXVC_VENDOR_ERROR with a
// struct nx_vendor_error {vendor, type, code} in front of the data; there
// Experimenter is that vendor and Type and Code the inner ones, as
// `ovs-ofctl print-error` shows them. An error with no encoding in a version
// has Type, Code and Experimenter all zero.
type Error struct {
	Name         string
	Type         uint16
	Code         uint16
	Experimenter uint32
}

func (e *Error) Error() string { return e.Name }

// Is makes errors.Is match errors of the same name.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Name == e.Name
}

// entry is one row of the table: a name and its encodings.
type entry struct {
	name string
	enc  []encoding
}

// encoding is one way an error is written, valid from version min to max
// (inclusive; max 0 means every later version).
type encoding struct {
	min, max uint8
	typ      uint16
	code     uint16
	exp      uint32 // 0 for standard errors
}

func (e encoding) covers(v uint8) bool { return v >= e.min && (e.max == 0 || v <= e.max) }

var byName = map[string]*entry{}

func init() {
	for i := range table {
		byName[table[i].name] = &table[i]
	}
}

// Named returns the error called name, encoded for OpenFlow 1.3, or nil if
// OVS has no error by that name.
func Named(name string) *Error { return NamedFor(0x04, name) }

// NamedFor is Named for another protocol version.
func NamedFor(version uint8, name string) *Error {
	e, ok := byName[name]
	if !ok {
		return nil
	}
	for _, enc := range e.enc {
		if enc.covers(version) {
			return &Error{Name: e.name, Type: enc.typ, Code: enc.code, Experimenter: enc.exp}
		}
	}
	return &Error{Name: e.name}
}

// Decode names the error that version encodes as (typ, code, exp). An
// encoding OVS does not know gets a descriptive name, never an empty one.
func Decode(version uint8, typ, code uint16, exp uint32) *Error {
	for i := range table {
		for _, enc := range table[i].enc {
			if enc.covers(version) && enc.typ == typ && enc.code == code && enc.exp == exp {
				return &Error{Name: table[i].name, Type: typ, Code: code, Experimenter: exp}
			}
		}
	}
	name := fmt.Sprintf("OFPET_UNKNOWN(type=%d,code=%d)", typ, code)
	if typ == 0xffff {
		name = fmt.Sprintf("OFPET_UNKNOWN(vendor=%#x,type=%d)", exp, code)
	}
	return &Error{Name: name, Type: typ, Code: code, Experimenter: exp}
}
