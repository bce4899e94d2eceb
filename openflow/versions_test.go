package openflow

import (
	"slices"
	"strings"
	"testing"
)

func TestParseVersions(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []uint8
		err  string
	}{
		{in: "OpenFlow13", want: []uint8{Version13}},
		{in: "OpenFlow15,OpenFlow13", want: []uint8{Version13, Version15}},
		{in: " openflow14 , OpenFlow14,", want: []uint8{Version14}},
		{in: "OpenFlow10", err: "OpenFlow10: not spoken by ofactor (it speaks OpenFlow13, OpenFlow14, OpenFlow15)"},
		{in: "OpenFlow13,OF15", err: `"OF15": unknown OpenFlow version`},
		{in: " , ", err: "no OpenFlow version given"},
	} {
		got, err := ParseVersions(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseVersions(%q) = %v, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseVersions(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	if got := BitmapNames(1<<Version10 | 1<<Version15 | 1<<9); got != "OpenFlow10, OpenFlow15, 0x09" {
		t.Errorf("BitmapNames = %q", got)
	}
	if got := BitmapNames(0); got != "none" {
		t.Errorf("BitmapNames(0) = %q", got)
	}
}
