package model

// DUOTerm is one term of the GA4GH Data Use Ontology (DUO), attributed:
// "GA4GH Data Use Ontology, EBISPOT/DUO" (CC BY 4.0).
type DUOTerm struct {
	ID        string `json:"id"`
	Shorthand string `json:"shorthand"`
	Label     string `json:"label"`
	Kind      string `json:"kind"` // permission | modifier | root
}

// DUO term ids the access rules know.
const (
	DUOPermissionRoot  = "DUO:0000001"
	DUONoRestriction   = "DUO:0000004" // NRES
	DUOHMB             = "DUO:0000006" // health or medical or biomedical research
	DUODiseaseSpecific = "DUO:0000007" // DS
	DUOPOA             = "DUO:0000011" // population origins or ancestry research only
	DUOResearchSpecif  = "DUO:0000012" // RS research specific restrictions
	DUONoMethods       = "DUO:0000015" // NMDS no general methods research
	DUOGeneticOnly     = "DUO:0000016" // GSO genetic studies only
	DUOModifierRoot    = "DUO:0000017"
	DUONPUNCU          = "DUO:0000018" // not-for-profit, non-commercial use only
	DUOPublication     = "DUO:0000019" // PUB publication required
	DUOCollaboration   = "DUO:0000020" // COL collaboration required
	DUOEthics          = "DUO:0000021" // IRB ethics approval required
	DUOGeographic      = "DUO:0000022" // GS geographical restriction
	DUOMoratorium      = "DUO:0000024" // MOR publication moratorium
	DUOTimeLimit       = "DUO:0000025" // TS time limit on use
	DUOUserSpecific    = "DUO:0000026" // US user specific restriction
	DUOProjectSpecific = "DUO:0000027" // PS project specific restriction
	DUOInstitution     = "DUO:0000028" // IS institution specific restriction
	DUOReturn          = "DUO:0000029" // RTN return to database or resource
	DUOGRU             = "DUO:0000042" // general research use
	DUOClinicalCare    = "DUO:0000043" // CC clinical care use
	DUONPOA            = "DUO:0000044" // NPOA population origins or ancestry research prohibited
	DUONPU             = "DUO:0000045" // NPU not-for-profit organisation use only
	DUONCU             = "DUO:0000046" // NCU non-commercial use only
)

// DUOTerms is the vocabulary the contracts accept: the terms of the DUO
// release in ../shared/fixtures/duo/duo.csv (EBISPOT/DUO @81f5c3d), which
// a test checks this table against.
var DUOTerms = []DUOTerm{
	{DUOPermissionRoot, "", "data use permission", "root"},
	{DUONoRestriction, "NRES", "no restriction", "permission"},
	{DUOHMB, "HMB", "health or medical or biomedical research", "permission"},
	{DUODiseaseSpecific, "DS", "disease specific research", "permission"},
	{DUOPOA, "POA", "population origins or ancestry research only", "permission"},
	{DUOResearchSpecif, "RS", "research specific restrictions", "modifier"},
	{DUONoMethods, "NMDS", "no general methods research", "modifier"},
	{DUOGeneticOnly, "GSO", "genetic studies only", "modifier"},
	{DUOModifierRoot, "", "data use modifier", "root"},
	{DUONPUNCU, "NPUNCU", "not for profit, non commercial use only", "modifier"},
	{DUOPublication, "PUB", "publication required", "modifier"},
	{DUOCollaboration, "COL", "collaboration required", "modifier"},
	{DUOEthics, "IRB", "ethics approval required", "modifier"},
	{DUOGeographic, "GS", "geographical restriction", "modifier"},
	{DUOMoratorium, "MOR", "publication moratorium", "modifier"},
	{DUOTimeLimit, "TS", "time limit on use", "modifier"},
	{DUOUserSpecific, "US", "user specific restriction", "modifier"},
	{DUOProjectSpecific, "PS", "project specific restriction", "modifier"},
	{DUOInstitution, "IS", "institution specific restriction", "modifier"},
	{DUOReturn, "RTN", "return to database or resource", "modifier"},
	{DUOGRU, "GRU", "general research use", "permission"},
	{DUOClinicalCare, "CC", "clinical care use", "modifier"},
	{DUONPOA, "NPOA", "population origins or ancestry research prohibited", "modifier"},
	{DUONPU, "NPU", "not for profit organisation use only", "modifier"},
	{DUONCU, "NCU", "non-commercial use only", "modifier"},
}

// LookupDUO returns the term with id or shorthand s.
func LookupDUO(s string) (DUOTerm, bool) {
	for _, t := range DUOTerms {
		if t.ID == s || t.Shorthand != "" && t.Shorthand == s {
			return t, true
		}
	}
	return DUOTerm{}, false
}

// DUOName returns "SHORTHAND (ID)" or the id.
func DUOName(id string) string {
	if t, ok := LookupDUO(id); ok && t.Shorthand != "" {
		return t.Shorthand + " (" + t.ID + ")"
	}
	return id
}
