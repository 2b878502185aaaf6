package node

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestClientConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ClientConfigFile)
	want := &ClientConfig{Genesis: "genesis.json", Keyring: "keys", Nodes: []string{"http://127.0.0.1:26601", "http://127.0.0.1:26603"}}
	if err := want.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadClientConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	resolved := &ClientConfig{Genesis: filepath.Join(dir, "genesis.json"), Keyring: filepath.Join(dir, "keys"), Nodes: want.Nodes}
	if !reflect.DeepEqual(got, resolved) {
		t.Fatalf("got %+v, want %+v", got, resolved)
	}
	for _, tc := range []struct{ name, text, want string }{
		{"unknown key", "genesis = \"g.json\"\nnode = \"http://x\"\n", "unknown keys node"},
		{"wrong type", "nodes = \"http://x\"\n", "client config"},
		{"not toml", "genesis = \n", "client config"},
	} {
		p := filepath.Join(dir, tc.name+".toml")
		os.WriteFile(p, []byte(tc.text), 0o644)
		if _, err := LoadClientConfig(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := LoadClientConfig(filepath.Join(dir, "missing.toml")); err == nil {
		t.Error("a missing file loaded")
	}
}
