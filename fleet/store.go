package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// What the fleet keeps in etcd, besides the membership the protoactor
// provider keeps under /protoactor/CLUSTER/:
//
//	/ofactor/CLUSTER/epoch/BRIDGE   the bridge's ownership epoch, a counter
//	/ofactor/CLUSTER/owner/BRIDGE   JSON Owner: who took the last epoch
//
// Both are written in one transaction that also checks that the member's
// own registration is the one it joined with: a member the cluster has
// seen leave (its lease expired while it was paused or cut off) can never
// take an epoch again, even before it notices.
const keyPrefix = "/ofactor/"

// providerPrefix is the protoactor etcd provider's base key.
const providerPrefix = "/protoactor"

// ErrExpelled is returned when the member's registration in etcd is gone
// or was made anew: the cluster has seen this member leave and will never
// take it back under the same identity (protoactor blocks it).
var ErrExpelled = errors.New("fleet: this member left the cluster (its registration expired)")

// Owner is the etcd record of a bridge's owner: the member that took Epoch.
type Owner struct {
	Bridge   string    `json:"bridge"`
	Member   string    `json:"member"` // the member's address, host:port
	MemberID string    `json:"member_id"`
	Epoch    uint64    `json:"epoch"`
	Since    time.Time `json:"since"`
}

// store is the fleet's etcd keys for one cluster.
type store struct {
	cli     *clientv3.Client
	cluster string
}

func (s *store) epochKey(bridge string) string { return keyPrefix + s.cluster + "/epoch/" + bridge }
func (s *store) ownerKey(bridge string) string { return keyPrefix + s.cluster + "/owner/" + bridge }

// memberKey is where the protoactor provider registers a member, by its
// node id "CLUSTER@SYSTEMID" (cluster.Member.Id).
func (s *store) memberKey(nodeID string) string {
	return providerPrefix + "/" + s.cluster + "/" + nodeID
}

// registration returns the create revision of the member's registration,
// 0 when there is none.
func (s *store) registration(ctx context.Context, nodeID string) (int64, error) {
	resp, err := s.cli.Get(ctx, s.memberKey(nodeID))
	if err != nil {
		return 0, err
	}
	if len(resp.Kvs) == 0 {
		return 0, nil
	}
	return resp.Kvs[0].CreateRevision, nil
}

// nextEpoch advances the bridge's epoch by one and records o as its owner,
// in one transaction that holds only while the member's registration still
// has create revision reg. It returns the new epoch and the previous owner
// (zero when none).
func (s *store) nextEpoch(ctx context.Context, o Owner, reg int64) (uint64, Owner, error) {
	ek, ok := s.epochKey(o.Bridge), s.ownerKey(o.Bridge)
	mk := s.memberKey(o.MemberID)
	for {
		resp, err := s.cli.Txn(ctx).Then(clientv3.OpGet(ek), clientv3.OpGet(ok)).Commit()
		if err != nil {
			return 0, Owner{}, err
		}
		var cur uint64
		var rev int64
		var prev Owner
		if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
			if cur, err = strconv.ParseUint(string(kvs[0].Value), 10, 64); err != nil {
				return 0, Owner{}, fmt.Errorf("epoch of %s: %q: %w", o.Bridge, kvs[0].Value, err)
			}
			rev = kvs[0].ModRevision
		}
		if kvs := resp.Responses[1].GetResponseRange().Kvs; len(kvs) > 0 {
			_ = json.Unmarshal(kvs[0].Value, &prev) // a bad record is no owner
		}
		o.Epoch = cur + 1
		rec, _ := json.Marshal(o)
		put, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(ek), "=", rev),
				clientv3.Compare(clientv3.CreateRevision(mk), "=", reg)).
			Then(clientv3.OpPut(ek, strconv.FormatUint(o.Epoch, 10)), clientv3.OpPut(ok, string(rec))).
			Else(clientv3.OpGet(mk)).
			Commit()
		if err != nil {
			return 0, Owner{}, err
		}
		if put.Succeeded {
			return o.Epoch, prev, nil
		}
		if kvs := put.Responses[0].GetResponseRange().Kvs; len(kvs) == 0 || kvs[0].CreateRevision != reg {
			return 0, Owner{}, ErrExpelled
		}
		// Another member advanced the epoch between our read and write: again.
	}
}

// owners reads every bridge's owner record.
func (s *store) owners(ctx context.Context) (map[string]Owner, error) {
	prefix := keyPrefix + s.cluster + "/owner/"
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, err
	}
	out := make(map[string]Owner, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var o Owner
		if json.Unmarshal(kv.Value, &o) == nil {
			out[strings.TrimPrefix(string(kv.Key), prefix)] = o
		}
	}
	return out, nil
}
