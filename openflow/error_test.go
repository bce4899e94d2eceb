package openflow

import (
	"errors"
	"testing"

	"github.com/ofactor/ofactor/openflow/ofperr"
)

func TestErrorErr(t *testing.T) {
	req := flowModApply()
	reqBytes, err := req.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		version uint8
		name    string
	}{
		{Version13, "OFPBFC_MSG_FAILED"},
		{Version14, "OFPBFC_MSG_FAILED"},
		{Version13, "NXTTMFC_ALREADY_MAPPED"},
		{Version13, "NXFMFC_INVALID_TLV_FIELD"},
		{Version13, "OFPBAC_BAD_OUT_GROUP"},
		{Version13, "OFPFMFC_TABLE_FULL"},
	} {
		e := ofperr.NamedFor(tc.version, tc.name)
		m := NewError(Header{Version: tc.version, XID: 2}, e, reqBytes)
		b, err := m.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		em := d.(*Error)
		if got := em.Err(); got.Name != tc.name || !errors.Is(got, ofperr.Named(tc.name)) {
			t.Errorf("OF%#x %s: Err() = %+v", tc.version, tc.name, got)
		}
		h, err := em.Request()
		if err != nil || h.XID != 2 || h.Type != TypeFlowMod {
			t.Errorf("%s: Request() = %+v, %v", tc.name, h, err)
		}
		rm, err := em.RequestMessage()
		if fm, ok := rm.(*FlowMod); err != nil || !ok || fm.Command != FlowModify {
			t.Errorf("%s: RequestMessage() = %T %v", tc.name, rm, err)
		}
	}
}

func TestErrorTruncatedRequest(t *testing.T) {
	m := &Error{Header: Header{Version: Version13}, ErrType: 1, Code: 6, Data: unhex(t, "040e0050 00000002 0000")}
	if h, err := m.Request(); err != nil || h.Length != 0x50 {
		t.Errorf("Request() = %+v, %v", h, err)
	}
	if _, err := m.RequestMessage(); err == nil {
		t.Error("RequestMessage of 10 bytes of an 80-byte request succeeded")
	}
	m.Data = []byte{4, 14}
	if _, err := m.Request(); err == nil {
		t.Error("Request of 2 bytes succeeded")
	}
	if got := m.Err().Name; got != "OFPBRC_BAD_LEN" {
		t.Errorf("Err() = %s", got)
	}
}

// TestErrorNXVendor decodes OVS's OpenFlow 1.0 form of a Nicira error:
// NXET_VENDOR / NXVC_VENDOR_ERROR with struct nx_vendor_error in front.
func TestErrorNXVendor(t *testing.T) {
	b := unhex(t, "0101001c 00000002 b0c20000 00002320 00010214 01140008 00000001")
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	e := m.(*Error)
	if got := e.Err().Name; got != "NXTTMFC_DUP_ENTRY" {
		t.Errorf("Err() = %s", got)
	}
	if h, err := e.Request(); err != nil || h.XID != 1 {
		t.Errorf("Request() = %+v, %v", h, err)
	}
	bin := ovsOfctl(t)
	out := ovsPrint(t, bin, b)
	if want := "OFPT_ERROR (xid=0x2): NXTTMFC_DUP_ENTRY"; !contains(out, want) {
		t.Errorf("ofp-print: %s, want %s", out, want)
	}
}
