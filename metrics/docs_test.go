package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDocsCoverEveryFamily keeps docs/metrics.md and the example Grafana
// dashboard in step with the families: every family is documented, and
// the dashboard is valid JSON that names only families that exist.
func TestDocsCoverEveryFamily(t *testing.T) {
	doc, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range wantFamilies {
		if !strings.Contains(string(doc), "| `"+f+"` |") {
			t.Errorf("docs/metrics.md has no table row for %s", f)
		}
	}
	raw, err := os.ReadFile("../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	name := regexp.MustCompile(`kiroku_[a-z_]+`)
	used := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				used++
				if base := strings.TrimSuffix(m, "_bucket"); !slices.Contains(wantFamilies, base) {
					t.Errorf("dashboard uses %s, which is no family", m)
				}
			}
		}
	}
	if used < len(wantFamilies) {
		t.Errorf("dashboard uses %d kiroku series, want at least one per family", used)
	}
}
