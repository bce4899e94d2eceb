package ofctl

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// eachLine reads lines ahead in blocks: lines, their numbers and columns,
// and errors must come out as if read one at a time, across block edges.
func TestEachLineBlocks(t *testing.T) {
	var b strings.Builder
	for n := 1; b.Len() < 3*lineBlock; n++ {
		switch {
		case n%97 == 0:
			fmt.Fprintf(&b, "  # comment %d\n", n)
		case n%89 == 0:
			b.WriteString("\t\n")
		default:
			fmt.Fprintf(&b, "%*sline %d # c\n", n%3, "", n)
		}
	}
	b.WriteString("last line without newline")
	want := strings.Split(b.String(), "\n")
	var got []string
	err := eachLine("f", strings.NewReader(b.String()), func(text string, pos Pos) error {
		if pos.File != "f" || pos.Line < 1 || pos.Line > len(want) {
			return fmt.Errorf("bad pos %+v", pos)
		}
		line := want[pos.Line-1]
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if text != line || pos.Column != len(line)-len(strings.TrimLeft(line, " \t"))+1 {
			return fmt.Errorf("line %d: got %q at column %d", pos.Line, text, pos.Column)
		}
		got = append(got, text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range want {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	if len(got) != n {
		t.Errorf("%d lines handed out, want %d", len(got), n)
	}
}

// Past maxErrors eachLine stops; a line too long after the one it stopped
// at, already read ahead, is not reported. One before it is.
func TestEachLineStopsBeforeTooLong(t *testing.T) {
	bad := strings.Repeat("x\n", maxErrors+5)
	long := strings.Repeat("y", 17<<20)
	err := eachLine("f", strings.NewReader(bad+long+"\n"), func(string, Pos) error { return errors.New("bad") })
	if err == nil || errors.Is(err, bufio.ErrTooLong) || !strings.Contains(err.Error(), "too many errors") {
		t.Errorf("got %v", err)
	}
	err = eachLine("f", strings.NewReader("x\n"+long+"\n"), func(string, Pos) error { return errors.New("bad") })
	if !errors.Is(err, bufio.ErrTooLong) || !strings.Contains(err.Error(), "f:1:") {
		t.Errorf("got %v", err)
	}
}
