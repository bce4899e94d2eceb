package openflow

// PortMap is a switch's port names and numbers, as ovs-ofctl resolves
// names online (ofputil_port_map): filled from a port description reply
// and kept current with the port status messages that follow. A name two
// ports share, or a number two names claim, resolves to nothing, as in
// OVS's namemap. The zero PortMap is empty and ready to use; it is not safe
// for concurrent use.
type PortMap struct {
	byNo   map[uint32]string
	byName map[string][]uint32 // more than one: ambiguous
}

// Apply takes a *PortDescReply (the whole port table: what the map held
// before is dropped) or a *PortStatus (one port added, modified or
// deleted), and says whether m was one of them.
func (pm *PortMap) Apply(m Message) bool {
	switch m := m.(type) {
	case *PortDescReply:
		pm.byNo, pm.byName = nil, nil
		for i := range m.Ports {
			pm.put(m.Ports[i].PortNo, m.Ports[i].Name)
		}
	case *PortStatus:
		pm.remove(m.PortNo)
		if m.Reason != PortReasonDelete {
			pm.put(m.PortNo, m.Name)
		}
	default:
		return false
	}
	return true
}

func (pm *PortMap) put(no uint32, name string) {
	if pm.byNo == nil {
		pm.byNo, pm.byName = map[uint32]string{}, map[string][]uint32{}
	}
	pm.remove(no)
	pm.byNo[no] = name
	pm.byName[name] = append(pm.byName[name], no)
}

func (pm *PortMap) remove(no uint32) {
	name, ok := pm.byNo[no]
	if !ok {
		return
	}
	delete(pm.byNo, no)
	nos := pm.byName[name]
	for i, n := range nos {
		if n == no {
			nos = append(nos[:i:i], nos[i+1:]...)
			break
		}
	}
	if len(nos) == 0 {
		delete(pm.byName, name)
	} else {
		pm.byName[name] = nos
	}
}

// Number returns the port called name, unless no port or more than one is.
func (pm *PortMap) Number(name string) (uint32, bool) {
	if nos := pm.byName[name]; len(nos) == 1 {
		return nos[0], true
	}
	return 0, false
}

// Name returns port no's name, unless it has none or shares it.
func (pm *PortMap) Name(no uint32) (string, bool) {
	name, ok := pm.byNo[no]
	if !ok || len(pm.byName[name]) != 1 {
		return "", false
	}
	return name, true
}

// Len is the number of ports the map holds.
func (pm *PortMap) Len() int { return len(pm.byNo) }
