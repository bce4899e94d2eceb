package messages

import "time"

// Progress is published by the reconciler while a round is under way, at
// most a few times a second: Sent messages of the round have been handed to
// the connection, Confirmed of them are known processed by the switch
// (barrier-confirmed), of Total.
type Progress struct {
	Version   uint64
	Sent      int
	Confirmed int
	Total     int
}

// RoundFinished is published when a round ends, committed or not. The
// counts are of messages sent by kind; Refused of them the switch refused.
// Failed says why the bundle as a whole was not committed ("" when it was).
type RoundFinished struct {
	Version       uint64
	Duration      time.Duration // from the first message to the last barrier reply
	CommitLatency time.Duration // from COMMIT to its barrier reply
	FlowAdds      int
	FlowModifies  int
	FlowDeletes   int
	GroupMods     int
	MeterMods     int
	Refused       int
	Failed        string
	ErrorNames    []string // OVS's name of each refusal, e.g. OFPBAC_BAD_OUT_GROUP
}
