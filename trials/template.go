package trials

import (
	_ "embed"
	"encoding/json"

	"github.com/trialchain/trialchain/trials/model"
)

//go:embed assets/protocol-template.json
var templateJSON []byte

// DefaultTemplate returns the embedded protocol template: three visits,
// vital-signs, demographics and safety-laboratory forms, two sites
// (site-melbourne, site-sydney). An imported ResearchStudy supplies the
// id, title, phase, start date, arms and outcomes; set ConsentGroup
// before registering.
func DefaultTemplate() model.Protocol {
	var p model.Protocol
	if err := json.Unmarshal(templateJSON, &p); err != nil {
		panic("trials: embedded template: " + err.Error())
	}
	return p
}
