package fleet

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor/proto/fleetpb"
)

// FleetStatus is the fleet as one member sees it: /status on any member.
type FleetStatus struct {
	Member   string         `json:"member"`    // this member's address
	MemberID string         `json:"member_id"` // and cluster id
	Members  []string       `json:"members"`   // the membership, by address
	Bridges  []BridgeStatus `json:"bridges"`   // every bridge of the configuration
	Error    string         `json:"error,omitempty"`
}

// BridgeStatus is one bridge of the fleet: its owner by etcd's record (the
// member that took the latest epoch), and, when this member is the owner,
// what it knows first hand.
type BridgeStatus struct {
	Bridge     string    `json:"bridge"`
	Owner      string    `json:"owner"` // the owner's address; "" before any activation
	OwnerID    string    `json:"owner_id,omitempty"`
	Epoch      uint64    `json:"epoch"`
	Since      time.Time `json:"since,omitzero"` // when the epoch was taken
	OwnerAlive bool      `json:"owner_alive"`    // the owner is a member now
	Local      *Local    `json:"local,omitempty"`
}

// Local is an activation on this member.
type Local struct {
	Activation  string    `json:"activation"` // the activation's actor id on this member
	Epoch       uint64    `json:"epoch"`
	Since       time.Time `json:"since"`
	Master      bool      `json:"master"`
	MasterSince time.Time `json:"master_since,omitzero"`
	FlowMods    int       `json:"flow_mods"`
	GroupMods   int       `json:"group_mods"`
	MeterMods   int       `json:"meter_mods"`
	// The bridge's own status (its reconciler's), when it answered in time.
	Phase             string `json:"phase,omitempty"`
	Connected         bool   `json:"connected"`
	WaitingForDesired bool   `json:"waiting_for_desired"`
	DesiredVersion    uint64 `json:"desired_version"`
	InstalledVersion  uint64 `json:"installed_version"`
	DesiredFlows      int64  `json:"desired_flows"`
	InstalledFlows    int64  `json:"installed_flows"`
	LastError         string `json:"last_error,omitempty"`
}

// localStatusTimeout bounds asking the local activations for their status.
const localStatusTimeout = time.Second

// fill asks the activation for its bridge's status.
func (l *Local) fill(sys *actor.ActorSystem, pid *actor.PID) {
	res, err := sys.Root.RequestFuture(pid, &fleetpb.GetStatus{}, localStatusTimeout).Result()
	if err != nil {
		l.LastError = "status: " + err.Error()
		return
	}
	if st, ok := res.(*fleetpb.Status); ok {
		l.Phase, l.Connected, l.WaitingForDesired = st.Phase, st.Connected, st.WaitingForDesired
		l.DesiredVersion, l.InstalledVersion = st.DesiredVersion, st.InstalledVersion
		l.DesiredFlows, l.InstalledFlows, l.LastError = st.DesiredFlows, st.InstalledFlows, st.LastError
	}
}

// Status reads the owners from etcd and adds this member's activations.
func (m *Member) Status(ctx context.Context) *FleetStatus {
	st := &FleetStatus{Member: m.address, MemberID: m.nodeID}
	alive := map[string]bool{}
	for _, mem := range m.cl.MemberList.Members().Members() {
		st.Members = append(st.Members, mem.Address())
		alive[mem.Id] = true
	}
	slices.Sort(st.Members)
	owners, err := m.st.owners(ctx)
	if err != nil {
		st.Error = "etcd: " + err.Error()
	}
	var wg sync.WaitGroup
	for _, b := range m.cfg.Bridges {
		o := owners[b.Name]
		bs := BridgeStatus{Bridge: b.Name, Owner: o.Member, OwnerID: o.MemberID, Epoch: o.Epoch, Since: o.Since,
			OwnerAlive: alive[o.MemberID]}
		if a, ok := m.activation(b.Name); ok {
			bs.Local = &Local{Activation: a.pid.Id, Epoch: a.epoch, Since: a.since, Master: a.master, MasterSince: a.masterSince,
				FlowMods: a.flowMods, GroupMods: a.groupMods, MeterMods: a.meterMods}
			wg.Add(1)
			go func() {
				defer wg.Done()
				bs.Local.fill(m.sys, a.pid)
			}()
		}
		st.Bridges = append(st.Bridges, bs)
	}
	wg.Wait()
	return st
}

// Handler serves /status (the fleet) and /status/BRIDGE (one bridge) for
// the member current returns (Run replaces it when it rejoins); 503 while
// there is none.
func Handler(current func() *Member) http.Handler {
	mux := http.NewServeMux()
	serve := func(w http.ResponseWriter, r *http.Request) {
		m := current()
		if m == nil {
			http.Error(w, "not a member of the fleet (joining)", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		st := m.Status(ctx)
		var v any = st
		if name := strings.TrimPrefix(r.URL.Path, "/status/"); name != r.URL.Path && name != "" {
			i := slices.IndexFunc(st.Bridges, func(b BridgeStatus) bool { return b.Bridge == name })
			if i < 0 {
				http.Error(w, "no bridge "+name, http.StatusNotFound)
				return
			}
			v = st.Bridges[i]
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(v)
	}
	mux.HandleFunc("/status", serve)
	mux.HandleFunc("/status/", serve)
	return mux
}
