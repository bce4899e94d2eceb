package flowkey

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// A Template is a flow that names the negotiated Geneve option's field
// (ovs-ofctl text `geneve=0x5`, `move:geneve[0..14]->...`) before the
// switch has said which tun_metadataN holds it. It is made once, from the
// flow encoded with the field at two placeholder indexes; the bytes where
// the two encodings differ are the field numbers of the field's OXM/NXM
// headers, wherever they are (match, set_field, move, load, learn, ...).
// Rendering for index N writes N there: no text is parsed again.
//
// The one place an index moves other bytes is the match's canonical order,
// which sorts tun_metadata fields by index: a template whose match has
// another tun_metadata field beside the placeholder has its match
// normalized again when rendered.
type Template struct {
	flow     Flow  // encoded with the field at index a
	at       []int // offsets in key+value of the field-number bytes
	reorder  bool  // the match has other tun_metadata fields
	a        int
	Text     string // the flow's text, for messages to people
	keyLen   int
	valueLen int
	optLen   uint8
	version  uint8 // OpenFlow version of the encodings
}

// geneveWord finds the symbolic name of the negotiated Geneve field in a
// flow's text: "geneve" standing alone as a field name, e.g. "geneve=0x5",
// "NXM_NX_GENEVE[0..14]" is not it, "geneve[0..14]" is.
var geneveWord = regexp.MustCompile(`(^|[^A-Za-z0-9_])geneve([^A-Za-z0-9_]|$)`)

// UsesGeneve reports whether a flow's text names the Geneve field: such a
// flow is made a Template (and its text rendered again when the field
// changes).
func UsesGeneve(text string) bool {
	return strings.Contains(text, "geneve") && geneveWord.MatchString(text)
}

// OptLen returns the Geneve option length the template was made for.
func (t Template) OptLen() uint8 { return t.optLen }

// tunMetadataField is the NXM field number of tun_metadata0 (class
// NXM_NX, 0x0001); tun_metadataN is 40+N.
const tunMetadataField = 40

// NewTemplate makes the template of a flow given encoded twice, with the
// Geneve field at index a and at index b (a != b; two indexes the flow's
// text does not name itself).
func NewTemplate(text string, fa, fb Flow, a, b int, optLen, version uint8) (Template, error) {
	t := Template{flow: fa, a: a, Text: text, keyLen: len(fa.key), valueLen: len(fa.val), optLen: optLen, version: version}
	if a == b || len(fa.key) != len(fb.key) || len(fa.val) != len(fb.val) {
		return Template{}, fmt.Errorf("template %q: the two encodings differ in length", text)
	}
	wa, wb := byte((tunMetadataField+a)<<1), byte((tunMetadataField+b)<<1)
	kv, kvb := fa.key+fa.val, fb.key+fb.val
	for i := range len(kv) {
		if kv[i] == kvb[i] {
			continue
		}
		// The byte after an NXM_NX class (00 01): field << 1 | hasmask.
		if i < 2 || kv[i-2] != 0 || kv[i-1] != 1 || kv[i]&^1 != wa || kvb[i]&^1 != wb {
			return Template{}, fmt.Errorf("template %q: byte %d differs but is no tun_metadata header", text, i)
		}
		t.at = append(t.at, i)
	}
	if len(t.at) == 0 {
		return Template{}, fmt.Errorf("template %q: the flow does not name the Geneve field", text)
	}
	var m oxm.Match
	if _, err := m.UnmarshalOXM([]byte(fa.key[KeyFixed:])); err != nil {
		return Template{}, fmt.Errorf("template %q: match: %w", text, err)
	}
	n := 0
	for _, f := range m.Fields {
		if h := f.Header; h.Class() == 1 && h.Field() >= tunMetadataField && h.Field() < tunMetadataField+64 {
			n++
		}
	}
	t.reorder = n > 1
	return t, nil
}

// Render returns the flow with the Geneve field at index n.
func (t Template) Render(n int) (Flow, error) {
	if n < 0 || n > 63 {
		return Flow{}, fmt.Errorf("template %q: tun_metadata%d: no such field", t.Text, n)
	}
	kv := []byte(t.flow.key + t.flow.val)
	for _, i := range t.at {
		kv[i] = byte((tunMetadataField+n)<<1) | kv[i]&1
	}
	f := Flow{string(kv[:t.keyLen]), string(kv[t.keyLen:])}
	if !t.reorder {
		return f, nil
	}
	var m oxm.Match
	if _, err := m.UnmarshalOXM(kv[KeyFixed:t.keyLen]); err != nil {
		return Flow{}, fmt.Errorf("template %q: match: %w", t.Text, err)
	}
	m.NormalizeFor(t.version)
	key, err := m.AppendOXM(append([]byte(nil), kv[:KeyFixed]...))
	if err != nil {
		return Flow{}, fmt.Errorf("template %q: match: %w", t.Text, err)
	}
	return Flow{string(key), f.val}, nil
}
