package ofctl

import (
	"errors"
	"fmt"

	"github.com/ofactor/ofactor/openflow/action"
)

// Pos is a place in a text: File and 1-based Line when the text came from
// a file, and the 1-based byte Column within the line.
type Pos struct {
	File   string
	Line   int
	Column int
}

func (p Pos) String() string {
	if p.File == "" && p.Line == 0 {
		return fmt.Sprintf("column %d", p.Column)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// ParseError is text that does not parse: Token is what stands at Pos (a
// whole key=value token where there is one), Msg what is wrong with it and
// what was expected.
type ParseError struct {
	Pos   Pos
	Token string
	Msg   string
}

func (e *ParseError) Error() string {
	if e.Token == "" {
		return fmt.Sprintf("%v: %s", e.Pos, e.Msg)
	}
	return fmt.Sprintf("%v: %q: %s", e.Pos, e.Token, e.Msg)
}

// maxErrors caps the errors reported for one file: past that many, the
// file is likely not in this syntax at all.
const maxErrors = 20

// errAt is a *ParseError at byte offset off of the text being parsed.
func errAt(off int, token, format string, args ...any) error {
	return &ParseError{Pos: Pos{Column: off + 1}, Token: token, Msg: fmt.Sprintf(format, args...)}
}

// errToken is a *ParseError about the whole token t of s.
func errToken(s string, t token, format string, args ...any) error {
	return errAt(t.off, s[t.off:t.end], format, args...)
}

// relocate turns an error of a parser that was handed a text assembled from
// pieces of the line (see pieces) into a *ParseError at the column of the
// line where the offending text is. Errors without a position point at the
// start of the first piece.
func relocate(err error, p *pieces) error {
	var (
		ae *action.SyntaxError
		me *SyntaxError
		pe *ParseError
	)
	switch {
	case errors.As(err, &ae):
		return &ParseError{Pos: Pos{Column: p.at(ae.Offset) + 1}, Token: ae.Token, Msg: ae.Msg}
	case errors.As(err, &me):
		return &ParseError{Pos: Pos{Column: p.at(me.Offset) + 1}, Token: me.Token, Msg: me.Msg}
	case errors.As(err, &pe):
		return &ParseError{Pos: Pos{Column: p.at(pe.Pos.Column-1) + 1}, Token: pe.Token, Msg: pe.Msg}
	}
	return &ParseError{Pos: Pos{Column: p.at(0) + 1}, Msg: err.Error()}
}

// inFile places a line's error in its file: file and line number, and the
// column counted in the line as read.
func inFile(err error, file string, line int) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		return &ParseError{Pos: Pos{File: file, Line: line, Column: pe.Pos.Column}, Token: pe.Token, Msg: pe.Msg}
	}
	return fmt.Errorf("%s:%d: %w", file, line, err)
}
