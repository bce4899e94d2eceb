package fleetproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/ofactor/ofactor/fleet"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
	"github.com/ofactor/ofactor/proto/fleetpb"
)

// envClient names the spec file of the client this process is to run.
const envClient = "OFACTOR_FLEET_CLIENT"

// ClientSpec is a client process's configuration: the fleet, and where its control endpoint
// listens. A client process is an application that computes desired state, driven over HTTP
// by the test that started it:
//
//	POST /put/BRIDGE     flows in ovs-ofctl syntax, one a line: the bridge's whole state
//	POST /update/BRIDGE  lines "add FLOW" or "remove FLOW"
//	GET  /status/BRIDGE  the owner's fleetpb.Status
//	POST /wait/BRIDGE?epoch=E&version=V  until the owner of epoch E installed version V
//	GET  /events         every event received, in order
//	POST /send?member=ADDR&activation=ID  flows: a put sent straight to that activation,
//	                     not through the cluster's lookup (a late write to an old owner)
type ClientSpec struct {
	Name string   `json:"name"`
	Etcd []string `json:"etcd"`
	HTTP string   `json:"http"`
}

// Event is one event a client process received, as GET /events lists it.
type Event struct {
	Type    string          `json:"type"` // Activated, VersionInstalled, Rejected, Demoted
	Bridge  string          `json:"bridge"`
	Member  string          `json:"member"`
	Epoch   uint64          `json:"epoch"`
	Version uint64          `json:"version,omitempty"`
	Raw     json.RawMessage `json:"raw"`
}

func clientMain(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetproc:", err)
		return 2
	}
	var s ClientSpec
	if err := json.Unmarshal(b, &s); err != nil {
		fmt.Fprintln(os.Stderr, "fleetproc:", path, err)
		return 2
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.Lock(os.Stderr), zap.InfoLevel))
	cs := &clientServer{}
	c, err := fleet.NewClient(fleet.ClientConfig{Name: s.Name, Etcd: s.Etcd, OnEvent: cs.onEvent, Logger: log})
	if err != nil {
		log.Error("client", zap.Error(err))
		return 1
	}
	defer c.Close()
	cs.c = c
	ln, err := net.Listen("tcp", s.HTTP)
	if err != nil {
		log.Error("control listener", zap.Error(err))
		return 2
	}
	go http.Serve(ln, cs.handler())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	<-ctx.Done()
	return 0
}

type clientServer struct {
	c      *fleet.Client
	mu     sync.Mutex
	events []Event
}

func (cs *clientServer) onEvent(m proto.Message) {
	raw, _ := protojson.Marshal(m)
	ev := Event{Type: string(m.ProtoReflect().Descriptor().Name()), Raw: raw}
	switch e := m.(type) {
	case *fleetpb.Activated:
		ev.Bridge, ev.Member, ev.Epoch = e.Bridge, e.Member, e.Epoch
	case *fleetpb.VersionInstalled:
		ev.Bridge, ev.Member, ev.Epoch, ev.Version = e.Bridge, e.Member, e.Epoch, e.Version
	case *fleetpb.Rejected:
		ev.Bridge, ev.Member, ev.Epoch, ev.Version = e.Bridge, e.Member, e.Epoch, e.Version
	case *fleetpb.Demoted:
		ev.Bridge, ev.Member, ev.Epoch = e.Bridge, e.Member, e.Epoch
	}
	cs.mu.Lock()
	cs.events = append(cs.events, ev)
	cs.mu.Unlock()
}

func parseLines(body io.Reader) ([]*openflow.FlowMod, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	var out []*openflow.FlowMod
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		fm, err := ofctl.ParseFlow(l, nil)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", l, err)
		}
		out = append(out, fm)
	}
	return out, nil
}

func (cs *clientServer) handler() http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v proto.Message, err error) {
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		b, _ := protojson.Marshal(v)
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}
	mux.HandleFunc("POST /put/{bridge}", func(w http.ResponseWriter, r *http.Request) {
		flows, err := parseLines(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := cs.c.Put(r.Context(), r.PathValue("bridge"), &messages.PutDesired{Flows: flows})
		reply(w, res, err)
	})
	mux.HandleFunc("POST /update/{bridge}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		up := &messages.UpdateFlows{}
		for _, l := range strings.Split(string(b), "\n") {
			op, flow, ok := strings.Cut(strings.TrimSpace(l), " ")
			if !ok {
				continue
			}
			fm, err := ofctl.ParseFlow(flow, nil)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if op == "remove" {
				up.Remove = append(up.Remove, fm)
			} else {
				up.Add = append(up.Add, fm)
			}
		}
		res, err := cs.c.Update(r.Context(), r.PathValue("bridge"), up)
		reply(w, res, err)
	})
	mux.HandleFunc("GET /status/{bridge}", func(w http.ResponseWriter, r *http.Request) {
		st, err := cs.c.Status(r.Context(), r.PathValue("bridge"))
		reply(w, st, err)
	})
	mux.HandleFunc("POST /wait/{bridge}", func(w http.ResponseWriter, r *http.Request) {
		epoch, _ := strconv.ParseUint(r.URL.Query().Get("epoch"), 10, 64)
		version, _ := strconv.ParseUint(r.URL.Query().Get("version"), 10, 64)
		ctx, cancel := context.WithTimeout(r.Context(), 60*time.Second)
		defer cancel()
		if err := cs.c.WaitInstalled(ctx, r.PathValue("bridge"), epoch, version); err != nil {
			http.Error(w, err.Error(), http.StatusGatewayTimeout)
		}
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(cs.events)
	})
	mux.HandleFunc("POST /send", func(w http.ResponseWriter, r *http.Request) {
		flows, err := parseLines(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		put, err := fleet.ToProtoPut(&messages.PutDesired{Flows: flows})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		put.Groups, put.Meters = &fleetpb.Objects{}, &fleetpb.Objects{}
		if put.Flows == nil {
			put.Flows = &fleetpb.Objects{}
		}
		pid := actor.NewPID(r.URL.Query().Get("member"), r.URL.Query().Get("activation"))
		cs.c.Cluster().ActorSystem.Root.Send(pid, put)
	})
	return mux
}

// ClientProc is a client process.
type ClientProc struct {
	Spec ClientSpec
	*child
}

// StartClient starts this executable again as a client of spec, its files in dir, and waits
// until its control endpoint answers.
func StartClient(dir string, spec ClientSpec) (*ClientProc, error) {
	c, err := startChild(filepath.Join(dir, "client-"+portOf(spec.HTTP)), envClient, spec)
	if err != nil {
		return nil, err
	}
	p := &ClientProc{Spec: spec, child: c}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := p.Events(); err == nil {
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("client process exited (%v); see %s", p.cmd.ProcessState, p.Log)
		default:
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("client process: no control endpoint; see %s", p.Log)
		}
	}
}

var controlClient = &http.Client{Timeout: 90 * time.Second}

func (p *ClientProc) call(method, path, body string, out proto.Message) error {
	req, err := http.NewRequest(method, "http://"+p.Spec.HTTP+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := controlClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errors.New(strings.TrimSpace(string(b)))
	}
	if out != nil {
		return protojson.Unmarshal(b, out)
	}
	return nil
}

// Put puts flows (ovs-ofctl syntax) as the bridge's whole desired state.
func (p *ClientProc) Put(bridge string, flows []string) (*fleetpb.DesiredAccepted, error) {
	var res fleetpb.DesiredAccepted
	return &res, p.call("POST", "/put/"+bridge, strings.Join(flows, "\n"), &res)
}

// Update adds and removes flows.
func (p *ClientProc) Update(bridge string, add, remove []string) (*fleetpb.DesiredAccepted, error) {
	var lines []string
	for _, f := range add {
		lines = append(lines, "add "+f)
	}
	for _, f := range remove {
		lines = append(lines, "remove "+f)
	}
	var res fleetpb.DesiredAccepted
	return &res, p.call("POST", "/update/"+bridge, strings.Join(lines, "\n"), &res)
}

// Status is the bridge's status from its owner.
func (p *ClientProc) Status(bridge string) (*fleetpb.Status, error) {
	var st fleetpb.Status
	return &st, p.call("GET", "/status/"+bridge, "", &st)
}

// WaitInstalled waits until the owner of epoch installed version.
func (p *ClientProc) WaitInstalled(bridge string, epoch, version uint64) error {
	return p.call("POST", fmt.Sprintf("/wait/%s?epoch=%d&version=%d", bridge, epoch, version), "", nil)
}

// Send sends a put of flows straight to an activation of member.
func (p *ClientProc) Send(member, activation string, flows []string) error {
	return p.call("POST", "/send?member="+member+"&activation="+activation, strings.Join(flows, "\n"), nil)
}

// Events lists the events the client received.
func (p *ClientProc) Events() ([]Event, error) {
	resp, err := httpClient.Get("http://" + p.Spec.HTTP + "/events")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var evs []Event
	return evs, json.NewDecoder(resp.Body).Decode(&evs)
}
