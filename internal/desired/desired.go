// Package desired loads a bridge's desired state from ovs-ofctl syntax files
// (flows, groups, meters) into the message the reconciler takes.
package desired

import (
	"errors"
	"fmt"
	"os"
	"regexp"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// Files names the files of one bridge; an empty name is no file.
type Files struct {
	Flows, Groups, Meters string
}

// Paths returns the non-empty file names.
func (f Files) Paths() []string {
	var ps []string
	for _, p := range []string{f.Flows, f.Groups, f.Meters} {
		if p != "" {
			ps = append(ps, p)
		}
	}
	return ps
}

// geneveWord finds the symbolic name of the negotiated Geneve field in a
// flow's text: "geneve" standing alone as a field name, e.g. "geneve=0x5",
// "NXM_NX_GENEVE[0..14]" is not it, "geneve[0..14]" is.
var geneveWord = regexp.MustCompile(`(^|[^A-Za-z0-9_])geneve([^A-Za-z0-9_]|$)`)

// UsesGeneve reports whether a flow's text names the Geneve field.
func UsesGeneve(text string) bool { return geneveWord.MatchString(text) }

// Load reads the files. Every problem in every file is reported, each with
// file:line:column; on any error the result is nil, so that a caller keeps
// its last good state.
func Load(f Files) (*messages.PutDesired, error) {
	put := &messages.PutDesired{
		Flows:       []*openflow.FlowMod{},
		Groups:      []*openflow.GroupMod{},
		Meters:      []*openflow.MeterMod{},
		GeneveFlows: []string{},
	}
	var errs []error
	if f.Flows != "" {
		flows, geneve, err := loadFlows(f.Flows)
		errs = append(errs, err)
		put.Flows, put.GeneveFlows = flows, geneve
	}
	if f.Groups != "" {
		err := withFile(f.Groups, func(r *os.File) error {
			lines, err := ofctl.ParseGroups(f.Groups, r, defaultContext())
			for _, l := range lines {
				put.Groups = append(put.Groups, l.Mod)
			}
			return err
		})
		errs = append(errs, err)
	}
	if f.Meters != "" {
		err := withFile(f.Meters, func(r *os.File) error {
			lines, err := ofctl.ParseMeters(f.Meters, r, defaultContext())
			for _, l := range lines {
				put.Meters = append(put.Meters, l.Mod)
			}
			return err
		})
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return put, nil
}

func defaultContext() *ofctl.Context {
	ctx := &ofctl.Context{Version: openflow.Version13}
	ctx.OXM.Geneve = -1
	return ctx
}

// loadFlows parses a flows file. Flows naming the Geneve field are checked
// with a stand-in mapping (tun_metadata0, 4 bytes) so that their syntax
// errors show now, and are returned as text for the reconciler to render.
func loadFlows(name string) (flows []*openflow.FlowMod, geneve []string, err error) {
	err = withFile(name, func(r *os.File) error {
		lines, err := ofctl.ParseFlows(name, r, geneveCheckContext())
		for _, l := range lines {
			if UsesGeneve(l.Text) {
				geneve = append(geneve, l.Text)
			} else {
				flows = append(flows, l.Mod)
			}
		}
		return err
	})
	if flows == nil {
		flows = []*openflow.FlowMod{}
	}
	if geneve == nil {
		geneve = []string{}
	}
	return flows, geneve, err
}

func geneveCheckContext() *ofctl.Context {
	ctx := &ofctl.Context{Version: openflow.Version13}
	ctx.OXM.Geneve = 0
	ctx.OXM.TunMetadataLen[0] = 4
	return ctx
}

func withFile(name string, f func(*os.File) error) error {
	r, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer r.Close()
	return f(r)
}
