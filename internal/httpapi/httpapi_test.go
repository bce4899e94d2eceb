package httpapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/ofactor/ofactor/internal/metrics"
	"github.com/ofactor/ofactor/messages"
)

// Events and status answers drive the endpoints; a bridge that does not
// answer is reported, and fails /healthz, without hiding the others.
func TestEndpoints(t *testing.T) {
	m := metrics.New()
	a := m.AddBridge("br-a", "unix:/a.mgmt", func(time.Duration) (*messages.Status, error) {
		return &messages.Status{Connected: true, Seq: 1, InSync: true, InstalledKnown: true,
			Geneve:         messages.GeneveFieldAssigned{Seq: 1, Enabled: true, Index: 2, Class: 0x102, Type: 0x80, Len: 4},
			DesiredVersion: 3, InstalledVersion: 3, DesiredFlows: 10, InstalledFlows: 9, Rejected: 1}, nil
	})
	m.AddBridge("br-b", "unix:/b.mgmt", func(time.Duration) (*messages.Status, error) {
		return nil, errors.New("future: timeout")
	})
	// Connected, its tables not read yet: not in sync although the
	// versions agree, and no installed counts.
	m.AddBridge("br-c", "unix:/c.mgmt", func(time.Duration) (*messages.Status, error) {
		return &messages.Status{Connected: true, Seq: 4, Geneve: messages.GeneveFieldAssigned{Seq: 4},
			DesiredVersion: 2, InstalledVersion: 2, InstalledFlows: 7}, nil
	})
	c := m.Bridge("br-c")
	c.Observe(&messages.ConnectFailed{Target: "unix:/c.mgmt", Err: "unix:/c.mgmt: failed to connect to socket (Connection refused)", Attempt: 1})
	c.Observe(&messages.Drift{Flows: messages.DriftCounts{Added: 2, Removed: 1}, By: "monitor"})
	c.Observe(&messages.InSync{Version: 2, Cause: "heal"})
	c.Observe(&messages.Audited{Differences: 0})
	c.Observe(&messages.Conflict{Kind: "flow", Text: "priority=1 actions=drop", Count: 4, Backoff: time.Second})
	c.FileError(errors.New("flows.txt:3:7: unknown field frobnicate"))
	a.Observe(&messages.Connected{Seq: 1, Version: 4})
	a.Observe(&messages.Rejected{Kind: "flow", Text: "actions=group:9", Error: "OFPBAC_BAD_OUT_GROUP"})
	a.Observe(&messages.Progress{Version: 3, Sent: 5, Confirmed: 2, Total: 10})
	a.Observe(&messages.RoundFinished{Version: 3, FlowAdds: 10, Refused: 1, CommitLatency: 3 * time.Millisecond,
		Duration: 10 * time.Millisecond})
	a.Observe(&messages.VersionInstalled{Version: 3, Flows: 9, Rejected: 1})

	srv := httptest.NewServer(Handler(m))
	defer srv.Close()
	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	code, body := get("/status/br-a")
	var st metrics.Status
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
		t.Fatalf("/status/br-a: %d %v %s", code, err, body)
	}
	if st.State != "in_sync" || st.Geneve.Field != "tun_metadata2" || st.Installed == nil || st.Installed.Flows != 9 ||
		st.Rejected != 1 || st.LastError == nil || !strings.Contains(st.LastError.Message, "OFPBAC_BAD_OUT_GROUP") ||
		st.Progress != nil || st.Connection.Version != "OpenFlow13" {
		t.Errorf("br-a status: %s", body)
	}
	if code, body := get("/status/br-b"); code != 200 || !strings.Contains(body, `"state": "unresponsive"`) {
		t.Errorf("/status/br-b: %d %s", code, body)
	}
	code, body = get("/status/br-c")
	if code != 200 || !strings.Contains(body, `"state": "syncing"`) || !strings.Contains(body, `"installed": null`) ||
		!strings.Contains(body, "flows.txt:3:7: unknown field frobnicate") {
		t.Errorf("/status/br-c: %d %s", code, body)
	}
	if code, body := get("/healthz"); code != 503 || !strings.Contains(body, "br-b") {
		t.Errorf("/healthz: %d %q", code, body)
	}
	_, body = get("/metrics")
	for _, line := range []string{
		`ofactor_up{bridge="br-a"} 1`,
		`ofactor_up{bridge="br-b"} 0`,
		`ofactor_errors_total{bridge="br-a",error="OFPBAC_BAD_OUT_GROUP",kind="flow"} 1`,
		`ofactor_mods_sent_total{bridge="br-a",command="add",kind="flow"} 10`,
		`ofactor_bundle_commit_seconds_count{bridge="br-a"} 1`,
		`ofactor_geneve_index{bridge="br-a"} 2`,
		`ofactor_negotiation_state{bridge="br-a",state="enabled"} 1`,
		`ofactor_installed{bridge="br-a",kind="flow"} 9`,
		`ofactor_round_sent{bridge="br-a"} 0`,
		`ofactor_in_sync{bridge="br-a"} 1`,
		`ofactor_in_sync{bridge="br-c"} 0`,
		`ofactor_connect_failures_total{bridge="br-c"} 1`,
		`ofactor_drift_total{bridge="br-c",change="added",kind="flow"} 2`,
		`ofactor_drift_total{bridge="br-c",change="removed",kind="flow"} 1`,
		`ofactor_drift_total{bridge="br-c",change="modified",kind="group"} 0`,
		`ofactor_heal_rounds_total{bridge="br-c"} 1`,
		`ofactor_audits_total{bridge="br-c",result="clean"} 1`,
		`ofactor_conflicts_total{bridge="br-c"} 1`,
		`ofactor_file_errors_total{bridge="br-c"} 1`,
	} {
		if !strings.Contains(body, "\n"+line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if strings.Contains(body, `ofactor_installed{bridge="br-c"`) {
		t.Errorf("/metrics has installed counts for br-c, whose tables are not known")
	}

	// A bridge removed (SIGHUP) leaves no series behind.
	m.RemoveBridge("br-c")
	if _, body = get("/metrics"); strings.Contains(body, `bridge="br-c"`) {
		t.Errorf("/metrics after RemoveBridge still has br-c:\n%s", grepLines(body, "br-c"))
	}
	if code, _ := get("/status/br-c"); code != 404 {
		t.Errorf("/status/br-c after RemoveBridge: %d", code)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Only GET and HEAD are answered.
func TestMethods(t *testing.T) {
	m := metrics.New()
	srv, err := listen("127.0.0.1:0", m, zap.NewNop(), 8)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := "http://" + srv.Addr() + "/healthz"
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		req, _ := http.NewRequest(method, url, strings.NewReader("x"))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q; want 405, GET, HEAD", method, res.StatusCode, res.Header.Get("Allow"))
		}
	}
	for _, method := range []string{"GET", "HEAD"} {
		req, _ := http.NewRequest(method, url, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", method, res.StatusCode)
		}
	}
	s := srv.srv
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 {
		t.Errorf("timeouts: read header %v, read %v, write %v, idle %v", s.ReadHeaderTimeout, s.ReadTimeout,
			s.WriteTimeout, s.IdleTimeout)
	}
}

// Hundreds of idle keep-alive connections never hold more than the cap,
// and /healthz still answers at once: the idlest connection makes room.
func TestIdleConnectionsCapped(t *testing.T) {
	const limit, clients = 16, 300
	m := metrics.New()
	srv, err := listen("127.0.0.1:0", m, zap.NewNop(), limit)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range clients {
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(10 * time.Second)) // a failure, not a hang
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Close {
			t.Fatalf("client %d: %d, close %v", i, res.StatusCode, res.Close)
		}
		// Kept alive and idle now.
		if n := srv.ln.open(); n > limit {
			t.Fatalf("after %d clients the server holds %d connections, cap %d", i+1, n, limit)
		}
	}
	res, err := http.Get("http://" + srv.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("/healthz: %d", res.StatusCode)
	}
	// The clients first in are the ones cut off.
	conns[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conns[0].Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the first idle client: %v, want EOF (closed to make room)", err)
	}
}
