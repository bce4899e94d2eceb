package ofactor

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor/openflow"
)

// Spawn refuses at once what could never connect, naming what is wrong,
// and a second bridge of one name, naming the name.
func TestSpawnValidates(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	defer sys.Shutdown()
	for _, tc := range []struct {
		cfg  Config
		want string // "" : valid
	}{
		{Config{Target: "unix:/x/br-int.mgmt"}, ""},
		{Config{Target: "tcp:127.0.0.1"}, ""},
		{Config{Target: "tcp:[::1]:6653"}, ""},
		{Config{Target: "tcp:ovs-1.example.com:6640"}, ""},
		{Config{Target: "foo:bar"}, `target "foo:bar": unknown kind "foo"`},
		{Config{Target: "unix:"}, `target "unix:": want unix:PATH`},
		{Config{Target: "/x/br-int.mgmt"}, "want unix:PATH, tcp:HOST[:PORT] or ssl:HOST[:PORT]"},
		{Config{Target: "tcp:1.2.3.4.5:66"}, `bad IP address "1.2.3.4.5"`},
		{Config{Target: "tcp:127.0.0.1:99999"}, `bad port number "99999"`},
		{Config{Target: "tcp:127.0.0.1:0"}, `bad port number "0"`},
		{Config{Target: "tcp:127.0.0.1:http"}, `bad port number "http"`},
		{Config{Target: "tcp:a b:6653"}, `bad host "a b"`},
		{Config{Target: "tcp::6653"}, "no host"},
		{Config{Target: "ssl:127.0.0.1"}, "ssl needs --private-key, --certificate, --ca-cert"},
		{Config{Target: "tcp:127.0.0.1", TLS: TLSFiles{CACert: "ca.pem"}}, "apply to ssl: targets only"},
		{Config{Bridge: "br/int"}, `bridge "br/int": a name has no '/'`},
		{Config{Geneve: GeneveOption{Class: 1, Type: 2, Len: 6}}, "Geneve option length 6"},
		{Config{Versions: []uint8{openflow.Version13, openflow.Version15}}, ""},
		{Config{Versions: []uint8{openflow.Version10}}, "OpenFlow version OpenFlow10: ofactor speaks OpenFlow13, OpenFlow14, OpenFlow15"},
	} {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want one containing %q", tc.cfg, err, tc.want)
		}
		if tc.want == "" {
			continue
		}
		if b, err := Spawn(sys.Root, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Spawn %+v: %v, %v; want the error at once", tc.cfg, b, err)
		}
	}

	cfg := Config{Bridge: "br-twice", Target: "unix:/nonexistent/br-twice.mgmt"}
	b, err := Spawn(sys.Root, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { sys.Root.PoisonFuture(b.PID).Wait() }() // not PoisonFuture(...) now
	if _, err := Spawn(sys.Root, cfg); err == nil || !strings.Contains(err.Error(), "bridge br-twice: a bridge of this name is already running") {
		t.Errorf("second bridge of one name: %v", err)
	}
}
