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
