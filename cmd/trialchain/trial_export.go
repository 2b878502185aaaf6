package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
)

func newTrialExportCmd() *cobra.Command {
	var sdtmDir, odmPath, recordsDir, created string
	c := &cobra.Command{
		Use:   "export (TRIAL | --trial ID) (--sdtm DIR | --odm FILE) [--records DIR]",
		Short: "Export the trial's collected data as CDISC SDTM Dataset-JSON 1.1 (DM, AE, VS, TS, TV) and/or ODM 1.3.2 with audit records",
		Long: `Export the data collected in a trial (read-only, no transaction).

--sdtm DIR writes dm.json, ae.json, vs.json, ts.json and tv.json as CDISC
Dataset-JSON 1.1, corrections applied; --odm FILE writes an ODM 1.3.2
ClinicalData snapshot with the audit record of every version (signer,
site, time, reason for change). Every row names its on-chain record
(TCSRCID) and the SHA-256 of that record's on-chain value (TCSRCHASH;
ODM: SourceID), so an auditor can check the export against a bundle.
Values kept off chain come from the site's record store (--records DIR,
as trial submit --save wrote it); without it only public fields export.` + queryNote,
		Example: `  trialchain trial export --trial NCT05503693 --sdtm sdtm/ --odm clinical.xml --records records/ --home devnet/node2`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			trial, err := trialArg(cmd, args)
			if err != nil {
				return err
			}
			if sdtmDir == "" && odmPath == "" {
				return fmt.Errorf("nothing to export: give --sdtm DIR and/or --odm FILE")
			}
			if created == "" {
				created = time.Now().UTC().Format("2006-01-02T15:04:05")
			}
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			d, err := loadTrialData(cmd, cl, trial, recordsDir)
			if err != nil {
				return err
			}
			var wrote []string
			if sdtmDir != "" {
				files, err := trials.SDTM(d, trials.SDTMOptions{Created: created})
				if err != nil {
					return err
				}
				if err := os.MkdirAll(sdtmDir, 0o755); err != nil {
					return err
				}
				names := make([]string, 0, len(files))
				for n := range files {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					p := filepath.Join(sdtmDir, n)
					if err := os.WriteFile(p, files[n], 0o644); err != nil {
						return err
					}
					wrote = append(wrote, p)
				}
			}
			if odmPath != "" {
				b, err := trials.ODM(d, created)
				if err != nil {
					return err
				}
				if err := os.WriteFile(odmPath, b, 0o644); err != nil {
					return err
				}
				wrote = append(wrote, odmPath)
			}
			res := map[string]any{"trial": trial, "files": wrote, "subjects": len(d.Subjects), "entries": len(d.Entries), "adverseEvents": len(d.AEs), "offChainRecords": len(d.Records)}
			return emit(cmd, res, func(w io.Writer) {
				fmt.Fprintf(w, "Exported %s: %d subjects, %d entries (%d with their off-chain record), %d adverse events.\n", trial, len(d.Subjects), len(d.Entries), len(d.Records), len(d.AEs))
				for _, p := range wrote {
					fmt.Fprintf(w, "  %s\n", p)
				}
			})
		},
	}
	addTrialFlag(c)
	c.Flags().StringVar(&sdtmDir, "sdtm", "", "write SDTM Dataset-JSON 1.1 datasets into this directory")
	c.Flags().StringVar(&odmPath, "odm", "", "write ODM 1.3.2 ClinicalData with audit records to this file")
	c.Flags().StringVar(&recordsDir, "records", "", "the site's record store (full records, for values kept off chain)")
	addRecordKeysFlag(c)
	c.Flags().StringVar(&created, "created", "", "creation date-time written into the files, YYYY-MM-DDThh:mm:ss (default: now, UTC)")
	return c
}

// loadTrialData reads the trial's protocol and records from the chain and
// the full records the site's store holds.
func loadTrialData(cmd *cobra.Command, cl *client.Client, trial, recordsDir string) (*trials.TrialData, error) {
	v, err := fetchTrial(cmd, cl, trial)
	if err != nil {
		return nil, err
	}
	d := &trials.TrialData{Protocol: v.Protocol, Records: map[string]trials.Record{}}
	list := func(kind string, out any) error {
		b, err := queryCall(cmd, cl, trials.ListCall(trial, kind))
		if err != nil {
			return err
		}
		var probe struct {
			Complete bool `json:"complete"`
		}
		if err := json.Unmarshal(b, &probe); err != nil {
			return fmt.Errorf("%s of %s: %w", kind, trial, err)
		}
		if !probe.Complete {
			return fmt.Errorf("the %s of %s do not fit in one list result: the export would be partial, so it stops", kind, trial)
		}
		return json.Unmarshal(b, out)
	}
	var sl model.List[model.Subject]
	var el model.List[model.Entry]
	var al model.List[model.AdverseEvent]
	if err := list("subjects", &sl); err != nil {
		return nil, err
	}
	if err := list("entries", &el); err != nil {
		return nil, err
	}
	if err := list("aes", &al); err != nil {
		return nil, err
	}
	d.Subjects, d.Entries, d.AEs = sl.Items, el.Items, al.Items
	if recordsDir != "" {
		st := trials.RecordStore{Dir: recordsDir, KeyDir: flagString(cmd, "record-keys")}
		for _, e := range d.Entries {
			r, err := st.Get(e.RecordHash)
			switch {
			case err == nil:
				d.Records[e.RecordHash] = r
			case errors.Is(err, os.ErrNotExist), errors.Is(err, trials.ErrShredded):
				// not this site's, or erased: public fields only
			default:
				return nil, err
			}
		}
	}
	return d, nil
}
