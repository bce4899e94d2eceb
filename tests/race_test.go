//go:build race

package tests

// raceEnabled: the tests run under the race detector (make test), which
// makes parsing some ten times slower; the scale tests take fewer flows.
const raceEnabled = true
