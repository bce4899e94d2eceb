package fleet

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
	"github.com/ofactor/ofactor/proto/fleetpb"
)

func mustFlow(t testing.TB, s string) *openflow.FlowMod {
	t.Helper()
	fm, err := ofctl.ParseFlow(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fm
}

func goldenPut(t testing.TB) *messages.PutDesired {
	t.Helper()
	g, err := ofctl.ParseGroup("group_id=1,type=select,bucket=output:1,bucket=output:2", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ofctl.ParseMeter("meter=1,kbps,band=type=drop,rate=1000", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &messages.PutDesired{
		Flows: []*openflow.FlowMod{
			mustFlow(t, "table=0,priority=100,in_port=1,actions=output:2"),
			mustFlow(t, "table=1,priority=10,ip,nw_dst=10.0.0.1,actions=group:1"),
		},
		Groups:      []*openflow.GroupMod{g},
		Meters:      []*openflow.MeterMod{m},
		GeneveFlows: []string{"priority=5,geneve=0x5,actions=drop"},
		SwitchFlows: []string{"priority=6,in_port=vm1,actions=output:vm2"},
	}
}

// texts renders a put's objects in ovs-ofctl syntax, to compare puts.
func texts(p *messages.PutDesired) []string {
	var out []string
	for _, fm := range p.Flows {
		out = append(out, "flow "+string(ofctl.AppendFlow(nil, fm)))
	}
	for _, g := range p.Groups {
		out = append(out, "group "+string(ofctl.AppendGroup(nil, g)))
	}
	for _, m := range p.Meters {
		out = append(out, "meter "+string(ofctl.AppendMeter(nil, m)))
	}
	out = append(out, p.GeneveFlows...)
	return append(out, p.SwitchFlows...)
}

func TestPutRoundTrip(t *testing.T) {
	in := goldenPut(t)
	pb, err := ToProtoPut(in)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := proto.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	var back fleetpb.PutDesired
	if err := proto.Unmarshal(wire, &back); err != nil {
		t.Fatal(err)
	}
	out, err := FromProtoPut(&back)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(texts(in), texts(out)); d != "" {
		t.Errorf("round trip (-in +out):\n%s", d)
	}
	// Absent kinds stay nil ("unchanged"); present empty ones are empty.
	out, err = FromProtoPut(&fleetpb.PutDesired{Groups: &fleetpb.Objects{}})
	if err != nil || out.Flows != nil || out.Groups == nil || len(out.Groups) != 0 || out.Meters != nil {
		t.Errorf("presence: %+v %v", out, err)
	}
}

// Every way a put from the wire can be wrong is an error that says where.
func TestFromProtoPutErrors(t *testing.T) {
	pb, err := ToProtoPut(goldenPut(t))
	if err != nil {
		t.Fatal(err)
	}
	flow, group := pb.Flows.Msgs[0], pb.Groups.Msgs[0]
	for _, tc := range []struct {
		name string
		put  *fleetpb.PutDesired
		want string
	}{
		{"group where a flow goes", &fleetpb.PutDesired{Flows: &fleetpb.Objects{Msgs: [][]byte{flow, group}}}, "put: flow[1]: *openflow.GroupMod, not a flow mod"},
		{"flow where a meter goes", &fleetpb.PutDesired{Meters: &fleetpb.Objects{Msgs: [][]byte{flow}}}, "put: meter[0]: *openflow.FlowMod"},
		{"empty message", &fleetpb.PutDesired{Groups: &fleetpb.Objects{Msgs: [][]byte{nil}}}, "put: group[0]: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromProtoPut(tc.put)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want %q...", err, tc.want)
			}
		})
	}
	// Every truncation of every object.
	for kind, msgs := range map[string][]byte{"flow": flow, "group": group, "meter": pb.Meters.Msgs[0]} {
		for n := range len(msgs) {
			o := &fleetpb.Objects{Msgs: [][]byte{msgs[:n]}}
			put := &fleetpb.PutDesired{}
			switch kind {
			case "flow":
				put.Flows = o
			case "group":
				put.Groups = o
			case "meter":
				put.Meters = o
			}
			if _, err := FromProtoPut(put); err == nil || !strings.HasPrefix(err.Error(), "put: "+kind+"[0]: ") {
				t.Errorf("%s truncated to %d bytes: %v", kind, n, err)
			}
		}
	}
	if _, err := ToProtoPut(&messages.PutDesired{More: true}); err == nil {
		t.Error("a put in parts crossed processes")
	}
	if _, err := ToProtoPut(&messages.PutDesired{Canonical: []flowkey.Flow{{}}}); err == nil {
		t.Error("canonical flows crossed processes")
	}
}

func TestUpdateRoundTrip(t *testing.T) {
	in := &messages.UpdateFlows{
		Add:    []*openflow.FlowMod{mustFlow(t, "priority=1,in_port=3,actions=drop")},
		Remove: []*openflow.FlowMod{mustFlow(t, "priority=100,in_port=1,actions=drop")},
	}
	pb, err := ToProtoUpdate(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := FromProtoUpdate(pb)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(texts(&messages.PutDesired{Flows: append(in.Add, in.Remove...)}),
		texts(&messages.PutDesired{Flows: append(out.Add, out.Remove...)})); d != "" {
		t.Error(d)
	}
	if _, err := FromProtoUpdate(&fleetpb.UpdateFlows{Remove: [][]byte{{4, 14}}}); err == nil ||
		!strings.HasPrefix(err.Error(), "put: remove[0]: ") {
		t.Errorf("truncated remove: %v", err)
	}
}

// FuzzFromProtoPut: a put from the wire decodes, encodes and decodes to
// the same objects.
func FuzzFromProtoPut(f *testing.F) {
	pb, err := ToProtoPut(goldenPut(f))
	if err != nil {
		f.Fatal(err)
	}
	seed, _ := proto.Marshal(pb)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		var in fleetpb.PutDesired
		if proto.Unmarshal(b, &in) != nil {
			return
		}
		put, err := FromProtoPut(&in)
		if err != nil {
			return
		}
		again, err := ToProtoPut(put)
		if err != nil {
			return // decodes but does not encode (an object the codec only carries)
		}
		put2, err := FromProtoPut(again)
		if err != nil {
			t.Fatalf("re-encoded put does not decode: %v", err)
		}
		if d := cmp.Diff(texts(put), texts(put2)); d != "" {
			t.Fatalf("decode, encode, decode differs:\n%s", d)
		}
	})
}
