package reconciler

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// Canonical bytes are one OpenFlow version's encoding: OpenFlow 1.5 writes
// `move` as copy_field and `meter` as an action, and picks other OXM
// headers, where 1.3 does not. The State's tables are in one version
// (State.encoding); a connection of another version, or a put in another
// version, has them transcoded: decoded, printed in ovs-ofctl's syntax and
// parsed again for the other version, which is what ovs-ofctl -O would
// send for the same text. It is rare (the daemon parses its files for the
// version it offers first) and costs some microseconds a flow.

// transcodeFlow re-encodes one flow from version from to version to.
func transcodeFlow(from, to uint8, key, val string) (string, string, error) {
	fm, err := flowkey.Decode(from, key, val)
	if err != nil {
		return "", "", err
	}
	ctx := &ofctl.Context{Version: to}
	ctx.OXM.Geneve = -1
	// Keep the tun_metadata lengths the flow has: the text alone does not
	// say them (the switch's TLV map does).
	for _, f := range fm.Match.Fields {
		if h := f.Header; h.Class() == 1 && h.Field() >= 40 && h.Field() < 104 {
			n := h.Length()
			if h.HasMask() {
				n /= 2
			}
			ctx.OXM.TunMetadataLen[h.Field()-40] = n
		}
	}
	text := string(ofctl.AppendFlow(nil, fm))
	fm2, err := ofctl.ParseFlow(text, ctx)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", text, err)
	}
	f, err := flowkey.Of(fm2)
	return f.Key(), f.Value(), err
}

// transcodeGroup re-encodes one group.
func transcodeGroup(from, to uint8, key, val string) (string, error) {
	gm, err := flowkey.DecodeGroup(from, key, val)
	if err != nil {
		return "", err
	}
	// The buckets' actions too: OpenFlow 1.5 has no NXAST_REG_LOAD, for one.
	ctx := &ofctl.Context{Version: to}
	ctx.OXM.Geneve = -1
	text := string(ofctl.AppendGroup(nil, gm))
	gm2, err := ofctl.ParseGroup(text, ctx)
	if err != nil {
		return "", fmt.Errorf("%s: %w", text, err)
	}
	return flowkey.GroupValue(to, gm2.Type, gm2.Buckets, gm2.Selection, gm2.Properties)
}

// transcode puts the State's tables in version to's encoding: the desired
// sides (the installed sides are read again after every connect). Flows
// that do not transcode stay as they were, and are reported.
func (s *State) transcode(to uint8, log *zap.Logger) {
	from := s.encoding
	if from == to || from == 0 {
		s.encoding = to
		return
	}
	log.Info("desired tables in another OpenFlow version than the connection's: re-encoding them",
		zap.Uint8("from", from), zap.Uint8("to", to), zap.Int("flows", s.flows.desired.Len()))
	next, bad := make(map[string]string, s.flows.desired.Len()), 0
	for k, v := range s.flows.desired.All() {
		if _, text := s.rendered[k]; text {
			continue // rendered again from its text below
		}
		nk, nv, err := transcodeFlow(from, to, k, v)
		if err != nil {
			bad++
			if bad <= 5 {
				log.Warn("flow not re-encoded", zap.Error(err))
			}
			nk, nv = k, v
		}
		next[nk] = nv
	}
	s.flows.replace(next)
	groups := make(map[string]string, s.groups.desired.Len())
	for k, v := range s.groups.desired.All() {
		nv, err := transcodeGroup(from, to, k, v)
		if err != nil {
			log.Warn("group not re-encoded", zap.Uint32("group_id", flowkey.KeyID(k)), zap.Error(err))
			nv = v
		}
		groups[k] = nv
	}
	s.groups.replace(groups)
	if s.pending != nil {
		s.pending.transcode(from, to)
	}
	s.encoding = to
	// Meters are the same in every version. The Geneve templates are made
	// again from their text, for the new version, and the flows given as
	// text rendered again.
	if len(s.templates) > 0 {
		texts := make([]string, len(s.templates))
		for i, t := range s.templates {
			texts[i] = t.Text
		}
		s.setTemplates(texts, s.templates[0].OptLen(), &messages.DesiredAccepted{})
	}
	if len(s.templates) > 0 || len(s.switchTexts) > 0 {
		s.rerender(log)
	}
}

// putVersion is the version a put's objects are encoded in: the put's own,
// else its first FlowMod's or GroupMod's header, else OpenFlow 1.3.
func putVersion(v uint8, fms []*openflow.FlowMod, gms []*openflow.GroupMod) uint8 {
	switch {
	case v != 0:
		return v
	case len(fms) > 0 && fms[0].Version != 0:
		return fms[0].Version
	case len(gms) > 0 && gms[0].Version != 0:
		return gms[0].Version
	}
	return openflow.Version13
}

// transcode re-encodes what a put in parts under way remembers of the
// tables before it (its undo), so that it goes on in the new encoding:
// the parts to come are re-encoded as they arrive (putPart).
func (p *pendingPut) transcode(from, to uint8) {
	if p.prior != nil {
		next := make(map[string]priorVal, len(p.prior))
		for k, pv := range p.prior {
			v := pv.val
			if !pv.ok {
				v = zeroValue // a key alone: nothing was desired for it
			}
			nk, nv, err := transcodeFlow(from, to, k, v)
			if err != nil {
				nk, nv = k, v
			}
			if !pv.ok {
				nv = ""
			}
			next[nk] = priorVal{nv, pv.ok}
		}
		p.prior = next
	}
	for k, v := range p.groups {
		if nv, err := transcodeGroup(from, to, k, v); err == nil {
			p.groups[k] = nv
		}
	}
}
