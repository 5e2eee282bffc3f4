//! RFC 3263 resolution with a static DNS table, and failover on loopback.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use sip_core::{SipUri, Uri};
use sip_test::msg;
use sip_transport::resolve::{Naptr, Srv, StaticDns, resolve};
use sip_transport::{Config, Transport, Transports};
use transaction_core::Target;

fn sip(s: &str) -> SipUri<'_> {
    match Uri::parse(s).expect("uri") {
        Uri::Sip(u) => u,
        other => panic!("{other:?}"),
    }
}

fn t(transport: Transport, addr: &str) -> Target {
    Target {
        transport,
        addr: addr.parse().expect("addr"),
    }
}

const ALL: [Transport; 3] = [Transport::Udp, Transport::Tcp, Transport::Tls];

fn dns() -> StaticDns {
    let mut d = StaticDns::default();
    let ip = |s: &str| -> IpAddr { s.parse().expect("ip") };
    d.hosts.insert("example.test".into(), vec![ip("192.0.2.1")]);
    d.hosts
        .insert("a.example.test".into(), vec![ip("192.0.2.10")]);
    d.hosts.insert(
        "b.example.test".into(),
        vec![ip("192.0.2.11"), ip("2001:db8::11")],
    );
    d.naptr.insert(
        "naptr.test".into(),
        vec![
            Naptr {
                order: 20,
                preference: 10,
                flags: "s".into(),
                service: "SIP+D2U".into(),
                replacement: "_sip._udp.naptr.test".into(),
            },
            Naptr {
                order: 10,
                preference: 10,
                flags: "s".into(),
                service: "SIPS+D2T".into(),
                replacement: "_sips._tcp.naptr.test".into(),
            },
            Naptr {
                order: 10,
                preference: 5,
                flags: "s".into(),
                service: "SIP+D2X".into(),
                replacement: "_unknown.naptr.test".into(),
            },
        ],
    );
    d.srv.insert(
        "_sips._tcp.naptr.test".into(),
        vec![Srv {
            priority: 1,
            weight: 0,
            port: 5061,
            target: "a.example.test".into(),
        }],
    );
    d.srv.insert(
        "_sip._udp.naptr.test".into(),
        vec![Srv {
            priority: 1,
            weight: 0,
            port: 5062,
            target: "b.example.test".into(),
        }],
    );
    d.srv.insert(
        "_sip._tcp.srv.test".into(),
        vec![
            Srv {
                priority: 20,
                weight: 0,
                port: 5080,
                target: "b.example.test".into(),
            },
            Srv {
                priority: 10,
                weight: 0,
                port: 5070,
                target: "a.example.test.".into(),
            },
        ],
    );
    d
}

#[tokio::test]
async fn numeric_hosts_and_explicit_ports_skip_srv() {
    let d = dns();
    let r = |u: &'static str| {
        let d = d.clone();
        async move { resolve(&sip(u), &d, &ALL, |_| 0).await.expect("resolve") }
    };
    assert_eq!(
        r("sip:192.0.2.5").await,
        vec![t(Transport::Udp, "192.0.2.5:5060")]
    );
    assert_eq!(
        r("sips:[2001:db8::5]").await,
        vec![t(Transport::Tls, "[2001:db8::5]:5061")]
    );
    assert_eq!(
        r("sip:192.0.2.5:5999;transport=tcp").await,
        vec![t(Transport::Tcp, "192.0.2.5:5999")]
    );
    assert_eq!(
        r("sips:192.0.2.5;transport=tcp").await,
        vec![t(Transport::Tls, "192.0.2.5:5061")],
        "sips + tcp = TLS"
    );
    assert_eq!(
        r("sip:example.test:5070").await,
        vec![t(Transport::Udp, "192.0.2.1:5070")],
        "explicit port: A only"
    );
    assert!(
        resolve(&sip("sips:example.test;transport=udp"), &d, &ALL, |_| 0)
            .await
            .is_err(),
        "no sips over UDP"
    );
}

#[tokio::test]
async fn naptr_then_srv_then_addresses() {
    let d = dns();
    // §4.1: NAPTR order then preference; unknown services skipped.
    let got = resolve(&sip("sip:naptr.test"), &d, &ALL, |_| 0)
        .await
        .expect("resolve");
    assert_eq!(
        got,
        vec![
            t(Transport::Tls, "192.0.2.10:5061"),
            t(Transport::Udp, "192.0.2.11:5062"),
            t(Transport::Udp, "[2001:db8::11]:5062")
        ]
    );
    // A sips URI only takes SIPS services.
    let got = resolve(&sip("sips:naptr.test"), &d, &ALL, |_| 0)
        .await
        .expect("resolve");
    assert_eq!(got, vec![t(Transport::Tls, "192.0.2.10:5061")]);
    // Transports we do not support are skipped.
    let got = resolve(&sip("sip:naptr.test"), &d, &[Transport::Udp], |_| 0)
        .await
        .expect("resolve");
    assert_eq!(got[0].transport, Transport::Udp);
}

#[tokio::test]
async fn srv_without_naptr_and_the_a_record_default() {
    let d = dns();
    // No NAPTR: SRV per supported transport; priority order; trailing dot ignored.
    let got = resolve(&sip("sip:srv.test"), &d, &ALL, |_| 0)
        .await
        .expect("resolve");
    assert_eq!(got[0], t(Transport::Tcp, "192.0.2.10:5070"));
    assert_eq!(got[1], t(Transport::Tcp, "192.0.2.11:5080"));
    // Nothing but an A record: UDP (TLS for sips) on the default port.
    assert_eq!(
        resolve(&sip("sip:example.test"), &d, &ALL, |_| 0)
            .await
            .expect("r"),
        vec![t(Transport::Udp, "192.0.2.1:5060")]
    );
    assert_eq!(
        resolve(&sip("sips:example.test"), &d, &ALL, |_| 0)
            .await
            .expect("r"),
        vec![t(Transport::Tls, "192.0.2.1:5061")]
    );
    assert!(
        resolve(&sip("sip:nowhere.test"), &d, &ALL, |_| 0)
            .await
            .expect("r")
            .is_empty()
    );
}

#[tokio::test]
async fn fails_over_from_a_dead_srv_target_to_the_next() {
    let mut live = Transports::bind(Config::loopback()).await.expect("live");
    let live_port = live.local_addr(Transport::Tcp).expect("tcp").port();
    let dead_port = sip_test::net::closed_tcp_port();
    let mut d = StaticDns::default();
    d.hosts.insert(
        "dead.example.test".into(),
        vec!["127.0.0.1".parse().expect("ip")],
    );
    d.hosts.insert(
        "live.example.test".into(),
        vec!["127.0.0.1".parse().expect("ip")],
    );
    d.srv.insert(
        "_sip._tcp.failover.test".into(),
        vec![
            Srv {
                priority: 10,
                weight: 0,
                port: dead_port,
                target: "dead.example.test".into(),
            },
            Srv {
                priority: 20,
                weight: 0,
                port: live_port,
                target: "live.example.test".into(),
            },
        ],
    );
    let targets = resolve(
        &sip("sip:failover.test;transport=tcp"),
        &d,
        &[Transport::Tcp],
        |_| 0,
    )
    .await
    .expect("resolve");
    assert_eq!(targets.len(), 2);
    assert_eq!(
        targets[0].addr.port(),
        dead_port,
        "the dead target comes first by priority"
    );
    let client = Transports::bind(Config::loopback()).await.expect("client");
    let used = client
        .send_with_failover(
            &targets,
            msg::options("failover@example.com", "a").to_bytes(),
        )
        .await
        .expect("some target works");
    assert_eq!(used.addr, SocketAddr::from(([127, 0, 0, 1], live_port)));
    let rx = tokio::time::timeout(Duration::from_secs(5), live.recv())
        .await
        .expect("in time")
        .expect("open");
    assert_eq!(rx.message.call_id(), Some("failover@example.com"));
}

#[tokio::test]
async fn the_system_resolver_answers_from_the_hosts_file() {
    // No network here: /etc/hosts is the one source every machine has.
    use sip_transport::resolve::{HickoryDns, Resolver};
    let dns = HickoryDns::from_system().expect("system resolver");
    let ips = dns.ip("localhost").await.expect("lookup");
    assert!(ips.iter().any(|ip| ip.is_loopback()), "{ips:?}");
    let targets = resolve(&sip("sip:localhost:5070"), &dns, &ALL, |_| 0)
        .await
        .expect("resolve");
    assert!(
        targets
            .iter()
            .any(|t| t.addr.ip().is_loopback() && t.addr.port() == 5070)
    );
}
