package main

import (
	"fmt"
	"io"
	"regexp"
	"sort"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// printPlan prints a plan as ovs-ofctl diff-flows prints two flow tables:
// "-" what the switch holds, "+" what the files want; flows, then groups,
// then meters, each sorted.
func printPlan(w io.Writer, p *messages.Planned) {
	byKind := map[string][]messages.PlannedChange{}
	for _, c := range p.Changes {
		byKind[c.Kind] = append(byKind[c.Kind], c)
	}
	for _, kind := range []string{"flow", "group", "meter"} {
		cs := byKind[kind]
		sort.SliceStable(cs, func(i, j int) bool { return sortText(cs[i]) < sortText(cs[j]) })
		for _, c := range cs {
			if c.Old != "" {
				fmt.Fprintf(w, "-%s\n", c.Old)
			}
			if c.New != "" {
				fmt.Fprintf(w, "+%s\n", c.New)
			}
		}
	}
}

func sortText(c messages.PlannedChange) string {
	if c.New != "" {
		return c.New
	}
	return c.Old
}

// tunMetadata finds a tun_metadata field's name in a flow's text.
var tunMetadata = regexp.MustCompile(`(^|[^A-Za-z0-9_])tun_metadata[0-9]+([^A-Za-z0-9_]|$)`)

// where finds the file and line of a refused object, from its text: the
// flow's canonical key, the group's or meter's id. A flow naming the
// Geneve field was indexed with the field as tun_metadata0.
func where(idx *desired.Index, r *messages.Rejected) string {
	var (
		p  ofctl.Pos
		ok bool
	)
	switch r.Kind {
	case "flow":
		p, ok = flowPos(idx, r.Text, flowContext(idx.Version()))
		if !ok && tunMetadata.MatchString(r.Text) {
			ctx := flowContext(idx.Version())
			ctx.OXM.Geneve, ctx.OXM.TunMetadataLen[0] = 0, 4
			p, ok = flowPos(idx, tunMetadata.ReplaceAllString(r.Text, "${1}tun_metadata0${2}"), ctx)
		}
	case "group":
		if gm, err := ofctl.ParseGroup(r.Text, flowContext(idx.Version())); err == nil {
			p, ok = idx.Group(gm.GroupID)
		}
	case "meter":
		if mm, err := ofctl.ParseMeter(r.Text, flowContext(idx.Version())); err == nil {
			p, ok = idx.Meter(mm.MeterID)
		}
	}
	if !ok {
		return "(not in the files)"
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

func flowPos(idx *desired.Index, text string, ctx *ofctl.Context) (ofctl.Pos, bool) {
	fm, err := ofctl.ParseFlow(text, ctx)
	if err != nil {
		return ofctl.Pos{}, false
	}
	f, err := flowkey.Of(fm)
	if err != nil {
		return ofctl.Pos{}, false
	}
	return idx.Flow(f.Key())
}

func flowContext(version uint8) *ofctl.Context {
	ctx := &ofctl.Context{Version: version}
	ctx.OXM.Geneve = -1
	return ctx
}
