package main

// getList fetches a list the API answers as {"<key>": [...]}. Its error is
// c.get's, errPrinted included: the caller returns printed(err).
func getList[T any](c *adminClient, path, key string) ([]T, error) {
	var r map[string][]T
	if err := c.get(path, &r); err != nil {
		return nil, err
	}
	return r[key], nil
}

// getTenantList is getList for the list at suffix below the tenant's path.
func getTenantList[T any](c *adminClient, tenant *int64, suffix, key string) ([]T, error) {
	base, err := tenantPath(tenant)
	if err != nil {
		return nil, err
	}
	return getList[T](c, base+suffix, key)
}
