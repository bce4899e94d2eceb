package textscan

import "testing"

func TestValueLen(t *testing.T) {
	stop := NewByteSet(", \t")
	for _, c := range []struct {
		in   string
		want int
	}{
		{"abc,def", 3},
		{"ct(commit,zone=5),next", 17},
		{"learn(a,b(c,d)),x", 15},
		{"open(a,b", 8},
		{"", 0},
		{" x", 0},
	} {
		if got := ValueLen(c.in, stop); got != c.want {
			t.Errorf("ValueLen(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}
