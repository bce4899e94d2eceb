package ofctl

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestNextToken(t *testing.T) {
	s := " a=1, b:2\tc(3,(4)),d,actions=ct(commit,nat(dst=1.2.3.4)),e=f(g,h)i"
	var got []string
	for pos := 0; ; {
		tok, ok := nextToken(s, pos)
		if !ok {
			break
		}
		d := tok.delim
		if d == 0 {
			d = '_'
		}
		got = append(got, fmt.Sprintf("%s|%c|%s|%s", tok.key, d, tok.val, tok.text(s)))
		pos = tok.end
	}
	want := []string{"a|=|1|a=1", "b|:|2|b:2", "c|(|3,(4)|c(3,(4))", "d|_||d",
		"actions|=|ct(commit,nat(dst=1.2.3.4))|actions=ct(commit,nat(dst=1.2.3.4))", "e|=|f(g,h)i|e=f(g,h)i"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseNum(t *testing.T) {
	for _, tc := range []struct {
		s    string
		bits int
		v    uint64
		ok   bool
	}{
		{"0", 16, 0, true}, {"10", 16, 10, true}, {"0x10", 16, 16, true}, {"0X1f", 16, 31, true},
		{"010", 16, 8, true}, {"65535", 16, 65535, true}, {"65536", 16, 0, false}, {"", 16, 0, false},
		{"0x", 16, 0, false}, {"-1", 16, 0, false}, {"+1", 16, 0, false}, {"1_0", 16, 0, false},
		{"09", 16, 0, false}, {"0xffffffffffffffff", 64, 1<<64 - 1, true},
	} {
		v, ok := parseNum(tc.s, tc.bits)
		if v != tc.v || ok != tc.ok {
			t.Errorf("parseNum(%q, %d) = %d, %v; want %d, %v", tc.s, tc.bits, v, ok, tc.v, tc.ok)
		}
	}
}

// flowsFile has a bad flow on lines 3 and 7, comments and blank lines.
const flowsFile = `# flows
 priority=0 actions=drop
priority=1,cookie=zz actions=drop

   table=1, priority=5 actions=drop   # a comment
	cookie=0x1, table=2, priority=6 actions=drop
 cookie=0x2, table=3, priority=7,frob=1 actions=drop
priority=8 actions=drop
`

func TestParseFlowsErrors(t *testing.T) {
	lines, err := ParseFlows("flows.txt", strings.NewReader(flowsFile), nil)
	if lines != nil {
		t.Errorf("got %d lines with an error", len(lines))
	}
	if err == nil {
		t.Fatal("no error")
	}
	msgs := strings.Split(err.Error(), "\n")
	if len(msgs) != 2 {
		t.Fatalf("got %d errors, want 2:\n%v", len(msgs), err)
	}
	if want := `flows.txt:3:12: "cookie=zz": `; !strings.HasPrefix(msgs[0], want) {
		t.Errorf("first error %q, want it to start %q", msgs[0], want)
	}
	col := strings.Index(" cookie=0x2, table=3, priority=7,frob=1 actions=drop", "frob") + 1
	if want := fmt.Sprintf("flows.txt:7:%d: ", col); col != 34 || !strings.HasPrefix(msgs[1], want) {
		t.Errorf("second error %q, want it to start %q", msgs[1], want)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Pos.File != "flows.txt" || pe.Pos.Line != 3 {
		t.Errorf("errors.As: %+v", pe)
	}
}

func TestParseFlowsGood(t *testing.T) {
	good := strings.ReplaceAll(strings.ReplaceAll(flowsFile, "cookie=zz", "cookie=9"), ",frob=1", "")
	lines, err := ParseFlows("flows.txt", strings.NewReader(good), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		got = append(got, fmt.Sprintf("%v %s|%s", l.Pos, l.Text, AppendFlow(nil, l.Mod)))
	}
	want := []string{
		"flows.txt:2:2 priority=0 actions=drop| priority=0 actions=drop",
		"flows.txt:3:1 priority=1,cookie=9 actions=drop| cookie=0x9, priority=1 actions=drop",
		"flows.txt:5:4 table=1, priority=5 actions=drop| table=1, priority=5 actions=drop",
		"flows.txt:6:2 cookie=0x1, table=2, priority=6 actions=drop| cookie=0x1, table=2, priority=6 actions=drop",
		"flows.txt:7:2 cookie=0x2, table=3, priority=7 actions=drop| cookie=0x2, table=3, priority=7 actions=drop",
		"flows.txt:8:1 priority=8 actions=drop| priority=8 actions=drop",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseFlowsTooManyErrors(t *testing.T) {
	_, err := ParseFlows("f", strings.NewReader(strings.Repeat("priority=x actions=drop\n", 50)), nil)
	msgs := strings.Split(fmt.Sprint(err), "\n")
	if len(msgs) != maxErrors+1 || !strings.Contains(msgs[maxErrors], "too many errors") {
		t.Errorf("got %d errors:\n%v", len(msgs), err)
	}
}

func TestParseFlowsEmpty(t *testing.T) {
	lines, err := ParseFlows("f", strings.NewReader("\n# nothing\n   \n"), nil)
	if err != nil || len(lines) != 0 {
		t.Errorf("got %v, %v", lines, err)
	}
}

func TestPos(t *testing.T) {
	if got := (Pos{Column: 3}).String(); got != "column 3" {
		t.Error(got)
	}
	if got := (Pos{File: "f", Line: 2, Column: 3}).String(); got != "f:2:3" {
		t.Error(got)
	}
	e := &ParseError{Pos: Pos{File: "f", Line: 2, Column: 3}, Token: "x=1", Msg: "bad"}
	if got := e.Error(); got != `f:2:3: "x=1": bad` {
		t.Error(got)
	}
}
