package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/trialchain/trialchain/chain/genesis"
)

// ConfigFile is the name of a node's config file inside its home.
const ConfigFile = "config.toml"

// Config is a node's TOML configuration. Paths are relative to the home.
type Config struct {
	// ID is this validator's id: in genesis, or (on a chain whose genesis
	// names params.validator_group) the id a validator-add transaction
	// gives a validator joining later, whose config then sets Listen and
	// API to the addresses that transaction names.
	ID uint64 `toml:"id"`
	// Genesis is the genesis file (default "genesis.json").
	Genesis string `toml:"genesis"`
	// Key is the node's ed25519 key file (default "node.key"); its public
	// key must be the one genesis pins for ID.
	Key string `toml:"key"`
	// DataDir holds the Pebble store and the consensus WAL (default "data").
	DataDir string `toml:"data_dir"`
	// Listen is the UDP address of the validator mesh (default: the
	// validator's addr in genesis or in the set in force; required for a
	// validator joining later).
	Listen string `toml:"listen"`
	// API is the client API address: TLS on TCP (with the node key's
	// self-signed certificate, which clients pin from the genesis), plain
	// HTTP on the same TCP port when allowed (PlainHTTP), and HTTP/3 on
	// UDP, same port (default: the validator's api in genesis). Empty in
	// both places disables the API.
	API string `toml:"api"`
	// HTTP3 serves the API over HTTP/3 too (default true).
	HTTP3 *bool `toml:"http3"`
	// PlainHTTP also serves plain HTTP on the API's TCP port. It is only
	// ever honoured on a loopback address (default true there); set it
	// false to serve TLS only.
	PlainHTTP *bool `toml:"plain_http"`
	// Limits bound what clients can make the node spend (DefaultLimits
	// for any field left zero).
	Limits Limits `toml:"limits"`
	// DiskCheckInterval is how often a running node re-checks its stored
	// blocks, receipts and record log against the certified headers in the
	// background (default 10m; the full check, state included, runs at
	// every start). Negative turns the background check off.
	DiskCheckInterval time.Duration `toml:"disk_check_interval"`
	// RepairAttempts bounds how often a node whose store is damaged tries
	// to rebuild it from its peers before it stops with an error (default
	// 5); RepairRetry is the pause between attempts (default 5s).
	RepairAttempts int           `toml:"repair_attempts"`
	RepairRetry    time.Duration `toml:"repair_retry"`
	// Metrics is the address of the metrics listener: Prometheus metrics
	// at /metrics, liveness at /healthz, readiness at /readyz (empty: none;
	// start --metrics sets it). Plain HTTP: bind it where only monitoring
	// reaches.
	Metrics string `toml:"metrics"`
	// LogLevel is debug, info, warn or error (default info).
	LogLevel string `toml:"log_level"`
	// LogFormat is text or json (default text).
	LogFormat string `toml:"log_format"`

	home string
}

// LoadConfig reads home/config.toml and fills defaults.
func LoadConfig(home string) (*Config, error) {
	path := filepath.Join(home, ConfigFile)
	c := &Config{}
	md, err := toml.DecodeFile(path, c)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("node: no %s in %s: is this a node home? (create one with 'trialchain testnet')", ConfigFile, home)
		}
		return nil, fmt.Errorf("node: %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("node: %s: unknown settings %v", path, und)
	}
	c.home = home
	c.defaults()
	return c, nil
}

func (c *Config) defaults() {
	if c.Genesis == "" {
		c.Genesis = "genesis.json"
	}
	if c.Key == "" {
		c.Key = "node.key"
	}
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.DiskCheckInterval == 0 {
		c.DiskCheckInterval = 10 * time.Minute
	}
	if c.RepairAttempts <= 0 {
		c.RepairAttempts = 5
	}
	if c.RepairRetry <= 0 {
		c.RepairRetry = 5 * time.Second
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.HTTP3 == nil {
		t := true
		c.HTTP3 = &t
	}
	if c.PlainHTTP == nil {
		t := true
		c.PlainHTTP = &t
	}
	c.Limits = c.Limits.withDefaults()
}

// Save writes home/config.toml.
func (c *Config) Save(home string) error {
	var b strings.Builder
	if err := toml.NewEncoder(&b).Encode(c); err != nil {
		return fmt.Errorf("node: encode config: %w", err)
	}
	return genesis.WriteFileAtomic(filepath.Join(home, ConfigFile), []byte(b.String()), 0o644)
}

// Path resolves a path relative to the home.
func (c *Config) Path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.home, p)
}

// Home returns the node's home directory.
func (c *Config) Home() string { return c.home }

// Logger builds the node's structured logger.
func (c *Config) Logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("node: log_level %q: %w", c.LogLevel, err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch c.LogFormat {
	case "", "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("node: log_format %q: want text or json", c.LogFormat)
}

// IsLoopback reports whether addr's host is a loopback address.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// APIAddr is the client API address of the node at home: its config's api,
// or else the one genesis lists for its validator id.
func APIAddr(home string) (string, error) {
	c, err := LoadConfig(home)
	if err != nil {
		return "", err
	}
	if c.API != "" {
		return c.API, nil
	}
	g, err := genesis.Load(c.Path(c.Genesis))
	if err != nil {
		return "", err
	}
	v, ok := g.Validator(c.ID)
	if !ok || v.API == "" {
		return "", fmt.Errorf("node: %s has no client API address (set api in %s)", home, ConfigFile)
	}
	return v.API, nil
}
