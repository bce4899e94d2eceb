package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/metrics"
	"github.com/ofactor/ofactor/messages"
)

// Events and status answers drive the endpoints; a bridge that does not
// answer is reported, and fails /healthz, without hiding the others.
func TestEndpoints(t *testing.T) {
	m := metrics.New()
	a := m.AddBridge("br-a", "unix:/a.mgmt", func(time.Duration) (*messages.Status, error) {
		return &messages.Status{Connected: true, Seq: 1,
			Geneve:         messages.GeneveFieldAssigned{Seq: 1, Enabled: true, Index: 2, Class: 0x102, Type: 0x80, Len: 4},
			DesiredVersion: 3, InstalledVersion: 3, DesiredFlows: 10, InstalledFlows: 9, Rejected: 1}, nil
	})
	m.AddBridge("br-b", "unix:/b.mgmt", func(time.Duration) (*messages.Status, error) {
		return nil, errors.New("future: timeout")
	})
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
	if st.State != "in_sync" || st.Geneve.Field != "tun_metadata2" || st.Installed.Flows != 9 ||
		st.Rejected != 1 || st.LastError == nil || !strings.Contains(st.LastError.Message, "OFPBAC_BAD_OUT_GROUP") ||
		st.Progress != nil || st.Connection.Version != "OpenFlow13" {
		t.Errorf("br-a status: %s", body)
	}
	if code, body := get("/status/br-b"); code != 200 || !strings.Contains(body, `"state": "unresponsive"`) {
		t.Errorf("/status/br-b: %d %s", code, body)
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
	} {
		if !strings.Contains(body, "\n"+line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}
