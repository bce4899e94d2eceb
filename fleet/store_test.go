package fleet

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ofactor/ofactor/internal/etcdtest"
)

func newStore(t *testing.T) *store {
	t.Helper()
	e := etcdtest.Start(t)
	cli, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return &store{cli: cli, cluster: "c"}
}

// registerMember puts a member registration as the protoactor provider does.
func registerMember(t *testing.T, s *store, node string) int64 {
	t.Helper()
	resp, err := s.cli.Put(context.Background(), s.memberKey(node), "{}")
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}

// Epochs advance by one per activation, whoever takes them, and every
// taker learns who had the bridge before it.
func TestStoreEpochs(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	regA, regB := registerMember(t, s, "c@a"), registerMember(t, s, "c@b")
	e, prev, err := s.nextEpoch(ctx, Owner{Bridge: "br-int", Member: "h:1", MemberID: "c@a"}, regA)
	if err != nil || e != 1 || prev.MemberID != "" {
		t.Fatalf("first epoch %d prev %+v err %v", e, prev, err)
	}
	e, prev, err = s.nextEpoch(ctx, Owner{Bridge: "br-int", Member: "h:2", MemberID: "c@b"}, regB)
	if err != nil || e != 2 || prev.MemberID != "c@a" || prev.Epoch != 1 {
		t.Fatalf("second epoch %d prev %+v err %v", e, prev, err)
	}
	if e, _, err = s.nextEpoch(ctx, Owner{Bridge: "br-ex", MemberID: "c@b"}, regB); err != nil || e != 1 {
		t.Fatalf("another bridge: epoch %d err %v", e, err)
	}
	owners, err := s.owners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if o := owners["br-int"]; o.MemberID != "c@b" || o.Epoch != 2 || o.Member != "h:2" || len(owners) != 2 {
		t.Errorf("owners %+v", owners)
	}
}

// Concurrent takers never get the same epoch (the transaction retries).
func TestStoreEpochsConcurrent(t *testing.T) {
	s := newStore(t)
	reg := registerMember(t, s, "c@a")
	const n = 20
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, _, err := s.nextEpoch(context.Background(), Owner{Bridge: "br", MemberID: "c@a"}, reg)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[e] {
				t.Errorf("epoch %d taken twice", e)
			}
			seen[e] = true
		}()
	}
	wg.Wait()
	for e := uint64(1); e <= n; e++ {
		if !seen[e] {
			t.Errorf("epoch %d never taken: %v", e, seen)
		}
	}
}

// A member whose registration is gone, or was made anew (it expired and
// the provider registered again), cannot take an epoch.
func TestStoreEpochExpelled(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	reg := registerMember(t, s, "c@a")
	if _, _, err := s.nextEpoch(ctx, Owner{Bridge: "br", MemberID: "c@a"}, reg); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cli.Delete(ctx, s.memberKey("c@a")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.nextEpoch(ctx, Owner{Bridge: "br", MemberID: "c@a"}, reg); !errors.Is(err, ErrExpelled) {
		t.Fatalf("registration gone: %v, want ErrExpelled", err)
	}
	registerMember(t, s, "c@a")
	if _, _, err := s.nextEpoch(ctx, Owner{Bridge: "br", MemberID: "c@a"}, reg); !errors.Is(err, ErrExpelled) {
		t.Fatalf("registration made anew: %v, want ErrExpelled", err)
	}
	if got, err := s.registration(ctx, "c@a"); err != nil || got == reg || got == 0 {
		t.Errorf("registration %d (was %d) %v", got, reg, err)
	}
	if owners, _ := s.owners(ctx); owners["br"].Epoch != 1 {
		t.Errorf("an expelled member moved the epoch: %+v", owners)
	}
}
