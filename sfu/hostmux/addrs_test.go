package hostmux

import (
	"net/netip"
	"slices"
	"testing"
)

// TestInterfaceAddresses: the listing rescans use gives the addresses the
// standard library gives for the interfaces that are up.
func TestInterfaceAddresses(t *testing.T) {
	got, err := interfaceAddresses()
	if err != nil {
		t.Fatal(err)
	}
	want, err := interfaceAddressesEach()
	if err != nil {
		t.Fatal(err)
	}
	sorted := func(a []netip.Addr) []netip.Addr {
		a = slices.Clone(a)
		slices.SortFunc(a, netip.Addr.Compare)
		return slices.Compact(a)
	}
	if !slices.Equal(sorted(got), sorted(want)) {
		t.Fatalf("addresses %v, want %v", sorted(got), sorted(want))
	}
	if !slices.Contains(got, netip.MustParseAddr("127.0.0.1")) {
		t.Fatalf("addresses %v lack 127.0.0.1", got)
	}
}
