package ofctl

import (
	"errors"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/openflow"
)

func TestParseFlow(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		check   func(*openflow.FlowMod) bool
	}{
		{"actions=drop", " actions=drop", func(fm *openflow.FlowMod) bool {
			return fm.Command == openflow.FlowAdd && fm.Priority == DefaultPriority && fm.TableID == 0 &&
				fm.BufferID == openflow.NoBuffer && fm.OutPort == openflow.PortAny &&
				fm.OutGroup == openflow.GroupAny && fm.Version == openflow.Version13
		}},
		{"priority=0 actions=drop", " priority=0 actions=drop", nil},
		{" priority=0 actions=drop ", " priority=0 actions=drop", nil},
		{"table=5,priority=10,cookie=0x1,idle_timeout=30,hard_timeout=60,send_flow_rem,check_overlap,reset_counts,no_packet_counts,no_byte_counts,importance=3,ip actions=drop",
			" cookie=0x1, table=5, idle_timeout=30, hard_timeout=60, send_flow_rem check_overlap reset_counts no_packet_counts no_byte_counts importance=3, priority=10,ip actions=drop",
			func(fm *openflow.FlowMod) bool {
				return fm.Flags == 0x1f && fm.Importance == 3 && fm.IdleTimeout == 30 && fm.HardTimeout == 60
			}},
		// What dump-flows prints with statistics reads back without them.
		{" cookie=0x5, duration=12.345s, table=2, n_packets=3, n_bytes=180, idle_age=3, hard_age=4, priority=7,ip actions=drop",
			" cookie=0x5, table=2, priority=7,ip actions=drop", nil},
		{"ip priority=7\ttable=2, cookie=5 actions=drop", " cookie=0x5, table=2, priority=7,ip actions=drop", nil},
		{"priority:7,table:1,actions=drop", " table=1, priority=7 actions=drop", nil},
		{"priority=0x10,table=010 actions=drop", " table=8, priority=16 actions=drop", nil},
		{"priority=32768,cookie=0 actions=drop", " actions=drop", nil},
		{"cookie=0xffffffffffffffff,table=253,priority=65535 actions=drop",
			" cookie=0xffffffffffffffff, table=253, priority=65535 actions=drop", nil},
		{"add priority=1 actions=drop", " priority=1 actions=drop", nil},
		{"modify cookie=0x1/0xff,ip actions=drop", " modify cookie=0x1/0xff, ip actions=drop",
			func(fm *openflow.FlowMod) bool { return fm.Command == openflow.FlowModify && fm.CookieMask == 0xff }},
		{"modify_strict priority=3 actions=drop", " modify_strict priority=3 actions=drop", nil},
		{"delete", " delete", func(fm *openflow.FlowMod) bool { return fm.TableID == openflow.TableAll }},
		{"delete table=3,ip", " delete table=3, ip", nil},
		{"delete table=0", " delete table=0", nil},
		{"delete_strict priority=5,out_port=LOCAL,out_group=3", " delete_strict out_port=LOCAL, out_group=3, priority=5",
			func(fm *openflow.FlowMod) bool { return fm.OutPort == openflow.PortLocal && fm.OutGroup == 3 }},
		{"delete out_port=7,out_group=all", " delete out_port=7, out_group=all", nil},
	} {
		fm, err := ParseFlow(tc.in, nil)
		if err != nil {
			t.Errorf("ParseFlow(%q): %v", tc.in, err)
			continue
		}
		if got := string(AppendFlow(nil, fm)); got != tc.out {
			t.Errorf("ParseFlow(%q) prints\n%q, want\n%q", tc.in, got, tc.out)
		}
		if tc.check != nil && !tc.check(fm) {
			t.Errorf("ParseFlow(%q) = %+v", tc.in, fm)
		}
		fm2, err := ParseFlow(tc.out, nil)
		if err != nil {
			t.Errorf("ParseFlow(%q) (printed back): %v", tc.out, err)
		} else if got := string(AppendFlow(nil, fm2)); got != tc.out {
			t.Errorf("printed back: %q, want %q", got, tc.out)
		}
	}
}

func TestParseFlowVersion(t *testing.T) {
	fm, err := ParseFlow("actions=drop", &Context{Version: openflow.Version14})
	if err != nil || fm.Version != openflow.Version14 {
		t.Fatalf("got %v, %v", fm, err)
	}
}

// errCase is a text that must not parse: the error's column and token,
// and a piece of its message.
type errCase struct {
	in    string
	col   int
	token string
	msg   string
}

func checkErr(t *testing.T, what string, tc errCase, err error) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Errorf("%s(%q): error %v, want a *ParseError", what, tc.in, err)
		return
	}
	if pe.Pos.Column != tc.col || pe.Token != tc.token || !strings.Contains(pe.Msg, tc.msg) {
		t.Errorf("%s(%q): column %d, token %q, %q; want column %d, token %q, %q",
			what, tc.in, pe.Pos.Column, pe.Token, pe.Msg, tc.col, tc.token, tc.msg)
	}
}

func TestParseFlowErrors(t *testing.T) {
	for _, tc := range []errCase{
		{"priority=x actions=drop", 1, "priority=x", "not a number"},
		{"priority=65536 actions=drop", 1, "priority=65536", "from 0 to 65535"},
		{"priority actions=drop", 1, "priority", "needs a value"},
		{"ip,idle_timeout=-1 actions=drop", 4, "idle_timeout=-1", "not a number"},
		{"table=255 actions=drop", 1, "table=255", "is for deletes"},
		{"table=256 actions=drop", 1, "table=256", "from 0 to 255"},
		{"cookie=0x1/0xff actions=drop", 1, "cookie=0x1/0xff", "cannot use a cookie mask"},
		{"cookie=zz actions=drop", 1, "cookie=zz", "expected cookie="},
		{"delete cookie=1", 8, "cookie=1", "cannot set a cookie"},
		{"priority=5,ip", 14, "", "missing actions="},
		{"delete actions=drop", 8, "actions=drop", "takes no actions"},
		{"delete priority=3", 8, "priority=3", "does not apply"},
		{"delete idle_timeout=3", 8, "idle_timeout=3", "does not apply"},
		{"delete send_flow_rem", 8, "send_flow_rem", "does not apply"},
		{"modify importance=3 actions=drop", 8, "importance=3", "does not apply"},
		{"out_port=1 actions=drop", 1, "out_port=1", "only to a delete"},
		{"delete out_port=bogus", 8, "out_port=bogus", "a port name needs the switch's ports"},
		{"delete out_group=0xffffff01", 8, "out_group=0xffffff01", "expected a group"},
	} {
		_, err := ParseFlow(tc.in, nil)
		checkErr(t, "ParseFlow", tc, err)
	}
}

// TestParseFlowErrorsElsewhere checks that the errors of the match and
// action parsers come back at their column in the line.
func TestParseFlowErrorsElsewhere(t *testing.T) {
	for _, in := range []string{
		"priority=5,frobnicate=1 actions=drop",
		"table=1,priority=5,ip,frobnicate=1,cookie=0x1 actions=drop",
		"priority=5,cookie=0x1 frobnicate=1 actions=drop",
		"priority=5 actions=frobnicate",
		"priority=5 actions=resubmit(,3),frobnicate",
	} {
		_, err := ParseFlow(in, nil)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseFlow(%q): %v, want a *ParseError", in, err)
			continue
		}
		if want := strings.Index(in, "frobnicate") + 1; pe.Pos.Column != want {
			t.Errorf("ParseFlow(%q): %v: column %d, want %d", in, err, pe.Pos.Column, want)
		}
	}
}

// TestFlowStats checks AppendFlowStats against the flow_mod printer: a
// flow stats entry prints as the flow it came from.
func TestFlowStats(t *testing.T) {
	line := " cookie=0xabcd, table=33, idle_timeout=5, hard_timeout=6, send_flow_rem no_byte_counts importance=7, priority=50 actions=drop"
	fm, err := ParseFlow(line, nil)
	if err != nil {
		t.Fatal(err)
	}
	fs := &openflow.FlowStats{TableID: fm.TableID, DurationSec: 9, Priority: fm.Priority,
		IdleTimeout: fm.IdleTimeout, HardTimeout: fm.HardTimeout, Flags: fm.Flags,
		Importance: fm.Importance, Cookie: fm.Cookie, PacketCount: 1, ByteCount: 2,
		Match: fm.Match, Instructions: fm.Instructions}
	if got := string(AppendFlowStats(nil, fs)); got != line {
		t.Errorf("got  %s\nwant %s", got, line)
	}
	if got := string(AppendFlowStats(nil, &openflow.FlowStats{Priority: DefaultPriority})); got != " actions=drop" {
		t.Errorf("empty flow: %q", got)
	}
}
