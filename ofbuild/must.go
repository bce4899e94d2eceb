package ofbuild

import "github.com/ofactor/ofactor/openflow"

// MustFlowMod is FlowMod for flows written out in a program, whose
// mistakes are the program's: it panics on an error.
func (f *FlowBuilder) MustFlowMod() *openflow.FlowMod {
	fm, err := f.FlowMod()
	if err != nil {
		panic("ofbuild: " + err.Error())
	}
	return fm
}
