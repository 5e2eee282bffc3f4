//! RFC 3263 §4: from a SIP URI to an ordered list of (transport, address,
//! port) targets — NAPTR, then SRV (priority, weighted random per RFC 2782),
//! then A/AAAA, with the defaults when records are missing and `sips`
//! forcing TLS. The DNS is behind [`Resolver`]; [`StaticDns`] answers from a table
//! (tests, offline use).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};

use sip_core::{Host, SipUri};
use transaction_core::Target;

use crate::Transport;

/// A NAPTR record (RFC 3403) as RFC 3263 uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Naptr {
    /// Lower first.
    pub order: u16,
    /// Lower first among equal order.
    pub preference: u16,
    /// `s` for SRV.
    pub flags: String,
    /// `SIP+D2U`, `SIP+D2T`, `SIPS+D2T`, `SIP+D2W`, `SIPS+D2W`, ...
    pub service: String,
    /// The SRV name to query.
    pub replacement: String,
}

/// An SRV record (RFC 2782).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Srv {
    /// Lower first.
    pub priority: u16,
    /// Relative weight among equal priority.
    pub weight: u16,
    /// Port.
    pub port: u16,
    /// Host name.
    pub target: String,
}

/// The DNS lookups RFC 3263 needs (NAPTR, SRV, A/AAAA); an empty answer
/// means "no records". [`StaticDns`] and [`HickoryDns`] implement it.
pub trait Resolver: Send + Sync {
    /// NAPTR records of a domain.
    fn naptr(&self, domain: &str) -> impl Future<Output = io::Result<Vec<Naptr>>> + Send;
    /// SRV records of a name such as `_sip._udp.example.com`.
    fn srv(&self, name: &str) -> impl Future<Output = io::Result<Vec<Srv>>> + Send;
    /// A and AAAA records of a host.
    fn ip(&self, host: &str) -> impl Future<Output = io::Result<Vec<IpAddr>>> + Send;
}

/// A DNS answered from tables.
#[derive(Clone, Debug, Default)]
pub struct StaticDns {
    /// NAPTR records by domain.
    pub naptr: HashMap<String, Vec<Naptr>>,
    /// SRV records by name.
    pub srv: HashMap<String, Vec<Srv>>,
    /// Addresses by host name.
    pub hosts: HashMap<String, Vec<IpAddr>>,
}

impl Resolver for StaticDns {
    async fn naptr(&self, domain: &str) -> io::Result<Vec<Naptr>> {
        Ok(self
            .naptr
            .get(&domain.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default())
    }
    async fn srv(&self, name: &str) -> io::Result<Vec<Srv>> {
        Ok(self
            .srv
            .get(&name.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default())
    }
    async fn ip(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        Ok(self
            .hosts
            .get(&host.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default())
    }
}

fn service_transport(service: &str) -> Option<(Transport, bool)> {
    Some(match service.to_ascii_uppercase().as_str() {
        "SIP+D2U" => (Transport::Udp, false),
        "SIP+D2T" => (Transport::Tcp, false),
        "SIPS+D2T" => (Transport::Tls, true),
        "SIP+D2W" => (Transport::Ws, false),
        "SIPS+D2W" => (Transport::Wss, true),
        _ => return None,
    })
}

fn srv_prefix(transport: Transport, secure: bool) -> &'static str {
    match (transport, secure) {
        (Transport::Udp, _) => "_sip._udp",
        (Transport::Tls, _) | (Transport::Tcp, true) => "_sips._tcp",
        (Transport::Tcp, false) => "_sip._tcp",
        (Transport::Wss, _) | (Transport::Ws, true) => "_sips._ws",
        (Transport::Ws, false) => "_sip._ws",
        (Transport::Sctp, _) => "_sip._sctp",
    }
}

fn default_port(transport: Transport) -> u16 {
    match transport {
        Transport::Tls | Transport::Wss => 5061,
        _ => 5060,
    }
}

/// Orders SRV records: by priority, and within a priority by RFC 2782's
/// weighted random selection (`pick` returns a value in `0..=total`).
pub fn order_srv(mut records: Vec<Srv>, mut pick: impl FnMut(u32) -> u32) -> Vec<Srv> {
    records.sort_by_key(|r| r.priority);
    let mut out = Vec::with_capacity(records.len());
    let mut i = 0;
    while i < records.len() {
        let prio = records[i].priority;
        let mut group: Vec<Srv> = records[i..]
            .iter()
            .take_while(|r| r.priority == prio)
            .cloned()
            .collect();
        i += group.len();
        // Zero-weight records first, as RFC 2782 suggests, so they get a small chance.
        group.sort_by_key(|r| r.weight != 0);
        while !group.is_empty() {
            let total: u32 = group.iter().map(|r| u32::from(r.weight)).sum();
            let target = pick(total).min(total);
            let mut running = 0;
            let idx = group
                .iter()
                .position(|r| {
                    running += u32::from(r.weight);
                    running >= target
                })
                .unwrap_or(0);
            out.push(group.remove(idx));
        }
    }
    out
}

/// Resolves a SIP or SIPS URI to the ordered targets to try (RFC 3263 §4.1,
/// §4.2). `supported` lists the transports we can use, in our preference.
pub async fn resolve(
    uri: &SipUri<'_>,
    dns: &impl Resolver,
    supported: &[Transport],
    mut pick: impl FnMut(u32) -> u32,
) -> io::Result<Vec<Target>> {
    let secure = uri.secure;
    let usable = |t: Transport| {
        supported.contains(&t) && (!secure || matches!(t, Transport::Tls | Transport::Wss))
    };
    let explicit = match uri.transport() {
        Some(p) => {
            let t = Transport::from_via(p).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("unknown transport {p}"),
                )
            })?;
            // sips over "tcp" means TLS; sips over UDP does not exist.
            Some(match (secure, t) {
                (true, Transport::Tcp) => Transport::Tls,
                (true, Transport::Ws) => Transport::Wss,
                (true, Transport::Udp) => {
                    return Err(io::Error::new(io::ErrorKind::InvalidInput, "sips over UDP"));
                }
                (_, t) => t,
            })
        }
        None => None,
    };
    let fallback = if secure {
        Transport::Tls
    } else {
        Transport::Udp
    };
    // §4.1/§4.2: a numeric host needs no DNS at all.
    let numeric = match uri.host {
        Host::V4(a) => Some(IpAddr::V4(a)),
        Host::V6(a) => Some(IpAddr::V6(a)),
        Host::Name(_) => None,
    };
    if let Some(ip) = numeric {
        let t = explicit.unwrap_or(fallback);
        return Ok(vec![Target {
            transport: t,
            addr: SocketAddr::new(ip, uri.port.unwrap_or(default_port(t))),
        }]);
    }
    let Host::Name(domain) = uri.host else {
        return Ok(Vec::new());
    };
    // An explicit port means A/AAAA only.
    if let Some(port) = uri.port {
        let t = explicit.unwrap_or(fallback);
        return Ok(dns
            .ip(domain)
            .await?
            .into_iter()
            .map(|ip| Target {
                transport: t,
                addr: SocketAddr::new(ip, port),
            })
            .collect());
    }
    // Which SRV names to query, in order.
    let mut srv_names: Vec<(Transport, String)> = Vec::new();
    match explicit {
        Some(t) => srv_names.push((t, format!("{}.{domain}", srv_prefix(t, secure)))),
        None => {
            let mut naptrs: Vec<Naptr> = dns
                .naptr(domain)
                .await?
                .into_iter()
                .filter(|n| n.flags.eq_ignore_ascii_case("s"))
                .filter(|n| {
                    service_transport(&n.service).is_some_and(|(t, s)| usable(t) && (s || !secure))
                })
                .collect();
            naptrs.sort_by_key(|n| (n.order, n.preference));
            for n in naptrs {
                if let Some((t, _)) = service_transport(&n.service) {
                    srv_names.push((t, n.replacement.trim_end_matches('.').to_owned()));
                }
            }
            if srv_names.is_empty() {
                for &t in supported {
                    if usable(t) {
                        srv_names.push((t, format!("{}.{domain}", srv_prefix(t, secure))));
                    }
                }
            }
        }
    }
    let mut targets = Vec::new();
    for (t, name) in &srv_names {
        for srv in order_srv(dns.srv(name).await?, &mut pick) {
            for ip in dns.ip(srv.target.trim_end_matches('.')).await? {
                targets.push(Target {
                    transport: *t,
                    addr: SocketAddr::new(ip, srv.port),
                });
            }
        }
    }
    if targets.is_empty() {
        // No SRV: the domain's own addresses on the default port.
        let t = explicit.unwrap_or(fallback);
        targets = dns
            .ip(domain)
            .await?
            .into_iter()
            .map(|ip| Target {
                transport: t,
                addr: SocketAddr::new(ip, default_port(t)),
            })
            .collect();
    }
    Ok(targets)
}

/// The system's DNS (from `/etc/resolv.conf` and `/etc/hosts`), via hickory.
pub struct HickoryDns {
    resolver: hickory_resolver::TokioResolver,
}

impl HickoryDns {
    /// A resolver configured like the host system.
    pub fn from_system() -> io::Result<HickoryDns> {
        let resolver = hickory_resolver::TokioResolver::builder_tokio()
            .map_err(io::Error::other)?
            .build()
            .map_err(io::Error::other)?;
        Ok(HickoryDns { resolver })
    }

    async fn records(
        &self,
        name: &str,
        rtype: hickory_resolver::proto::rr::RecordType,
    ) -> io::Result<Vec<hickory_resolver::proto::rr::RData>> {
        match self.resolver.lookup(name, rtype).await {
            Ok(lookup) => Ok(lookup.answers().iter().map(|r| r.data.clone()).collect()),
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
            Err(e) => Err(io::Error::other(e)),
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Resolver for HickoryDns {
    async fn naptr(&self, domain: &str) -> io::Result<Vec<Naptr>> {
        use hickory_resolver::proto::rr::{RData, RecordType};
        Ok(self
            .records(domain, RecordType::NAPTR)
            .await?
            .into_iter()
            .filter_map(|d| match d {
                RData::NAPTR(n) => Some(Naptr {
                    order: n.order,
                    preference: n.preference,
                    flags: text(&n.flags),
                    service: text(&n.services),
                    replacement: n.replacement.to_utf8(),
                }),
                _ => None,
            })
            .collect())
    }

    async fn srv(&self, name: &str) -> io::Result<Vec<Srv>> {
        use hickory_resolver::proto::rr::{RData, RecordType};
        Ok(self
            .records(name, RecordType::SRV)
            .await?
            .into_iter()
            .filter_map(|d| match d {
                RData::SRV(s) => Some(Srv {
                    priority: s.priority,
                    weight: s.weight,
                    port: s.port,
                    target: s.target.to_utf8(),
                }),
                _ => None,
            })
            .collect())
    }

    async fn ip(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        match self.resolver.lookup_ip(host).await {
            Ok(ips) => Ok(ips.iter().collect()),
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
            Err(e) => Err(io::Error::other(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srv_order_and_weights() {
        let rec = |p, w, t: &str| Srv {
            priority: p,
            weight: w,
            port: 5060,
            target: t.into(),
        };
        let records = vec![rec(20, 0, "c"), rec(10, 90, "a"), rec(10, 10, "b")];
        // pick=total: the last record by running sum within the group is chosen first.
        let ordered = order_srv(records.clone(), |total| total);
        assert_eq!(
            ordered
                .iter()
                .map(|r| r.target.as_str())
                .collect::<Vec<_>>(),
            vec!["b", "a", "c"]
        );
        let ordered = order_srv(records, |_| 1);
        assert_eq!(
            ordered
                .iter()
                .map(|r| r.target.as_str())
                .collect::<Vec<_>>(),
            vec!["a", "b", "c"]
        );
        // Over many draws the weights show: "a" (90) is first about 90% of the time.
        let mut rng = sip_test::Rng::new(3);
        let mut a_first = 0;
        for _ in 0..1000 {
            let o = order_srv(vec![rec(10, 90, "a"), rec(10, 10, "b")], |total| {
                (rng.next_u64() % (u64::from(total) + 1)) as u32
            });
            a_first += (o[0].target == "a") as u32;
        }
        assert!((850..950).contains(&a_first), "{a_first}");
    }
}
