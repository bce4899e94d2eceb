package fleet

import (
	"slices"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

func flowTexts(t *testing.T, b *clientBridge) []string {
	t.Helper()
	p, err := b.wire()
	if err != nil {
		t.Fatal(err)
	}
	put, err := FromProtoPut(p)
	if err != nil {
		t.Fatal(err)
	}
	if put.Flows == nil || put.Groups == nil || put.Meters == nil {
		t.Fatalf("a re-put leaves a kind unchanged: %+v", put)
	}
	var out []string
	for _, fm := range put.Flows {
		out = append(out, strings.TrimSpace(string(ofctl.AppendFlow(nil, fm))))
	}
	return out
}

func flows(t *testing.T, lines ...string) []*openflow.FlowMod {
	t.Helper()
	var out []*openflow.FlowMod
	for _, l := range lines {
		out = append(out, mustFlow(t, l))
	}
	return out
}

// The client's state is its put with every update since applied, in one
// put: removals by key, additions replacing a flow with the same key in
// place, new ones after, as the reconciler applies them.
func TestClientState(t *testing.T) {
	b := &clientBridge{name: "br"}
	if err := b.set(&messages.PutDesired{Flows: flows(t,
		"priority=1,in_port=1,actions=output:2",
		"priority=1,in_port=2,actions=output:1",
		"priority=1,in_port=3,actions=drop",
	)}); err != nil {
		t.Fatal(err)
	}
	if err := b.apply(&messages.UpdateFlows{
		Remove: flows(t, "priority=1,in_port=2,actions=drop"), // the key is what counts
		Add:    flows(t, "priority=1,in_port=3,actions=output:4", "priority=2,in_port=5,actions=drop"),
	}); err != nil {
		t.Fatal(err)
	}
	got := flowTexts(t, b)
	want := []string{
		"priority=1,in_port=1 actions=output:2",
		"priority=1,in_port=3 actions=output:4",
		"priority=2,in_port=5 actions=drop",
	}
	if !slices.Equal(got, want) {
		t.Errorf("state\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A new put replaces everything.
	if err := b.set(&messages.PutDesired{}); err != nil {
		t.Fatal(err)
	}
	if got := flowTexts(t, b); len(got) != 0 {
		t.Errorf("after an empty put: %q", got)
	}
}

// Many updates do not grow the state without bound (removed flows leave
// holes that are compacted).
func TestClientStateCompacts(t *testing.T) {
	b := &clientBridge{name: "br"}
	if err := b.set(&messages.PutDesired{}); err != nil {
		t.Fatal(err)
	}
	f := flows(t, "priority=1,in_port=1,actions=drop")
	for range 1000 {
		if err := b.apply(&messages.UpdateFlows{Add: f}); err != nil {
			t.Fatal(err)
		}
		if err := b.apply(&messages.UpdateFlows{Remove: f}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(b.put.Flows); n > 100 {
		t.Errorf("%d slots for no flow", n)
	}
	if got := flowTexts(t, b); len(got) != 0 {
		t.Errorf("state %q", got)
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Name: "c", Etcd: []string{"http://127.0.0.1:2379"}, Listen: "127.0.0.1:7001",
		Bridges: []Bridge{{Name: "br-int"}, {Name: "br-ex"}}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no name", func(c *Config) { c.Name = "" }, "cluster: name is required"},
		{"no etcd", func(c *Config) { c.Etcd = nil }, "cluster: etcd: at least one endpoint"},
		{"bad listen", func(c *Config) { c.Listen = "7001" }, `cluster: listen "7001"`},
		{"port 0", func(c *Config) { c.Listen = "127.0.0.1:0" }, `cluster: listen "127.0.0.1:0": port "0"`},
		{"bad advertise", func(c *Config) { c.Advertise = "host" }, `cluster: advertise "host"`},
		{"duplicate", func(c *Config) { c.Bridges = append(c.Bridges, Bridge{Name: "br-int"}) }, "bridges[2]: br-int: duplicate name"},
		{"unnamed", func(c *Config) { c.Bridges = append(c.Bridges, Bridge{}) }, "bridges[2]: name is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			c.Bridges = slices.Clone(good.Bridges)
			tc.edit(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
