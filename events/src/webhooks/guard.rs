//! The SSRF guard: a webhook URL must be `http` or `https` with a host, and
//! every address it resolves to must be public — not loopback, private,
//! shared (CGNAT), link-local (where cloud metadata lives, 169.254.169.254),
//! unique-local, multicast, documentation or otherwise reserved — unless
//! `webhooks.allow_private_targets` is set. Checked when an endpoint is saved
//! (every address), and again at each connection: the HTTP client resolves
//! through [`Guard`], which keeps only public addresses, so a name that
//! later resolves elsewhere (DNS rebinding) reaches nothing private.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// How long a name may take to resolve when an endpoint is saved.
const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("not a URL: {0}")]
    Malformed(String),
    #[error("the URL must start with https:// or http://")]
    Scheme,
    #[error("the URL must not carry a user name or password")]
    Credentials,
    #[error("{0} does not resolve")]
    Unresolvable(String),
    #[error("{host} resolves to {addr}, a loopback, private, link-local or reserved address")]
    Private { host: String, addr: IpAddr },
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public_v4(v4);
            }
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local (fd00:ec2::254 among them)
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || v6.segments()[..6] == Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0).segments()[..6])
            // NAT64
        }
    }
}

/// Checks URLs and resolves names for the delivery client.
#[derive(Debug, Clone, Copy)]
pub struct Guard {
    /// `webhooks.allow_private_targets`: let anything through (tests, a
    /// receiver on the same host or network).
    pub allow_private: bool,
}

impl Guard {
    /// Parses `url` and checks its form (not its addresses).
    pub fn parse(url: &str) -> Result<Url, GuardError> {
        let parsed = Url::parse(url.trim()).map_err(|err| GuardError::Malformed(err.to_string()))?;
        if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
            return Err(GuardError::Scheme);
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(GuardError::Credentials);
        }
        Ok(parsed)
    }

    /// Parses `url` and checks every address its host resolves to.
    pub async fn check(&self, url: &str) -> Result<Url, GuardError> {
        let parsed = Self::parse(url)?;
        if self.allow_private {
            return Ok(parsed);
        }
        let host = parsed
            .host_str()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_string();
        let port = parsed.port_or_known_default().unwrap_or(443);
        let lookup = tokio::net::lookup_host((host.as_str(), port));
        let addrs: Vec<SocketAddr> = tokio::time::timeout(LOOKUP_TIMEOUT, lookup)
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| GuardError::Unresolvable(host.clone()))?
            .collect();
        if addrs.is_empty() {
            return Err(GuardError::Unresolvable(host));
        }
        match addrs.iter().find(|addr| !is_public(addr.ip())) {
            Some(addr) => Err(GuardError::Private { host, addr: addr.ip() }),
            None => Ok(parsed),
        }
    }

    /// Whether a URL whose host is an address literal may be connected to
    /// (names are checked by the resolver).
    pub fn literal_allowed(&self, url: &Url) -> Result<(), GuardError> {
        let addr = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        if self.allow_private || is_public(addr) {
            Ok(())
        } else {
            Err(GuardError::Private {
                host: addr.to_string(),
                addr,
            })
        }
    }
}

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let kept: Vec<SocketAddr> = found.filter(|addr| allow_private || is_public(addr.ip())).collect();
            if kept.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_reserved_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private} passed");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public} refused");
        }
    }

    #[test]
    fn only_plain_http_urls_without_credentials_pass() {
        assert_eq!(Guard::parse("ftp://example.com/"), Err(GuardError::Scheme));
        assert_eq!(
            Guard::parse("https://user:pw@example.com/"),
            Err(GuardError::Credentials)
        );
        assert!(matches!(Guard::parse("not a url"), Err(GuardError::Malformed(_))));
        assert!(Guard::parse("https://example.com/hooks?x=1").is_ok());
    }

    #[tokio::test]
    async fn loopback_and_metadata_targets_are_refused_unless_allowed() {
        let guard = Guard { allow_private: false };
        for url in [
            "http://127.0.0.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://localhost:8080/",
            "http://[::1]/",
        ] {
            let refused = guard.check(url).await;
            assert!(matches!(refused, Err(GuardError::Private { .. })), "{url}: {refused:?}");
        }
        let url = Guard::parse("http://10.0.0.7/hook").unwrap();
        assert!(guard.literal_allowed(&url).is_err());
        let open = Guard { allow_private: true };
        assert!(open.check("http://127.0.0.1/").await.is_ok());
        assert!(open.literal_allowed(&url).is_ok());
    }

    /// The delivery client resolves through the guard: a name that points
    /// inward by the time of delivery (DNS rebinding) gives no address.
    #[tokio::test]
    async fn the_delivery_resolver_gives_no_inward_address() {
        let name = |host: &str| host.parse::<Name>().unwrap();
        let refused = Guard { allow_private: false }.resolve(name("localhost")).await;
        assert!(refused.is_err(), "localhost resolved for delivery");
        let allowed = Guard { allow_private: true }.resolve(name("localhost")).await;
        assert!(allowed.unwrap().all(|addr| addr.ip().is_loopback()));
    }
}
