package desired

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/internal/parallel"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// line is one flow line of a file as ofctl's eachLine cuts it: the text with
// its comment cut (what ParseFlow is given, so that columns count in the
// line as read), its number and the column where it starts.
type line struct {
	raw    string
	n, col int
}

// text is the line without comment and surrounding white space: what
// ofctl.Line.Text holds and what a reload compares.
func (l line) text() string { return strings.TrimSpace(l.raw) }

// maxErrors caps the errors reported for one file, as ofctl does.
const maxErrors = 20

// splitLines cuts a file's contents into its non-blank lines, as OVS's
// ds_get_preprocessed_line does: '#' to the end of a line is a comment.
func splitLines(data string) []line {
	out := make([]line, 0, strings.Count(data, "\n")+1)
	for n := 1; len(data) > 0; n++ {
		raw := data
		if i := strings.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			data = ""
		}
		raw = strings.TrimSuffix(raw, "\r") // bufio.ScanLines drops it too
		if i := strings.IndexByte(raw, '#'); i >= 0 {
			raw = raw[:i]
		}
		lead := len(raw) - len(strings.TrimLeft(raw, " \t\r\n\v\f"))
		if lead == len(raw) {
			continue
		}
		out = append(out, line{raw: raw, n: n, col: lead + 1})
	}
	return out
}

// parsed is the result of parsing one line: the flow in the reconciler's
// form (the FlowMod is dropped at once, so that a large file never has
// all its FlowMods alive together), and whether it names the Geneve field
// (the reconciler then renders its text; the flow is its stand-in).
type parsed struct {
	flow   flowkey.Flow
	geneve bool // names the Geneve field
	ports  bool // names a switch port
	err    error
}

// text says whether the flow is handed over as text, for the bridge to
// render with what the switch says (the Geneve field, its ports).
func (p parsed) text() bool { return p.geneve || p.ports }

// parseAll parses lines on every core, each goroutine with its own
// Context made by newCtx, and returns one result per line, in order.
// progress, when not nil, is called with the results and n each time the
// first n lines are all parsed, one call at a time and n growing; it may
// read the first n results.
func parseAll(lines []line, newCtx func() *ofctl.Context, progress func(res []parsed, n int)) []parsed {
	out := make([]parsed, len(lines))
	// Small chunks handed out in turn keep every core busy to the end even
	// when one part of the file has longer lines than another. A Context
	// is not safe for concurrent use: one per chunk (they are small).
	const chunk = 512
	var done func(int)
	if progress != nil {
		done = func(n int) { progress(out, n) }
	}
	parallel.Ordered(len(lines), chunk, func(lo, hi int) {
		ctx := newCtx()
		for i := lo; i < hi; i++ {
			out[i] = parseLine(lines[i], ctx)
		}
	}, done)
	return out
}

// parseLine parses one line. ofctl builds matches canonical, so the flow's
// bytes need no normalizing (flowkey.OfCanonical).
func parseLine(l line, ctx *ofctl.Context) parsed {
	sp, _ := ctx.OXM.Ports.(*standInPorts)
	if sp != nil {
		sp.used = false
	}
	fm, err := ofctl.ParseFlow(l.raw, ctx)
	if err != nil {
		return parsed{err: err}
	}
	// A flow naming the Geneve field is parsed with a stand-in mapping:
	// its key serves to find duplicates, the reconciler renders its text.
	f, err := flowkey.OfCanonical(fm)
	if err != nil {
		return parsed{err: err}
	}
	return parsed{flow: f, geneve: UsesGeneve(l.raw), ports: sp != nil && sp.used}
}

// lineErrors collects the errors of a file's lines in line order, each
// placed as file:line:column, up to maxErrors.
func lineErrors(name string, lines []line, res []parsed) error {
	var errs []error
	for i, p := range res {
		if p.err == nil {
			continue
		}
		errs = append(errs, inFile(p.err, name, lines[i].n))
		if len(errs) == maxErrors {
			errs = append(errs, fmt.Errorf("%s:%d: too many errors, stopped", name, lines[i].n))
			break
		}
	}
	return errors.Join(errs...)
}

// inFile places a line's error in its file, as ofctl does for its own
// parsers: ParseFlow's column is already counted in the line as read.
func inFile(err error, file string, n int) error {
	var pe *ofctl.ParseError
	if errors.As(err, &pe) {
		return &ofctl.ParseError{Pos: ofctl.Pos{File: file, Line: n, Column: pe.Pos.Column}, Token: pe.Token, Msg: pe.Msg}
	}
	return fmt.Errorf("%s:%d: %w", file, n, err)
}
