package reconciler

import (
	"fmt"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// Flows may name the negotiated Geneve option's field symbolically
// (`geneve=0x5`, `move:geneve[0..14]->reg14[0..14]`): which tun_metadataN it
// is, the switch says (the negotiator). Their text is parsed once, when
// they are put, into templates (flowkey.Template); whenever the field
// changes they are rendered from those, with no text parsed again, and
// while Geneve is disabled they are left out.

// setTemplates parses the texts of a put's flows naming the Geneve field.
// len is the option's length (the bridge's configuration): the field's
// bytes depend on it. A text that does not parse is reported and left out.
func (s *State) setTemplates(texts []string, optLen uint8, acc *messages.DesiredAccepted) {
	s.templates = s.templates[:0]
	for _, text := range texts {
		t, err := geneveTemplate(text, optLen, s.encoding)
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("%q: %v", text, err))
			continue
		}
		s.templates = append(s.templates, t)
	}
}

// geneveTemplate parses a flow's text twice, the Geneve field at two
// indexes the text does not name, and makes its template.
func geneveTemplate(text string, optLen, version uint8) (flowkey.Template, error) {
	if version == 0 {
		version = openflow.Version13
	}
	var idx []int
	lower := strings.ToLower(text)
	for i := 63; i >= 0 && len(idx) < 2; i-- {
		if !namesIndex(lower, i) {
			idx = append(idx, i)
		}
	}
	var fs [2]flowkey.Flow
	for j, i := range idx {
		ctx := &ofctl.Context{Version: version}
		ctx.OXM.Geneve = i
		ctx.OXM.TunMetadataLen[i] = optLen
		fm, err := ofctl.ParseFlow(text, ctx)
		if err != nil {
			return flowkey.Template{}, err
		}
		if fs[j], err = flowkey.OfCanonical(fm); err != nil {
			return flowkey.Template{}, err
		}
	}
	return flowkey.NewTemplate(text, fs[0], fs[1], idx[0], idx[1], optLen, version)
}

// namesIndex reports whether a lower-case flow text names tun_metadata<i>
// itself (tun_metadataI or NXM_NX_TUN_METADATAI, not followed by a digit).
func namesIndex(lower string, i int) bool {
	name := "metadata" + strconv.Itoa(i)
	for off := 0; ; {
		j := strings.Index(lower[off:], name)
		if j < 0 {
			return false
		}
		end := off + j + len(name)
		if end == len(lower) || lower[end] < '0' || lower[end] > '9' {
			return true
		}
		off = end
	}
}

// renderInto adds the flows given as text to next, and remembers their
// keys: the templates' flows rendered for the current Geneve field, and
// the flows naming switch ports (ports.go).
func (s *State) renderInto(next map[string]string, log *zap.Logger) {
	clear(s.rendered)
	s.renderTemplates(next, log)
	s.renderPorts(next, log)
}

// renderTemplates renders the templates for the current Geneve field. While
// Geneve is disabled they are left out, with one warning; before the first
// result they wait.
func (s *State) renderTemplates(next map[string]string, log *zap.Logger) {
	if len(s.templates) == 0 || !s.geneve.Enabled {
		if len(s.templates) > 0 && s.geneve.Seq != 0 {
			log.Warn("geneve flows left out", zap.Int("flows", len(s.templates)),
				zap.String("error", "the switch has no Geneve field mapped"))
		}
		return
	}
	for _, t := range s.templates {
		f, err := t.Render(s.geneve.Index)
		if err != nil {
			log.Warn("geneve flow left out", zap.String("flow", t.Text), zap.Error(err))
			continue
		}
		next[f.Key()] = f.Value()
		s.rendered[f.Key()] = struct{}{}
	}
}

// setGeneve records the negotiated Geneve field and, when it changed,
// renders the templates again: the flows rendered for the old field give
// way to those for the new one, a new version.
func (s *State) setGeneve(g messages.GeneveFieldAssigned, log *zap.Logger) {
	old := s.geneve
	s.geneve = g
	same := old.Enabled == g.Enabled && old.Index == g.Index && old.Len == g.Len
	lens := old.Lengths == g.Lengths
	templates := len(s.templates) > 0 && !(same && (old.Seq != 0 || g.Enabled))
	texts := len(s.switchTexts) > 0 && !(same && lens && old.Seq != 0)
	if !templates && !texts {
		return
	}
	if s.rerender(log) && (!same || !lens) {
		s.version++
	}
}

// rerender renders the flows given as text again (the Geneve field or the
// switch's ports changed): those rendered before give way to the new
// ones. It reports whether the desired flows changed.
func (s *State) rerender(log *zap.Logger) bool {
	before := make(map[string]string, len(s.rendered))
	for k := range s.rendered {
		before[k] = s.flows.desired.Val(k)
		s.flows.remove(k)
	}
	next := map[string]string{}
	s.renderInto(next, log)
	for k, v := range next {
		s.flows.put(k, v)
	}
	if len(next) != len(before) {
		return true
	}
	for k, v := range next {
		if old, ok := before[k]; !ok || old != v {
			return true
		}
	}
	return false
}
