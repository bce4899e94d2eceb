package desired

import (
	"math/rand/v2"
	"testing"
)

// TestLineIndex checks the index against a map through random puts and
// deletes (tombstones, remakes, wrap-around probes) with lookups of
// present and absent hashes after each step.
func TestLineIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := newLineIndex(4)
	var ents []entry
	model := map[lineHash]int32{}
	var live []int32
	hash := func() lineHash { return lineHash{r.Uint64() % 512, r.Uint64()} } // homes collide often
	for step := range 20000 {
		if len(live) > 0 && r.IntN(3) == 0 {
			k := r.IntN(len(live))
			e := live[k]
			live[k] = live[len(live)-1]
			live = live[:len(live)-1]
			x.del(ents, e)
			delete(model, ents[e].h)
		} else {
			h := hash()
			if _, ok := model[h]; ok {
				continue
			}
			ents = append(ents, entry{h: h, key: "k"})
			e := int32(len(ents) - 1)
			x.put(ents, e)
			model[h] = e
			live = append(live, e)
		}
		if x.Len() != len(model) {
			t.Fatalf("step %d: Len %d, want %d", step, x.Len(), len(model))
		}
		for h, want := range model {
			if got, ok := x.get(ents, h); !ok || got != want {
				t.Fatalf("step %d: get(%v) = %d, %v, want %d", step, h, got, ok, want)
			}
			break // one present hash a step; all of them at the end
		}
		if _, ok := x.get(ents, hash()); ok && len(model) == 0 {
			t.Fatalf("step %d: found a hash in an empty index", step)
		}
	}
	for h, want := range model {
		if got, ok := x.get(ents, h); !ok || got != want {
			t.Fatalf("get(%v) = %d, %v, want %d", h, got, ok, want)
		}
	}
	for range 1000 {
		h := hash()
		_, in := model[h]
		if _, ok := x.get(ents, h); ok != in {
			t.Fatalf("get(%v): found %v, in the model %v", h, ok, in)
		}
	}
}
