// Package cluster scales the Socket.IO server out over Redis: the
// namespaces' adapters for the configured mode (pubsub.go: Node's
// @socket.io/redis-adapter, which @socket.io/redis-emitter also speaks;
// streams.go: Node's @socket.io/redis-streams-adapter, which keeps sessions
// for recovery across nodes) on go-redis clients that back off while Redis
// is away, and a watch on the connection: the outage is logged once when it
// begins and once when it ends, and /metrics shows the state.
//
// Redis being unreachable never stops the node: it starts and serves its
// local clients, and joins the cluster when Redis answers.
//
// Wire names match Node's @socket.io adapters by default: with REDIS_PREFIX
// P, the stream is P, the pub/sub channels start with P# (streams) or P#,
// P-request#, P-response# (pubsub), and sessions are stored under
// "sio:session:" for the default prefix, "P:session:" otherwise.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/internal/metrics"
)

// Adapter modes (config.Config.AdapterMode).
const (
	ModeStreams = "streams"
	ModePubSub  = "pubsub"
)

// DefaultPrefix is Node's default key and channel prefix.
const DefaultPrefix = "socket.io"

// Options beyond the configuration; zero values get defaults.
type Options struct {
	Logger  *slog.Logger
	Metrics *metrics.Metrics // nil: no metrics
	// RequestTimeout bounds how long a fetchSockets waits for the other
	// nodes (default 3 s, under the namespaces' own 5 s guard).
	RequestTimeout time.Duration
	// ProbeInterval is how often the Redis connection is checked (default 250 ms).
	ProbeInterval time.Duration
}

// Cluster is the Redis side of one node.
type Cluster struct {
	mode, prefix   string
	log            *slog.Logger
	metrics        *metrics.Metrics
	requestTimeout time.Duration
	probeInterval  time.Duration

	dial *dialer
	cmd  *redis.Client // commands: publish, XADD, NUMSUB, sessions
	sub  *redis.Client // subscriptions and stream reads

	nodesChannel string // whose subscribers are the cluster's nodes

	uid     string        // the node's id on the wire
	subs    *subscriber   // the node's one subscription
	streams *streamReader // the node's one stream reader (streams mode)

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	start  sync.Once
	stop   sync.Once

	state     atomic.Int32 // stateUnknown, stateUp, stateDown
	downSince time.Time    // monitor goroutine only
	errs      atomic.Uint64
}

const (
	stateUnknown int32 = iota
	stateUp
	stateDown
)

// quietLogger keeps go-redis from printing a line per failed dial.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

var setLogger sync.Once

// New prepares the cluster for cfg (cfg.AdapterMode() must not be empty).
// It does not touch the network: call Adapter for the server options, then
// Start once the namespaces exist.
func New(cfg config.Config, o Options) (*Cluster, error) {
	mode := cfg.AdapterMode()
	if mode != ModeStreams && mode != ModePubSub {
		return nil, fmt.Errorf("cluster: adapter mode %q needs REDIS_URL", mode)
	}
	ropts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("cluster: REDIS_URL: %w", err)
	}
	setLogger.Do(func() { redis.SetLogger(quietLogger{}) })
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 3 * time.Second
	}
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = 250 * time.Millisecond
	}
	c := &Cluster{
		mode:           mode,
		prefix:         cfg.RedisPrefix,
		log:            o.Logger.With("component", "cluster", "mode", mode),
		metrics:        o.Metrics,
		requestTimeout: o.RequestTimeout,
		probeInterval:  o.ProbeInterval,
		dial:           newDialer(ropts.TLSConfig),
		done:           make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())

	cmdOpts := *ropts
	cmdOpts.Dialer = c.dial.once
	cmdOpts.DialTimeout = dialTimeout
	cmdOpts.DialerRetries = 1 // go-redis's pool probes once a second on its own
	cmdOpts.MaxRetries = 1
	cmdOpts.PoolSize = 8
	c.cmd = redis.NewClient(&cmdOpts)

	subOpts := *ropts
	subOpts.Dialer = c.dial.patient
	subOpts.DialTimeout = 5 * time.Second
	subOpts.DialerRetries = 1
	subOpts.MaxRetries = 1
	subOpts.PoolSize = 8
	c.sub = redis.NewClient(&subOpts)

	c.uid = randomUID()
	c.subs = newSubscriber(c)
	switch mode {
	case ModeStreams:
		c.streams = newStreamReader(c)
		c.nodesChannel = c.prefix + "#/#"
	case ModePubSub:
		c.nodesChannel = c.prefix + "-request#/#"
	}
	if c.metrics != nil {
		c.metrics.AdapterUp.WithLabelValues(mode).Set(0)
		c.metrics.AdapterNodes.WithLabelValues(mode).Set(0)
	}
	return c, nil
}

// Mode is "streams" or "pubsub".
func (c *Cluster) Mode() string { return c.mode }

// Start arms the reconnect backoff and starts watching Redis. The first
// check runs before Start returns, so a Redis unreachable at start-up is
// reported before the server says it is listening.
func (c *Cluster) Start() {
	c.start.Do(func() {
		c.dial.arm()
		c.probe()
		go c.monitor()
		if c.streams != nil {
			c.streams.start()
		}
	})
}

// Up reports whether Redis answered the last check.
func (c *Cluster) Up() bool { return c.state.Load() == stateUp }

// Close stops watching and closes the Redis clients. Waiting reconnects are
// released first, so closing works while Redis is away.
func (c *Cluster) Close() error {
	var err error
	c.stop.Do(func() {
		c.dial.disarm()
		c.cancel()
		c.start.Do(func() { close(c.done) }) // never started: nothing to wait for
		<-c.done
		if c.subs != nil {
			c.subs.close()
		}
		if c.streams != nil {
			c.streams.close()
		}
		err = errors.Join(c.sub.Close(), c.cmd.Close())
	})
	return err
}

func (c *Cluster) monitor() {
	defer close(c.done)
	t := time.NewTicker(c.probeInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			c.probe()
		}
	}
}

// probe checks Redis and logs state changes, once each.
func (c *Cluster) probe() {
	ctx, cancel := context.WithTimeout(c.ctx, max(c.probeInterval, time.Second))
	defer cancel()
	err := c.cmd.Ping(ctx).Err()
	var nodes int64
	if err == nil {
		var res map[string]int64
		if res, err = c.cmd.PubSubNumSub(ctx, c.nodesChannel).Result(); err == nil {
			nodes = res[c.nodesChannel]
		}
	}
	if c.ctx.Err() != nil {
		return
	}
	prev := c.state.Load()
	if c.metrics != nil {
		c.metrics.AdapterNodes.WithLabelValues(c.mode).Set(float64(nodes))
	}
	if err == nil {
		if prev == stateUp {
			return
		}
		c.state.Store(stateUp)
		if c.metrics != nil {
			c.metrics.AdapterUp.WithLabelValues(c.mode).Set(1)
		}
		if prev == stateDown {
			c.log.Info("redis reachable again: rejoined the cluster",
				"outage", time.Since(c.downSince).Round(time.Millisecond), "errors", c.errs.Swap(0))
		} else {
			c.log.Info("redis connected", "prefix", c.prefix)
		}
		return
	}
	if prev == stateDown {
		return
	}
	c.state.Store(stateDown)
	c.downSince = time.Now()
	c.errs.Store(0)
	if c.metrics != nil {
		c.metrics.AdapterUp.WithLabelValues(c.mode).Set(0)
		c.metrics.AdapterOutages.Inc()
	}
	if prev == stateUnknown {
		c.log.Warn("redis unreachable at start-up: serving local clients only, joining the cluster when it answers", "err", err)
	} else {
		c.log.Warn("redis connection lost: serving local clients only until it returns", "err", err)
	}
}

// noteError counts a Redis error reported by an adapter (never logged one
// by one: the monitor reports the outage).
func (c *Cluster) noteError(error) {
	c.errs.Add(1)
	if c.metrics != nil {
		c.metrics.AdapterErrors.Inc()
	}
}

// pause waits before a failed receive is retried.
func (c *Cluster) pause(ctx context.Context) {
	t := time.NewTimer(maxBackoff)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
