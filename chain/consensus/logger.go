package consensus

import (
	"fmt"
	"log/slog"
)

// bftLogger adapts slog to SmartBFT's Logger. SmartBFT logs a lot at info
// level; it is demoted to debug so a node's log stays readable.
type bftLogger struct{ l *slog.Logger }

func (b *bftLogger) Debugf(f string, a ...any) { b.l.Debug(fmt.Sprintf(f, a...), "src", "smartbft") }
func (b *bftLogger) Infof(f string, a ...any)  { b.l.Debug(fmt.Sprintf(f, a...), "src", "smartbft") }
func (b *bftLogger) Warnf(f string, a ...any)  { b.l.Warn(fmt.Sprintf(f, a...), "src", "smartbft") }
func (b *bftLogger) Errorf(f string, a ...any) { b.l.Error(fmt.Sprintf(f, a...), "src", "smartbft") }
func (b *bftLogger) Panicf(f string, a ...any) {
	msg := fmt.Sprintf(f, a...)
	b.l.Error(msg, "src", "smartbft")
	panic(msg)
}
