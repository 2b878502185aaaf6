package node

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/keys"
)

// TestnetRoles are the member keys a testnet keyring holds, one per role,
// each named after its role.
var TestnetRoles = []block.Role{block.RoleAdmin, block.RoleSponsor, block.RoleSite, block.RoleRegulator, block.RoleCommittee, block.RoleResearcher}

// testnetOrg is the organisation of a testnet member: "Local ROLE", except
// the site, which is the first site of the built-in protocol template
// (trials/assets/protocol-template.json), so that the README's trial flow
// (register, then enrol --from site) works on a fresh devnet as written.
func testnetOrg(r block.Role) string {
	switch r {
	case block.RoleSite:
		return "site-melbourne"
	case block.RoleResearcher:
		return "uni-genomics"
	}
	return "Local " + r.String()
}

// Testnet describes a generated local network.
type Testnet struct {
	Dir     string
	Genesis *genesis.Genesis
	Homes   []string // node homes, node0 … node<N-1>
	Keyring string
}

// TestnetOptions configure NewTestnet.
type TestnetOptions struct {
	Validators int
	BasePort   int // validator i: mesh UDP BasePort+2i, API BasePort+2i+1 (0: pick free ports)
	ChainID    string
	Params     *genesis.Params
	// Hosts, if set, name one host per validator (a container's name on a
	// private network): validator i's mesh is Hosts[i]:BasePort and its API
	// Hosts[i]:BasePort+1, and its node listens on every interface
	// (0.0.0.0) on those ports, since each host has its own address.
	Hosts []string
	// Names, if set, name each validator (default node<i>), e.g. the
	// organisation running it.
	Names []string
	// DataDir, if set, is every node's data directory (an absolute path
	// such as a container's volume; default "data" in the node's home).
	DataDir string
}

// NewTestnet writes DIR/genesis.json, one node home per validator
// (DIR/node<i> with config.toml, genesis.json, node.key) and a keyring
// DIR/keys with one registered member key per role. It refuses a DIR that
// already holds a network.
func NewTestnet(dir string, o TestnetOptions) (*Testnet, error) {
	if o.Validators < 1 {
		return nil, errors.New("testnet: need at least one validator")
	}
	if o.ChainID == "" {
		o.ChainID = "trialchain-local"
	}
	if _, err := os.Stat(filepath.Join(dir, "genesis.json")); err == nil {
		return nil, fmt.Errorf("testnet: %s already holds a network (genesis.json exists); choose another --out or remove it", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	params := genesis.DefaultParams()
	if o.Params != nil {
		params = *o.Params
	}
	g := &genesis.Genesis{ChainID: o.ChainID, Time: time.Now().UTC().Truncate(time.Millisecond), Params: params}
	tn := &Testnet{Dir: dir, Genesis: g, Keyring: filepath.Join(dir, "keys")}
	if len(o.Hosts) > 0 && len(o.Hosts) != o.Validators {
		return nil, fmt.Errorf("testnet: %d hosts for %d validators", len(o.Hosts), o.Validators)
	}
	if len(o.Names) > 0 && len(o.Names) != o.Validators {
		return nil, fmt.Errorf("testnet: %d names for %d validators", len(o.Names), o.Validators)
	}
	var ports []int
	if len(o.Hosts) > 0 {
		if o.BasePort <= 0 || o.BasePort+1 > 65535 {
			return nil, fmt.Errorf("testnet: hosts need a fixed base port, not %d", o.BasePort)
		}
		for range o.Hosts {
			ports = append(ports, o.BasePort, o.BasePort+1)
		}
	} else {
		var err error
		if ports, err = pickPorts(o); err != nil {
			return nil, err
		}
	}
	var nodeKeys []*keys.Key
	for i := 0; i < o.Validators; i++ {
		name := fmt.Sprintf("node%d", i)
		if len(o.Names) > 0 {
			name = o.Names[i]
		}
		k, err := keys.Generate(name)
		if err != nil {
			return nil, err
		}
		nodeKeys = append(nodeKeys, k)
		host := "127.0.0.1"
		if len(o.Hosts) > 0 {
			host = o.Hosts[i]
		}
		g.Validators = append(g.Validators, genesis.Validator{ID: uint64(i + 1), Name: k.Name, Key: genesis.Key(k.Public()),
			Addr: net.JoinHostPort(host, strconv.Itoa(ports[2*i])), API: net.JoinHostPort(host, strconv.Itoa(ports[2*i+1]))})
	}
	ring := keys.Ring{Dir: tn.Keyring}
	for _, role := range TestnetRoles {
		k, err := ring.New(role.String())
		if err != nil {
			return nil, err
		}
		g.Members = append(g.Members, genesis.Member{Name: role.String(), Org: testnetOrg(role), Role: role, Key: genesis.Key(k.Public())})
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if err := g.Save(filepath.Join(dir, "genesis.json")); err != nil {
		return nil, err
	}
	for i, k := range nodeKeys {
		home := filepath.Join(dir, fmt.Sprintf("node%d", i))
		if err := os.MkdirAll(home, 0o700); err != nil {
			return nil, fmt.Errorf("testnet: %w", err)
		}
		if err := k.Save(filepath.Join(home, "node.key")); err != nil {
			return nil, err
		}
		if err := g.Save(filepath.Join(home, "genesis.json")); err != nil {
			return nil, err
		}
		cfg := &Config{ID: uint64(i + 1), Genesis: "genesis.json", Key: "node.key", DataDir: "data", LogLevel: "info"}
		if o.DataDir != "" {
			cfg.DataDir = o.DataDir
		}
		if len(o.Hosts) > 0 {
			cfg.Listen = net.JoinHostPort("0.0.0.0", strconv.Itoa(ports[2*i]))
			cfg.API = net.JoinHostPort("0.0.0.0", strconv.Itoa(ports[2*i+1]))
		}
		if err := cfg.Save(home); err != nil {
			return nil, err
		}
		tn.Homes = append(tn.Homes, home)
	}
	cc := &ClientConfig{Genesis: "genesis.json", Keyring: "keys"}
	for _, v := range g.Validators {
		cc.Nodes = append(cc.Nodes, "https://"+v.API)
	}
	if err := cc.Save(filepath.Join(dir, ClientConfigFile)); err != nil {
		return nil, err
	}
	return tn, nil
}

// pickPorts returns 2 ports per validator: fixed from BasePort, or free
// ones (a TCP and a UDP bind both succeed) when BasePort is 0.
func pickPorts(o TestnetOptions) ([]int, error) {
	n := 2 * o.Validators
	out := make([]int, 0, n)
	if o.BasePort > 0 {
		if o.BasePort+n > 65535 {
			return nil, fmt.Errorf("testnet: base port %d leaves no room for %d ports", o.BasePort, n)
		}
		for i := 0; i < n; i++ {
			out = append(out, o.BasePort+i)
		}
		return out, nil
	}
	// Free ports are drawn below Linux's default ephemeral range
	// (32768-60999), so that sockets bound to port 0 elsewhere on the
	// machine (clients, other tests) do not take them between now and the
	// moment the nodes bind. A port is kept if both a TCP and a UDP bind
	// succeed; the listeners are held until all are chosen.
	var hold []net.Listener
	defer func() {
		for _, l := range hold {
			l.Close()
		}
	}()
	seen := map[int]bool{}
	for tries := 0; len(out) < n; tries++ {
		if tries > 10000 {
			return nil, errors.New("testnet: no free ports in 20000-32767")
		}
		var b [2]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("testnet: pick port: %w", err)
		}
		port := 20000 + int(binary.BigEndian.Uint16(b[:]))%12768
		if seen[port] {
			continue
		}
		seen[port] = true
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			l.Close()
			continue
		}
		u.Close()
		hold = append(hold, l)
		out = append(out, port)
	}
	return out, nil
}
