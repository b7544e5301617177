package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// TrustedProxyPrefixes parses SOCKET_TRUSTED_PROXIES: IP addresses (as
// single-address prefixes) and CIDRs, or the single word "none" for an
// empty list.
func (c Config) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	if len(c.TrustedProxies) == 1 && strings.EqualFold(c.TrustedProxies[0], "none") {
		return nil, nil
	}
	prefixes := make([]netip.Prefix, 0, len(c.TrustedProxies))
	for _, s := range c.TrustedProxies {
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("%q is not an IP address or CIDR (or the single word none)", s)
			}
			prefixes = append(prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR (or the single word none)", s)
		}
		a = a.Unmap()
		prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	return prefixes, nil
}
