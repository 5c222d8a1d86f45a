package cluster

// Kill drops the node as a crash would: no release, no deregistration.
func (c *Cluster) Kill() {
	c.mu.Lock()
	c.leaving = true
	c.mu.Unlock()
	c.cancel()
	c.nc.Close()
	c.wg.Wait()
}
