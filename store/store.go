// Package store keeps verified FPS notifications: Memory for tests and a
// single process, SQL for a database shared by several app servers. Both
// implement integration.NotificationStore and keep one record per
// fps.Notification.Key, so a notification delivered twice is stored once.
//
// NewSQL migrates the database's schema before use. The migrations form
// one ordered list; the table MigrationsTable records those applied.
package store

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"sync"

	"github.com/fpskit/fps/integration"
)

// ErrNotFound is returned by Get when no notification has the key.
var ErrNotFound = errors.New("store: notification not found")

// Memory is an in-memory integration.NotificationStore, safe for concurrent use.
// Its content is lost when the process ends.
type Memory struct {
	mu    sync.Mutex
	byKey map[string]*integration.StoredNotification
	keys  []string // in the order saved
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory {
	return &Memory{byKey: make(map[string]*integration.StoredNotification)}
}

// Save implements integration.NotificationStore.
func (m *Memory) Save(ctx context.Context, n *integration.StoredNotification) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if n.Key == "" {
		return false, errors.New("store: notification key is empty")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byKey[n.Key]; ok {
		return false, nil
	}
	m.byKey[n.Key] = clone(n)
	m.keys = append(m.keys, n.Key)
	return true, nil
}

// Get returns the notification stored under key, or ErrNotFound.
func (m *Memory) Get(ctx context.Context, key string) (*integration.StoredNotification, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.byKey[key]
	if !ok {
		return nil, ErrNotFound
	}
	return clone(n), nil
}

// List returns every stored notification, oldest ReceivedAt first.
func (m *Memory) List(ctx context.Context) ([]*integration.StoredNotification, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := make([]*integration.StoredNotification, 0, len(m.keys))
	for _, k := range m.keys {
		out = append(out, clone(m.byKey[k]))
	}
	m.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].ReceivedAt.Before(out[j].ReceivedAt) })
	return out, nil
}

func clone(n *integration.StoredNotification) *integration.StoredNotification {
	c := *n
	if n.Notification.Params != nil {
		c.Notification.Params = make(url.Values, len(n.Notification.Params))
		for k, vs := range n.Notification.Params {
			c.Notification.Params[k] = append([]string(nil), vs...)
		}
	}
	return &c
}
