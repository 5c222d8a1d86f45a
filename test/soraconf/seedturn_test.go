package soraconf

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kiroku-sfu/kiroku/node"
)

// seedTURNBlock is the sora.conf TURN block of seed 000 (TURN-TLS,
// TURN-TCP and signaling on port 443), copied as the seed gives it.
const seedTURNBlock = `## TURN 機能を有効にするかどうかを指定してください
turn = true
## TURN 機能で利用するレルムを指定してください
turn_realm = sora-turn.example.com
## TURN 機能で TURN URL 払い出し機能で利用する FQDN (最後の . なし)を指定してください
turn_fqdn = sora-turn.example.com
## TURN 機能で TURN-TCP を有効にするかどうかを指定してください
turn_tcp = true
## TURN 機能で TURN-TCP を有効にした際に利用するポート番号を指定してください
turn_tcp_listen_port = 3478
## TURN 機能で TURN-TCP URL 払い出し時のポート番号を指定してください
turn_tcp_port = 443
## TURN 機能で TURN-TLS URL 払い出し機能を有効にするかどうかを指定してください
## オプションでデフォルトは false です
turn_tls = true
## TURN 機能で TURN-TLS URL 払い出し機能で利用する FQDN (最後の . なし)を指定してください
## turn_tls_fqdn は turn_fqdn の値を上書きします
turn_tls_fqdn = sora-turn.example.com
## TURN 機能で TURN-TLS URL 払い出し機能を有効にした際に利用するポート番号を指定してください
turn_tls_port = 443
`

// nodeLoad loads a sora.conf as the node does.
func nodeLoad(path string) (node.Settings, error) { return node.LoadSettings(path) }

// TestSeedTURNBlockLoads loads the seed's TURN block verbatim (with the
// address the relay needs): no error, and every key takes effect — the
// settings differ from the same file without each of its lines.
func TestSeedTURNBlockLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sora.conf")
	load := func(conf string) error {
		if err := os.WriteFile(path, []byte("ipv4_address = 192.0.2.10\n"+conf), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := nodeLoad(path)
		return err
	}
	if err := load(seedTURNBlock); err != nil {
		t.Fatalf("the seed's TURN block: %v", err)
	}
	full, _ := nodeLoad(path)
	for _, line := range strings.Split(seedTURNBlock, "\n") {
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "turn =") {
			continue
		}
		without := strings.Replace(seedTURNBlock, line+"\n", "", 1)
		if err := load(without); err != nil {
			continue // a key others depend on (turn_tcp for turn_tls)
		}
		if got, _ := nodeLoad(path); reflect.DeepEqual(got, full) {
			t.Errorf("%q changes nothing", line)
		}
	}
}
