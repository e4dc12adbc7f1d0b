package main

import (
	"encoding/json"
	"fmt"
)

// getList fetches a list the API answers as {"<key>": [...]}, possibly beside
// other fields such as "total" (paged lists). Its error is c.get's,
// errPrinted included: the caller returns printed(err).
func getList[T any](c *adminClient, path, key string) ([]T, error) {
	var r map[string]json.RawMessage
	if err := c.get(path, &r); err != nil {
		return nil, err
	}
	raw, ok := r[key]
	if !ok {
		return nil, nil
	}
	var items []T
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("decode %s from %s: %w", key, path, err)
	}
	return items, nil
}

// getTenantList is getList for the list at suffix below the tenant's path.
func getTenantList[T any](c *adminClient, tenant *int64, suffix, key string) ([]T, error) {
	base, err := tenantPath(tenant)
	if err != nil {
		return nil, err
	}
	return getList[T](c, base+suffix, key)
}
