package kiroku_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/kiroku-sfu/kiroku"

// allowedImports lists, for each top-level package group, the other groups
// it may import (design.md, "Packages and who may import whom"). A group is
// the first path element below the module; sub-packages (mux/mp4, ...) belong
// to their group and may import each other freely.
var allowedImports = map[string][]string{
	"mux":       {},
	"webhooks":  {},
	"sfu":       {"memudp"},
	"config":    {},
	"relay":     {"memudp"}, // the built-in TURN server; signaling knows it by an interface
	"devtools":  {},         // the dev tools web page; node mounts it on the signaling port
	"archive":   {"mux", "webhooks"},
	"signaling": {"sfu", "webhooks"},
	"api":       {"sfu", "signaling", "webhooks"},
	"uploader":  {"config"},
	"fixtures":  {"mux"},
	"testutil":  {"mux"},
	"loadgen":   {}, // a client written from the wire protocol, never from our server code
	"bench":     {"loadgen"},
	"cmd":       {"*"},
	"test":      {"*"}, // end-to-end tests wire whole programs, like cmd
	"":          {},    // the module root holds only this test

	// node assembles one kiroku node (design.md: "a node-assembly package of
	// its own, so cmd/ stays flag parsing and signals"); only cmd imports it.
	"node": {"sfu", "signaling", "api", "archive", "webhooks", "config", "relay", "mux", "devtools", "metrics", "logfile", "cluster", "memudp"},
	// metrics exports a node's counters to Prometheus; logfile is a log file
	// reopened on SIGHUP. Their callers feed them; they import none of ours.
	// cluster joins nodes over NATS JetStream (docs/cluster.md); signaling
	// and api know it only through interfaces of their own, and node adapts
	// it to them, so it imports none of ours.
	"cluster": {},
	"metrics": {},
	"logfile": {},
	// memudp hands datagrams between the SFU's media sockets and the TURN
	// server's relays in memory: a leaf both import, so neither imports
	// the other.
	"memudp": {},
}

func groupOf(pkg string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	group, _, _ := strings.Cut(rel, "/")
	return group
}

// TestPackageImportRules fails on any import edge between kiroku's packages
// that the design does not allow, and on any import of a cmd/ package.
func TestPackageImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var violations []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		from := fields[0]
		fromGroup := groupOf(from)
		allowed, known := allowedImports[fromGroup]
		if !known {
			violations = append(violations, from+": package group "+fromGroup+" is not in the allowed-imports table")
			continue
		}
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module+"/") && imp != module {
				continue
			}
			toGroup := groupOf(imp)
			if toGroup == "cmd" {
				violations = append(violations, from+" imports "+imp+": nothing may import cmd/")
				continue
			}
			if toGroup == fromGroup || contains(allowed, "*") || contains(allowed, toGroup) {
				continue
			}
			violations = append(violations, from+" imports "+imp)
		}
	}
	sort.Strings(violations)
	for _, v := range violations {
		t.Error(v)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestGroupOf pins how package paths map to groups.
func TestGroupOf(t *testing.T) {
	for _, tc := range []struct{ pkg, want string }{
		{module, ""},
		{module + "/mux", "mux"},
		{module + "/mux/codec/h264", "mux"},
		{module + "/cmd/sfu", "cmd"},
	} {
		if got := groupOf(tc.pkg); got != tc.want {
			t.Errorf("groupOf(%q) = %q, want %q", tc.pkg, got, tc.want)
		}
	}
}
